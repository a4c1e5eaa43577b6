import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';

/**
 * Discretion limits per job role (versioned, never edited in place) and the reason catalogue.
 */
describe('job-role limits and the reason catalogue (e2e)', () => {
  let t: TestApp;
  let leader: TestUser;
  let otherLeader: TestUser;
  let finance: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    otherLeader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
  });

  afterAll(async () => {
    await t?.close();
  });

  function expectFieldError(res: Reply, field: string) {
    expect({ status: res.status, type: res.headers['content-type'] }).toEqual({
      status: 400,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    expect(res.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.any(String) });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  }

  async function roleInList(roleId: string): Promise<any> {
    let cursor: string | null = null;
    do {
      const res: Reply = await t.as(ADMIN_TOKEN).get(`/v1/roles?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const found = res.body.data.find((r: { id: string }) => r.id === roleId);
      if (found) return found;
      cursor = res.body.nextCursor;
    } while (cursor);
    return undefined;
  }

  async function versionsOf(roleId: string) {
    return t.query<{ versions: number; rows: number; current: number }>(
      `SELECT (SELECT count(*)::int FROM role_limit_versions WHERE role_id = $1) AS versions,
              (SELECT count(*)::int FROM role_limits WHERE role_id = $1) AS rows,
              (SELECT current_limits_version FROM roles WHERE id = $1) AS current`,
      [roleId],
    );
  }

  describe('PUT /v1/roles/:id/limits', () => {
    it('creates a new version on every change, with who and when', async () => {
      const roleId = await createRole(t);
      const before = Date.now();
      const first = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, {
        limits: [
          { currency: 'USD', perCredit: 2500 },
          { currency: 'EUR', perCredit: 5000, perCase: 10000, perAgentDay: 20000, perAgentMonth: 200000 },
        ],
      });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        roleId,
        version: 1,
        limits: [
          { currency: 'EUR', perCredit: 5000, perCase: 10000, perAgentDay: 20000, perAgentMonth: 200000 },
          { currency: 'USD', perCredit: 2500, perCase: null, perAgentDay: null, perAgentMonth: null },
        ],
        setBy: leader.id,
        setByName: expect.any(String),
        setAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
      });
      expect(Date.parse(first.body.setAt)).toBeGreaterThanOrEqual(before - 5000);
      expect(Date.parse(first.body.setAt)).toBeLessThanOrEqual(Date.now() + 5000);

      const second = await t.as(otherLeader.token).put(`/v1/roles/${roleId}/limits`, {
        limits: [{ currency: 'EUR', perCredit: 7000 }],
      });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({
        roleId,
        version: 2,
        limits: [{ currency: 'EUR', perCredit: 7000, perCase: null, perAgentDay: null, perAgentMonth: null }],
        setBy: otherLeader.id,
      });
      expect(Date.parse(second.body.setAt)).toBeGreaterThanOrEqual(Date.parse(first.body.setAt));

      // The same limits again still make a version: every change is on the record.
      const third = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, {
        limits: [{ currency: 'EUR', perCredit: 7000 }],
      });
      expect(third.body.version).toBe(3);

      const [stored] = await versionsOf(roleId);
      expect(stored).toEqual({ versions: 3, rows: 2 + 1 + 1, current: 3 });
      // Version 1's rows are untouched by later versions.
      const v1 = await t.query(
        `SELECT currency, per_credit::int AS per_credit FROM role_limits WHERE role_id = $1 AND version = 1 ORDER BY currency`,
        [roleId],
      );
      expect(v1).toEqual([
        { currency: 'EUR', per_credit: 5000 },
        { currency: 'USD', per_credit: 2500 },
      ]);
    });

    it('history returns every version, newest first, with who and when; leader and finance may read it', async () => {
      const roleId = await createRole(t);
      const set = [
        await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 1000 }]),
        await setLimits(t, otherLeader.token, roleId, [{ currency: 'EUR', perCredit: 2000, perAgentDay: 5000 }]),
        await setLimits(t, leader.token, roleId, []),
        await setLimits(t, leader.token, roleId, [{ currency: 'GBP', perAgentMonth: 90000 }]),
      ];
      for (const token of [leader.token, finance.token]) {
        const res = await t.as(token).get(`/v1/roles/${roleId}/limits/history`);
        expect(res.status).toBe(200);
        expect(res.body.nextCursor).toBeNull();
        expect(res.body.data).toEqual([...set].reverse());
      }
      expect(set.map((v) => v.setBy)).toEqual([leader.id, otherLeader.id, leader.id, leader.id]);
      expect(set[2].limits).toEqual([]);

      // Paging one version at a time walks the same versions exactly once.
      const walked: number[] = [];
      let cursor: string | null = null;
      do {
        const res: Reply = await t
          .as(finance.token)
          .get(`/v1/roles/${roleId}/limits/history?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.data).toHaveLength(1);
        walked.push(res.body.data[0].version);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(walked).toEqual([4, 3, 2, 1]);

      // A role that never had limits has an empty history.
      const fresh = await createRole(t);
      const empty = await t.as(leader.token).get(`/v1/roles/${fresh}/limits/history`);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ data: [], nextCursor: null });
    });

    it('history is refused to agent, auditor and admin-only callers', async () => {
      const roleId = await createRole(t);
      for (const access of [['agent'], ['auditor'], ['admin']] as const) {
        const user = await createUser(t, [...access]);
        const res = await t.as(user.token).get(`/v1/roles/${roleId}/limits/history`);
        expect(res.status).toBe(403);
      }
    });

    it('only a leader may set limits (admin, finance and agent get 403; nothing changes)', async () => {
      const roleId = await createRole(t);
      const agent = await createUser(t, ['agent']);
      for (const token of [undefined, finance.token, agent.token]) {
        const res =
          token === undefined
            ? await t.request('PUT', `/v1/roles/${roleId}/limits`, { body: { limits: [{ currency: 'EUR' }] } })
            : await t.as(token).put(`/v1/roles/${roleId}/limits`, { limits: [{ currency: 'EUR' }] });
        expect(res.status).toBe(403);
      }
      expect((await versionsOf(roleId))[0]).toEqual({ versions: 0, rows: 0, current: 0 });
    });

    it('GET /v1/roles shows the current limits and their version', async () => {
      const name = `Store lead ${randomUUID().slice(0, 8)}`;
      const roleId = await createRole(t, name);
      const bare = await roleInList(roleId);
      expect(bare).toMatchObject({ id: roleId, name, limitsVersion: 0, limits: [] });

      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 100 }]);
      await setLimits(t, leader.token, roleId, [
        { currency: 'SEK', perCase: 80000 },
        { currency: 'EUR', perCredit: 300, perAgentDay: 900 },
      ]);
      const listed = await roleInList(roleId);
      expect(listed).toEqual({
        id: roleId,
        name,
        description: null,
        limitsVersion: 2,
        limits: [
          { currency: 'EUR', perCredit: 300, perCase: null, perAgentDay: 900, perAgentMonth: null },
          { currency: 'SEK', perCredit: null, perCase: 80000, perAgentDay: null, perAgentMonth: null },
        ],
        createdAt: expect.any(String),
      });
      // Any signed-in caller may list roles.
      const agent = await createUser(t, ['agent']);
      const asAgent = await t.as(agent.token).get('/v1/roles?limit=200');
      expect(asAgent.status).toBe(200);
    });

    it('accepts zero and the largest limit, and explicit nulls as "no limit"', async () => {
      const roleId = await createRole(t);
      const res = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, {
        limits: [{ currency: 'EUR', perCredit: 0, perCase: null, perAgentDay: 10 ** 15, perAgentMonth: undefined }],
      });
      expect(res.status).toBe(200);
      expect(res.body.limits).toEqual([
        { currency: 'EUR', perCredit: 0, perCase: null, perAgentDay: 10 ** 15, perAgentMonth: null },
      ]);
    });

    it.each([
      ['a currency that is not ISO 4217', [{ currency: 'ABC', perCredit: 100 }], 'limits.0.currency'],
      ['a lower-case currency', [{ currency: 'eur', perCredit: 100 }], 'limits.0.currency'],
      ['the XXX "no currency" code', [{ currency: 'XXX', perCredit: 100 }], 'limits.0.currency'],
      ['a missing currency', [{ perCredit: 100 }], 'limits.0.currency'],
      ['a non-integer limit', [{ currency: 'EUR', perCredit: 10.5 }], 'limits.0.perCredit'],
      ['a limit sent as a string', [{ currency: 'EUR', perCase: '100' }], 'limits.0.perCase'],
      ['a negative limit', [{ currency: 'EUR', perAgentDay: -1 }], 'limits.0.perAgentDay'],
      ['an unsafe integer limit', [{ currency: 'EUR', perAgentMonth: 2 ** 53 + 2 }], 'limits.0.perAgentMonth'],
      ['an unknown field in a limit', [{ currency: 'EUR', perWeek: 100 }], 'limits.0.perWeek'],
      [
        'the same currency twice in one request',
        [
          { currency: 'EUR', perCredit: 100 },
          { currency: 'EUR', perCredit: 200 },
        ],
        'limits.1.currency',
      ],
      ['a second entry that is wrong', [{ currency: 'EUR' }, { currency: 'USD', perCredit: -5 }], 'limits.1.perCredit'],
    ])('%s → 400 naming the field, and no new version', async (_what, limits, field) => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 1 }]);
      const res = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, { limits });
      expectFieldError(res, field);
      expect((await versionsOf(roleId))[0]).toEqual({ versions: 1, rows: 1, current: 1 });
    });

    it.each([
      ['limits missing', {}, 'limits'],
      ['limits not an array', { limits: { currency: 'EUR' } }, 'limits'],
      ['an unknown top-level field', { limits: [], effectiveFrom: '2026-01-01' }, 'effectiveFrom'],
    ])('%s → 400 naming the field', async (_what, body, field) => {
      const roleId = await createRole(t);
      const res = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, body);
      expectFieldError(res, field);
      expect((await versionsOf(roleId))[0]).toEqual({ versions: 0, rows: 0, current: 0 });
    });

    it.each([
      ['an entry that is an array holding a limit', [[{ currency: 'EUR' }]], 'limits.0'],
      ['an entry that is an empty array', [[]], 'limits.0'],
      ['a second entry that is an array', [{ currency: 'EUR', perCredit: 5 }, [{ currency: 'USD' }]], 'limits.1'],
    ])('%s → 400 naming limits (never a 500), and no new version', async (_what, limits, field) => {
      const roleId = await createRole(t);
      const res = await t.as(leader.token).put(`/v1/roles/${roleId}/limits`, { limits });
      // The field is `limits` (or the entry's own path); the message says which shape each entry needs.
      expect({ status: res.status, fields: res.body?.errors?.map((e: { field: string }) => e.field) }).toEqual({
        status: 400,
        fields: expect.arrayContaining([expect.stringMatching(new RegExp(`^(limits|${field.replace('.', '\\.')})$`))]),
      });
      expect(JSON.stringify(res.body.errors)).toContain('must be an object');
      expect((await versionsOf(roleId))[0]).toEqual({ versions: 0, rows: 0, current: 0 });
    });

    it('an unknown role → 404 for setting limits and for the history', async () => {
      const missing = randomUUID();
      const put = await t.as(leader.token).put(`/v1/roles/${missing}/limits`, { limits: [{ currency: 'EUR' }] });
      expect(put.status).toBe(404);
      expect(String(put.headers['content-type'])).toMatch(/^application\/problem\+json/);
      const history = await t.as(leader.token).get(`/v1/roles/${missing}/limits/history`);
      expect(history.status).toBe(404);
      const notUuid = await t.as(leader.token).get(`/v1/roles/not-a-uuid/limits/history`);
      expect(notUuid.status).toBe(404);
      const [n] = await t.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM role_limit_versions WHERE role_id = $1`,
        [missing],
      );
      expect(n.n).toBe(0);
    });

    it('writes each limits change to the audit log', async () => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 4200 }]);
      const audit = await t.as(ADMIN_TOKEN).get('/v1/audit?action=role.limits_set&limit=200');
      expect(audit.status).toBe(200);
      const event = audit.body.data.find((e: { subjectId: string }) => e.subjectId === roleId);
      expect(event).toMatchObject({ actorId: leader.id, action: 'role.limits_set', subjectType: 'role' });
      expect(event.details.version).toBe(1);
    });

    it('a change of limits applies to the next credit; an empty set leaves the role without discretion', async () => {
      const roleId = await createRole(t);
      const agent = await createUser(t, ['agent'], { roleId });
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 1000 }]);
      const one = await postCredit(t, agent.token, creditBody({ amount: 1500 }));
      expect(one.body).toMatchObject({ withinDiscretion: 1000, overrun: 500, limitsVersion: 1, unbudgeted: false });
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 2000 }]);
      const two = await postCredit(t, agent.token, creditBody({ amount: 1500 }));
      expect(two.body).toMatchObject({ withinDiscretion: 1500, overrun: 0, limitsVersion: 2, unbudgeted: false });
      await setLimits(t, leader.token, roleId, []);
      const three = await postCredit(t, agent.token, creditBody({ amount: 1500 }));
      expect(three.body).toMatchObject({ withinDiscretion: 0, overrun: 1500, limitsVersion: 3, unbudgeted: true });
    });
  });

  describe('reasons', () => {
    const DEFAULT_CATALOGUE = [
      'billing_error',
      'damaged_item',
      'goodwill_gesture',
      'late_delivery',
      'long_wait',
      'other',
      'product_defect',
      'repeat_contact',
      'service_failure',
      'wrong_item',
    ];

    it('lists the default catalogue from the migration to any caller, active and ordered by code', async () => {
      const agent = await createUser(t, ['agent']);
      const res = await t.as(agent.token).get('/v1/reasons');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      const codes = res.body.data.map((r: { code: string }) => r.code);
      for (const code of DEFAULT_CATALOGUE) expect(codes).toContain(code);
      expect(codes).toEqual([...codes].sort());
      expect(res.body.data.find((r: { code: string }) => r.code === 'late_delivery')).toEqual({
        code: 'late_delivery',
        label: 'Late delivery',
        active: true,
      });
      for (const r of res.body.data) expect(r.active).toBe(true);
    });

    it('leader and admin create reasons (201); a duplicate code → 409 naming code', async () => {
      const byLeader = `courier_lost_${randomUUID().slice(0, 6)}`;
      const created = await t.as(leader.token).post('/v1/reasons', { code: byLeader, label: 'Courier lost it' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ code: byLeader, label: 'Courier lost it', active: true });
      const byAdmin = `price_match_${randomUUID().slice(0, 6)}`;
      expect((await t.as(ADMIN_TOKEN).post('/v1/reasons', { code: byAdmin, label: 'Price match' })).status).toBe(201);

      const listed = await t.as(ADMIN_TOKEN).get('/v1/reasons');
      const codes = listed.body.data.map((r: { code: string }) => r.code);
      expect(codes).toEqual(expect.arrayContaining([byLeader, byAdmin]));

      const again = await t.as(otherLeader.token).post('/v1/reasons', { code: byLeader, label: 'Another label' });
      expect(again.status).toBe(409);
      expect(String(again.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(again.body.errors).toEqual([{ field: 'code', message: expect.any(String) }]);
      const [row] = await t.query(`SELECT label FROM reasons WHERE code = $1`, [byLeader]);
      expect(row).toEqual({ label: 'Courier lost it' });

      // The duplicate of a shipped code is refused too.
      expect((await t.as(leader.token).post('/v1/reasons', { code: 'late_delivery', label: 'x' })).status).toBe(409);
    });

    it('agent, finance and auditor may not create or change reasons', async () => {
      const agent = await createUser(t, ['agent']);
      const auditor = await createUser(t, ['auditor']);
      const code = `never_${randomUUID().slice(0, 6)}`;
      for (const token of [agent.token, finance.token, auditor.token]) {
        expect((await t.as(token).post('/v1/reasons', { code, label: 'Never' })).status).toBe(403);
        expect((await t.as(token).patch('/v1/reasons/other', { active: false })).status).toBe(403);
      }
      expect(await t.query(`SELECT 1 FROM reasons WHERE code = $1`, [code])).toHaveLength(0);
      expect(await t.query(`SELECT active FROM reasons WHERE code = 'other'`)).toEqual([{ active: true }]);
    });

    it.each([
      ['an upper-case code', { code: 'Late_Delivery', label: 'x' }, 'code'],
      ['a one-letter code', { code: 'a', label: 'x' }, 'code'],
      ['a code with spaces', { code: 'late delivery', label: 'x' }, 'code'],
      ['an empty label', { code: 'fine_code', label: '' }, 'label'],
      ['a label over 200 characters', { code: 'fine_code', label: 'x'.repeat(201) }, 'label'],
      ['an unknown field', { code: 'fine_code', label: 'x', active: false }, 'active'],
    ])('POST /v1/reasons with %s → 400 naming the field', async (_what, body, field) => {
      const res = await t.as(leader.token).post('/v1/reasons', body);
      expectFieldError(res, field);
      expect(await t.query(`SELECT 1 FROM reasons WHERE code = $1`, [body.code])).toHaveLength(0);
    });

    it('PATCH retires a reason: hidden from the list, still there with ?all=true, and refused on new credits', async () => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 5000 }]);
      const agent = await createUser(t, ['agent'], { roleId });
      const code = `storm_damage_${randomUUID().slice(0, 6)}`;
      expect((await t.as(leader.token).post('/v1/reasons', { code, label: 'Storm damage' })).status).toBe(201);
      const before = await postCredit(t, agent.token, creditBody({ reasonCode: code }));
      expect(before.status).toBe(201);

      const retired = await t.as(leader.token).patch(`/v1/reasons/${code}`, { active: false });
      expect(retired.status).toBe(200);
      expect(retired.body).toEqual({ code, label: 'Storm damage', active: false });
      const shown = await t.as(ADMIN_TOKEN).get('/v1/reasons');
      expect(shown.body.data.map((r: { code: string }) => r.code)).not.toContain(code);
      const all = await t.as(ADMIN_TOKEN).get('/v1/reasons?all=true');
      expect(all.body.data).toContainEqual({ code, label: 'Storm damage', active: false });

      // A retired reason is refused as an invalid value of the reasonCode field: 400 naming reasonCode.
      const counts = await ledgerCounts();
      const key = randomUUID();
      const refused = await postCredit(t, agent.token, creditBody({ reasonCode: code }), key);
      expectFieldError(refused, 'reasonCode');
      expect(await ledgerCounts()).toEqual(counts);

      // The credit logged earlier keeps its reason.
      const old = await t.as(agent.token).get(`/v1/credits/${before.body.id}`);
      expect(old.body.reasonCode).toBe(code);

      // The refusal consumed nothing: once the reason is active again, the same key logs the credit.
      const back = await t.as(leader.token).patch(`/v1/reasons/${code}`, { active: true, label: 'Storm or flood' });
      expect(back.body).toEqual({ code, label: 'Storm or flood', active: true });
      const accepted = await postCredit(t, agent.token, creditBody({ reasonCode: code }), key);
      expect(accepted.status).toBe(201);
      expect(accepted.headers['idempotent-replayed']).toBeUndefined();

      const audit = await t.as(ADMIN_TOKEN).get('/v1/audit?action=reason.changed&limit=200');
      const events = audit.body.data.filter((e: { subjectId: string }) => e.subjectId === code);
      expect(events).toHaveLength(2);
      expect(events.map((e: { actorId: string }) => e.actorId)).toEqual([leader.id, leader.id]);
    });

    it('a credit naming a reason that does not exist → 400 naming reasonCode, nothing recorded', async () => {
      const agent = await createUser(t, ['agent']);
      const counts = await ledgerCounts();
      const res = await postCredit(t, agent.token, creditBody({ reasonCode: 'no_such_reason' }));
      expectFieldError(res, 'reasonCode');
      expect(await ledgerCounts()).toEqual(counts);
    });

    it('PATCH validates its body and answers 404 for an unknown code', async () => {
      expectFieldError(await t.as(leader.token).patch('/v1/reasons/other', { active: 'no' }), 'active');
      expectFieldError(await t.as(leader.token).patch('/v1/reasons/other', { code: 'renamed' }), 'code');
      expect((await t.as(leader.token).patch('/v1/reasons/not_a_reason_here', { active: false })).status).toBe(404);
      expect(await t.query(`SELECT active, label FROM reasons WHERE code = 'other'`)).toEqual([
        { active: true, label: 'Other' },
      ]);
    });
  });

  async function ledgerCounts() {
    const [row] = await t.query(
      `SELECT (SELECT count(*)::int FROM credits) AS credits, (SELECT count(*)::int FROM postings) AS postings,
              (SELECT count(*)::int FROM idempotency_keys) AS keys,
              (SELECT coalesce(sum(used), 0)::text FROM usage_case) AS used_case`,
    );
    return row;
  }
});
