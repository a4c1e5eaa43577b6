import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';
import { DAY_MS, HOUR_MS } from './support/time';

function expectFieldError(res: Reply, field: string) {
  expect({ status: res.status, text: res.text.slice(0, 300) }).toEqual({ status: 400, text: expect.any(String) });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

describe('reading credits: own for agents, all for auditors (e2e)', () => {
  let t: TestApp;
  let agentA: TestUser;
  let agentB: TestUser;
  let auditor: TestUser;
  let leader: TestUser;
  let finance: TestUser;
  /** A's credits with the instant each occurred, oldest first. */
  const aCredits: Array<{ id: string; occurredAt: string }> = [];
  const bCredits: string[] = [];
  /** Noon UTC five days ago: the credits are placed on whole days after it. */
  const base = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 5 * DAY_MS + 12 * HOUR_MS);
  const dayAt = (days: number) => new Date(base.getTime() + days * DAY_MS).toISOString();

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    auditor = await createUser(t, ['auditor']);
    const roleId = await createRole(t);
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 5000 }]);
    agentA = await createUser(t, ['agent'], { roleId });
    agentB = await createUser(t, ['agent'], { roleId });
    // A: one credit on each of days 0..4, and two more right now; B: three credits.
    for (const occurredAt of [dayAt(0), dayAt(1), dayAt(2), dayAt(3), dayAt(4), undefined, undefined]) {
      const res = await postCredit(t, agentA.token, creditBody({ amount: 100 + aCredits.length, occurredAt }));
      expect(res.status).toBe(201);
      aCredits.push({ id: res.body.id, occurredAt: res.body.occurredAt });
    }
    for (let i = 0; i < 3; i++) {
      const res = await postCredit(t, agentB.token, creditBody({ amount: 500 + i, occurredAt: dayAt(i + 1) }));
      expect(res.status).toBe(201);
      bCredits.push(res.body.id);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  const ids = (res: Reply) => res.body.data.map((c: { id: string }) => c.id);

  async function walk(token: string, query: string, limit: number): Promise<{ ids: string[]; pages: Reply[] }> {
    const pages: Reply[] = [];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const sep = query ? '&' : '';
      const res: Reply = await t
        .as(token)
        .get(`/v1/credits?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      pages.push(res);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor);
    return { ids: seen, pages };
  }

  async function readEvents(actorId: string) {
    return t.query<{ subject_id: string | null; details: any }>(
      `SELECT subject_id, details FROM audit_events WHERE action = 'credit.read' AND actor_id = $1 ORDER BY id`,
      [actorId],
    );
  }

  describe('agents', () => {
    it('list only their own credits, newest recorded first', async () => {
      const res = await t.as(agentA.token).get('/v1/credits');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      expect(ids(res)).toEqual(aCredits.map((c) => c.id).reverse());
      for (const c of res.body.data) expect(c.agentId).toBe(agentA.id);
      const recorded = res.body.data.map((c: { recordedAt: string }) => Date.parse(c.recordedAt));
      expect(recorded).toEqual([...recorded].sort((x, y) => y - x));
      const other = await t.as(agentB.token).get('/v1/credits');
      expect(new Set(ids(other))).toEqual(new Set(bCredits));
    });

    it('get their own credit; another agent’s credit is 404', async () => {
      const own = await t.as(agentA.token).get(`/v1/credits/${aCredits[0].id}`);
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ id: aCredits[0].id, agentId: agentA.id, amount: 100 });
      const theirs = await t.as(agentA.token).get(`/v1/credits/${bCredits[0]}`);
      expect(theirs.status).toBe(404);
      expect(String(theirs.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(theirs.text).not.toContain(agentB.id);
      expect((await t.as(agentA.token).get(`/v1/credits/${randomUUID()}`)).status).toBe(404);
    });

    it('may name themselves as agentId, but asking for another agent is 403', async () => {
      const self = await t.as(agentA.token).get(`/v1/credits?agentId=${agentA.id}`);
      expect(self.status).toBe(200);
      expect(ids(self)).toHaveLength(aCredits.length);
      const other = await t.as(agentA.token).get(`/v1/credits?agentId=${agentB.id}`);
      expect(other.status).toBe(403);
      expect(other.text).not.toContain(bCredits[0]);
      // Naming an agent by reference is for auditors only.
      expect((await t.as(agentA.token).get(`/v1/credits?agentRef=anyone`)).status).toBe(403);
    });

    it('filter by from (inclusive) and to (exclusive) on occurredAt, as date-times or dates', async () => {
      const res = await t
        .as(agentA.token)
        .get(`/v1/credits?from=${encodeURIComponent(dayAt(1))}&to=${encodeURIComponent(dayAt(3))}`);
      expect(res.status).toBe(200);
      expect(new Set(ids(res))).toEqual(new Set([aCredits[1].id, aCredits[2].id]));

      const fromDay = dayAt(2).slice(0, 10);
      const onlyFrom = await t.as(agentA.token).get(`/v1/credits?from=${fromDay}`);
      expect(new Set(ids(onlyFrom))).toEqual(new Set(aCredits.slice(2).map((c) => c.id)));

      const toDay = dayAt(2).slice(0, 10);
      const onlyTo = await t.as(agentA.token).get(`/v1/credits?to=${toDay}`);
      expect(new Set(ids(onlyTo))).toEqual(new Set([aCredits[0].id, aCredits[1].id]));

      // The filters are on occurredAt: every returned credit lies inside.
      for (const c of res.body.data) {
        expect(Date.parse(c.occurredAt)).toBeGreaterThanOrEqual(Date.parse(dayAt(1)));
        expect(Date.parse(c.occurredAt)).toBeLessThan(Date.parse(dayAt(3)));
      }
    });

    it('refuse bad filters with 400 naming the parameter', async () => {
      expectFieldError(await t.as(agentA.token).get('/v1/credits?from=yesterday'), 'from');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?to=2026-13-01'), 'to');
      expectFieldError(
        await t.as(agentA.token).get(`/v1/credits?from=${dayAt(3).slice(0, 10)}&to=${dayAt(1).slice(0, 10)}`),
        'to',
      );
      expectFieldError(await t.as(agentA.token).get('/v1/credits?limit=0'), 'limit');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?limit=201'), 'limit');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?limit=2.5'), 'limit');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?cursor=not-a-cursor'), 'cursor');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?agentId=nobody'), 'agentId');
      expectFieldError(await t.as(agentA.token).get('/v1/credits?sort=amount'), 'sort');
    });

    it('pagination with limit and cursor walks every credit exactly once', async () => {
      for (const limit of [1, 2, 3, 7, 8]) {
        const { ids: seen, pages } = await walk(agentA.token, '', limit);
        expect(seen).toEqual(aCredits.map((c) => c.id).reverse());
        expect(pages).toHaveLength(Math.max(1, Math.ceil(aCredits.length / limit)));
        expect(pages[pages.length - 1].body.nextCursor).toBeNull();
      }
    });

    it('pagination walks credits logged at the same moment exactly once', async () => {
      const busy = await createUser(t, ['agent']);
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => postCredit(t, busy.token, creditBody({ amount: 10 + i }))),
      );
      expect(replies.map((r) => r.status)).toEqual(Array(12).fill(201));
      const everything = await t.as(busy.token).get('/v1/credits?limit=200');
      expect(new Set(ids(everything))).toEqual(new Set(replies.map((r) => r.body.id)));
      for (const limit of [1, 5]) {
        const { ids: seen } = await walk(busy.token, '', limit);
        expect(seen).toEqual(ids(everything));
      }
    });

    it('pagination keeps the filters on every page', async () => {
      const { ids: seen } = await walk(agentA.token, `from=${encodeURIComponent(dayAt(1))}`, 2);
      expect(seen).toEqual(
        aCredits
          .slice(1)
          .map((c) => c.id)
          .reverse(),
      );
    });
  });

  describe('auditors', () => {
    it('see every agent’s credits and can filter by agentId', async () => {
      const all = await t.as(auditor.token).get('/v1/credits?limit=200');
      expect(all.status).toBe(200);
      const stored = await t.query<{ id: string }>(`SELECT id FROM credits`);
      expect(new Set(ids(all))).toEqual(new Set(stored.map((r) => r.id)));
      expect(ids(all)).toEqual(expect.arrayContaining([...aCredits.map((c) => c.id), ...bCredits]));
      const onlyB = await t.as(auditor.token).get(`/v1/credits?agentId=${agentB.id}`);
      expect(new Set(ids(onlyB))).toEqual(new Set(bCredits));
      for (const c of onlyB.body.data) expect(c.agentId).toBe(agentB.id);
      // By the reference the helpdesk knows the agent by: the same credits, and the search is audited.
      await t.query(`UPDATE users SET external_ref = 'agent-b@example.com' WHERE id = $1`, [agentB.id]);
      const byRef = await t.as(auditor.token).get(`/v1/credits?agentRef=agent-b@example.com`);
      expect(new Set(ids(byRef))).toEqual(new Set(bCredits));
      const [audited] = await t.query<{ details: { filters: Record<string, unknown> } }>(
        `SELECT details FROM audit_events WHERE actor_id = $1 AND action = 'credit.read' ORDER BY id DESC LIMIT 1`,
        [auditor.id],
      );
      expect(audited.details.filters).toMatchObject({ agentId: null, agentRef: 'agent-b@example.com' });
      expect(ids(await t.as(auditor.token).get(`/v1/credits?agentRef=nobody@example.com`))).toEqual([]);
      const single = await t.as(auditor.token).get(`/v1/credits/${aCredits[3].id}`);
      expect(single.status).toBe(200);
      expect(single.body).toMatchObject({ id: aCredits[3].id, agentId: agentA.id });
      const { ids: walked } = await walk(auditor.token, `agentId=${agentA.id}`, 3);
      expect(walked).toEqual(aCredits.map((c) => c.id).reverse());
    });

    it('every read, list page or single credit, writes one audit event naming what was read', async () => {
      const before = (await readEvents(auditor.id)).length;

      const list = await t.as(auditor.token).get(`/v1/credits?agentId=${agentB.id}&limit=2`);
      expect(list.status).toBe(200);
      let events = await readEvents(auditor.id);
      expect(events).toHaveLength(before + 1);
      expect(events[events.length - 1]).toEqual({
        subject_id: null,
        details: { filters: { agentId: agentB.id, agentRef: null, from: null, to: null }, creditIds: ids(list) },
      });

      const next = await t
        .as(auditor.token)
        .get(`/v1/credits?agentId=${agentB.id}&limit=2&cursor=${list.body.nextCursor}`);
      expect(next.status).toBe(200);
      events = await readEvents(auditor.id);
      expect(events).toHaveLength(before + 2);
      expect(events[events.length - 1].details.creditIds).toEqual(ids(next));

      const single = await t.as(auditor.token).get(`/v1/credits/${bCredits[1]}`);
      expect(single.status).toBe(200);
      events = await readEvents(auditor.id);
      expect(events).toHaveLength(before + 3);
      expect(events[events.length - 1]).toEqual({ subject_id: bCredits[1], details: { agentId: agentB.id } });

      // The admin sees these reads in the audit log, with the auditor as actor.
      const audit = await t.as(ADMIN_TOKEN).get('/v1/audit?action=credit.read&limit=3');
      expect(audit.status).toBe(200);
      expect(audit.body.data).toHaveLength(3);
      for (const e of audit.body.data) {
        expect(e).toMatchObject({ actorId: auditor.id, action: 'credit.read', subjectType: 'credit' });
      }
      expect(audit.body.data[0].subjectId).toBe(bCredits[1]);
    });

    it('an auditor who is also an agent reads their own credits as any agent does: not an audited read', async () => {
      const both = await createUser(t, ['agent', 'auditor']);
      const own = await postCredit(t, both.token, creditBody({ amount: 700 }));
      expect(own.status).toBe(201);
      const before = (await readEvents(both.id)).length;
      const mine = await t.as(both.token).get(`/v1/credits?agentId=${both.id}`);
      expect(ids(mine)).toEqual([own.body.id]);
      expect(await readEvents(both.id)).toHaveLength(before);
      // Anyone else's, or everyone's, is an auditor's read, and is audited.
      await t.as(both.token).get(`/v1/credits?agentId=${agentB.id}`);
      await t.as(both.token).get(`/v1/credits`);
      expect(await readEvents(both.id)).toHaveLength(before + 2);
    });

    it('an auditor’s read of a credit that does not exist is 404', async () => {
      const res = await t.as(auditor.token).get(`/v1/credits/${randomUUID()}`);
      expect(res.status).toBe(404);
    });

    it('agents’ own reads are not audit events', async () => {
      const before = await t.query(`SELECT count(*)::int AS n FROM audit_events`);
      await t.as(agentA.token).get('/v1/credits');
      await t.as(agentA.token).get(`/v1/credits/${aCredits[0].id}`);
      expect(await t.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual(before);
    });
  });

  describe('leader, finance and admin', () => {
    it('get 403 for the credit list and for a single credit', async () => {
      for (const token of [leader.token, finance.token, ADMIN_TOKEN]) {
        for (const url of ['/v1/credits', `/v1/credits/${aCredits[0].id}`, `/v1/credits?agentId=${agentA.id}`]) {
          const res = await t.as(token).get(url);
          expect({ url, status: res.status }).toEqual({ url, status: 403 });
          expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
          expect(res.body.data).toBeUndefined();
          expect(res.body.agentId).toBeUndefined();
          expect(res.text).not.toContain(agentA.id);
        }
      }
    });
  });
});
