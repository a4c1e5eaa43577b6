import { createHash, randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';

/**
 * Users, tokens, teams and roles over their life: issue, use, revoke, deactivate, reactivate; the
 * validation and conflicts on creation; pagination; /v1/me; and the audit trail those leave.
 */
describe('access lifecycle', () => {
  let t: TestApp;
  let adminId: string;
  /** Every token plaintext this spec has seen, to prove none is stored anywhere. */
  const seenTokens: string[] = [ADMIN_TOKEN];
  let client = 0;

  beforeAll(async () => {
    t = await TestApp.start();
    const me = await t.request('GET', '/v1/me');
    expect(me.status).toBe(200);
    adminId = me.body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A request from its own client address, so that expected 401s never trip the failed-login limiter. */
  async function from(method: string, url: string, token: string | null, body?: unknown): Promise<Reply> {
    client++;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await t.app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: method as 'GET',
        url,
        headers,
        payload: body === undefined ? undefined : JSON.stringify(body),
        remoteAddress: `10.99.${(client >> 8) & 255}.${client & 255}`,
      });
    const type = String(res.headers['content-type'] ?? '');
    return {
      status: res.statusCode,
      headers: res.headers,
      body: type.includes('json') && res.body ? JSON.parse(res.body) : undefined,
      text: res.body,
    };
  }

  const meStatus = async (token: string) => (await from('GET', '/v1/me', token)).status;

  async function newUser(access: string[], extra: Record<string, unknown> = {}) {
    const res = await t.request('POST', '/v1/users', {
      body: { displayName: `Person ${randomUUID().slice(0, 8)}`, access, ...extra },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; displayName: string; access: string[] };
  }

  async function issue(userId: string, label?: string) {
    const res = await t.request('POST', `/v1/users/${userId}/tokens`, { body: label ? { label } : {} });
    expect(res.status).toBe(201);
    seenTokens.push(res.body.token);
    return res as Reply & { body: { id: string; token: string } };
  }

  async function auditEvents(action: string): Promise<any[]> {
    const events: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request(
        'GET',
        `/v1/audit?action=${action}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      events.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return events;
  }

  describe('tokens', () => {
    it('are shown once as {id, token}; only the sha256 hash is stored', async () => {
      const user = await newUser(['agent']);
      const issued = await issue(user.id, 'desk 4');
      expect(Object.keys(issued.body).sort()).toEqual(['expiresAt', 'id', 'token']);
      expect(issued.body.expiresAt).toBeNull();
      expect(issued.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const { token } = issued.body;
      const [row] = await t.query<Record<string, unknown>>(`SELECT * FROM tokens WHERE id = $1`, [issued.body.id]);
      expect(row.token_hash).toEqual(createHash('sha256').update(token, 'utf8').digest());
      expect(row.user_id).toBe(user.id);
      expect(row.label).toBe('desk 4');
      // No column, in any rendering, holds the plaintext.
      const [asText] = await t.query<{ row: string; hex: string }>(
        `SELECT t::text AS row, encode(t.token_hash, 'escape') AS hex FROM tokens t WHERE id = $1`,
        [issued.body.id],
      );
      expect(asText.row).not.toContain(token);
      expect(asText.hex).not.toContain(token);
      // Nothing that lists users shows it again.
      const users = await t.request('GET', '/v1/users?limit=200');
      expect(users.text).not.toContain(token);
      expect(users.text).not.toContain(createHash('sha256').update(token).digest('hex'));
      // And it works.
      expect(await meStatus(token)).toBe(200);
    });

    it('carry at least 128 bits of randomness and never repeat', async () => {
      const user = await newUser(['agent']);
      const tokens: string[] = [];
      for (let i = 0; i < 30; i++) tokens.push((await issue(user.id)).body.token);
      expect(new Set(tokens).size).toBe(tokens.length);
      for (const token of tokens) {
        // Whatever the prefix, the rest must carry ≥ 128 bits: ≥ 22 base64url characters.
        const random = token.replace(/^[a-z]+_/, '');
        expect(random).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(Buffer.from(random, 'base64url').length).toBeGreaterThanOrEqual(16);
      }
      // Characters are spread over the alphabet rather than drawn from a narrow set.
      const alphabet = new Set(tokens.join('').replace(/^[a-z]+_/gm, ''));
      expect(alphabet.size).toBeGreaterThan(50);
      // No two tokens share a long common prefix beyond the fixed one.
      const stripped = tokens.map((x) => x.replace(/^[a-z]+_/, ''));
      for (let i = 1; i < stripped.length; i++) expect(stripped[i].slice(0, 6)).not.toBe(stripped[0].slice(0, 6));
    });

    it('revoking → 204, the token answers 401 at once; the user’s other tokens keep working', async () => {
      const user = await newUser(['agent', 'auditor']);
      const a = await issue(user.id, 'a');
      const b = await issue(user.id, 'b');
      expect(await meStatus(a.body.token)).toBe(200);
      const revoked = await t.request('DELETE', `/v1/tokens/${a.body.id}`);
      expect(revoked.status).toBe(204);
      expect(revoked.text).toBe('');
      expect(await meStatus(a.body.token)).toBe(401);
      expect((await from('GET', '/v1/credits', a.body.token)).status).toBe(401);
      expect(await meStatus(b.body.token)).toBe(200);
      const [row] = await t.query<{ revoked_at: Date | null }>(`SELECT revoked_at FROM tokens WHERE id = $1`, [
        a.body.id,
      ]);
      expect(row.revoked_at).toBeInstanceOf(Date);
    });

    it('revoking again is harmless: 204, still revoked, and one revocation in the audit log', async () => {
      const user = await newUser(['agent']);
      const tok = await issue(user.id);
      expect((await t.request('DELETE', `/v1/tokens/${tok.body.id}`)).status).toBe(204);
      const [first] = await t.query<{ revoked_at: Date }>(`SELECT revoked_at FROM tokens WHERE id = $1`, [tok.body.id]);
      expect((await t.request('DELETE', `/v1/tokens/${tok.body.id}`)).status).toBe(204);
      const [second] = await t.query<{ revoked_at: Date }>(`SELECT revoked_at FROM tokens WHERE id = $1`, [
        tok.body.id,
      ]);
      expect(second.revoked_at.getTime()).toBe(first.revoked_at.getTime());
      expect(await meStatus(tok.body.token)).toBe(401);
      const events = (await auditEvents('token.revoked')).filter((e) => e.subjectId === tok.body.id);
      expect(events).toHaveLength(1);
    });

    it('revoking a token that does not exist → 404', async () => {
      const res = await t.request('DELETE', `/v1/tokens/${randomUUID()}`);
      expect(res.status).toBe(404);
      expect(String(res.headers['content-type'])).toContain('application/problem+json');
    });

    it('issuing a token for a user that does not exist → 404 and no token row', async () => {
      const [{ n: before }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM tokens`);
      const res = await t.request('POST', `/v1/users/${randomUUID()}/tokens`, { body: {} });
      expect(res.status).toBe(404);
      const [{ n: after }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM tokens`);
      expect(after).toBe(before);
    });
  });

  describe('deactivation', () => {
    it('active:false revokes every token of the user at once, for good: reactivation brings none back', async () => {
      const user = await newUser(['agent']);
      const a = await issue(user.id);
      const b = await issue(user.id);
      expect(await meStatus(a.body.token)).toBe(200);
      const off = await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: false } });
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      expect(await meStatus(a.body.token)).toBe(401);
      expect(await meStatus(b.body.token)).toBe(401);
      const on = await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: true } });
      expect(on.status).toBe(200);
      expect(on.body.active).toBe(true);
      expect(await meStatus(a.body.token)).toBe(401);
      expect(await meStatus(b.body.token)).toBe(401);
      const revoked = await t.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tokens WHERE user_id = $1 AND revoked_at IS NOT NULL`,
        [user.id],
      );
      expect(revoked[0].n).toBe(2);
      const [event] = await t.query<{ details: Record<string, unknown> }>(
        `SELECT details FROM audit_events WHERE action = 'user.changed' AND subject_id = $1 AND details ? 'revoked'`,
        [user.id],
      );
      expect(event.details.revoked).toEqual({ tokens: 2, links: 0 });
      // A fresh token works again.
      expect(await meStatus((await issue(user.id)).body.token)).toBe(200);
    });

    it('a revoked token stays revoked when its user is reactivated', async () => {
      const user = await newUser(['agent']);
      const tok = await issue(user.id);
      expect((await t.request('DELETE', `/v1/tokens/${tok.body.id}`)).status).toBe(204);
      expect((await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: false } })).status).toBe(200);
      expect((await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: true } })).status).toBe(200);
      expect(await meStatus(tok.body.token)).toBe(401);
    });

    it('changed access takes effect on the next request', async () => {
      const user = await newUser(['agent']);
      const tok = await issue(user.id);
      expect((await from('GET', '/v1/ledger/balances', tok.body.token)).status).toBe(403);
      const changed = await t.request('PATCH', `/v1/users/${user.id}`, { body: { access: ['finance'] } });
      expect(changed.status).toBe(200);
      expect((await from('GET', '/v1/ledger/balances', tok.body.token)).status).toBe(200);
      expect((await from('GET', '/v1/me/headroom', tok.body.token)).status).toBe(403);
    });

    it('an admin cannot deactivate themselves or drop their own admin access', async () => {
      const admin = await createUser(t, ['admin']);
      seenTokens.push(admin.token);
      const self = await t.as(admin.token).patch(`/v1/users/${admin.id}`, { active: false });
      expect(self.status).toBe(400);
      expect(self.body.errors).toContainEqual({ field: 'active', message: expect.any(String) });
      const drop = await t.as(admin.token).patch(`/v1/users/${admin.id}`, { access: ['agent'] });
      expect(drop.status).toBe(400);
      expect(await meStatus(admin.token)).toBe(200);
      const [row] = await t.query<{ active: boolean; access: string[] }>(
        `SELECT active, access FROM users WHERE id = $1`,
        [admin.id],
      );
      expect(row).toEqual({ active: true, access: ['admin'] });
    });

    it('PATCH of a user that does not exist → 404', async () => {
      const res = await t.request('PATCH', `/v1/users/${randomUUID()}`, { body: { active: false } });
      expect(res.status).toBe(404);
    });
  });

  describe('creation and validation', () => {
    it('a user is created with every field echoed back and stored', async () => {
      const roleId = await createRole(t);
      const teamId = await createTeam(t);
      const externalRef = `HR-${randomUUID()}`;
      const res = await t.request('POST', '/v1/users', {
        body: { displayName: 'Sam Rivera', access: ['agent', 'auditor'], roleId, teamId, externalRef },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        displayName: 'Sam Rivera',
        access: ['agent', 'auditor'],
        roleId,
        teamId,
        externalRef,
        active: true,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
        updatedAt: expect.stringMatching(/Z$/),
      });
      const [row] = await t.query(
        `SELECT display_name, access, role_id, team_id, external_ref FROM users WHERE id = $1`,
        [res.body.id],
      );
      expect(row).toEqual({
        display_name: 'Sam Rivera',
        access: ['agent', 'auditor'],
        role_id: roleId,
        team_id: teamId,
        external_ref: externalRef,
      });
    });

    it('a second user with the same externalRef → 409 naming externalRef', async () => {
      const externalRef = `HR-${randomUUID()}`;
      await newUser(['agent'], { externalRef });
      const res = await t.request('POST', '/v1/users', {
        body: { displayName: 'Twin', access: ['agent'], externalRef },
      });
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ field: 'externalRef', message: expect.any(String) }]);
      const rows = await t.query(`SELECT 1 FROM users WHERE external_ref = $1`, [externalRef]);
      expect(rows).toHaveLength(1);
    });

    it.each([
      ['a job role that does not exist', { roleId: '00000000-0000-4000-8000-000000000001' }, 'roleId'],
      ['a team that does not exist', { teamId: '00000000-0000-4000-8000-000000000002' }, 'teamId'],
      ['an access level that does not exist', { access: ['agent', 'superuser'] }, 'access'],
      ['the same access level twice', { access: ['agent', 'agent'] }, 'access'],
      ['no access level', { access: [] }, 'access'],
      ['an empty displayName', { displayName: '' }, 'displayName'],
      ['a control character in displayName', { displayName: 'Sam\u0007' }, 'displayName'],
    ])('a user with %s → 400 naming %p, nothing stored', async (_what, override, field) => {
      const [{ n: before }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
      const res = await t.request('POST', '/v1/users', {
        body: { displayName: 'Valid Name', access: ['agent'], ...override },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const [{ n: after }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
      expect(after).toBe(before);
    });

    it('duplicate team names → 409 naming name (also after trimming)', async () => {
      const name = `Returns desk ${randomUUID().slice(0, 6)}`;
      expect((await t.request('POST', '/v1/teams', { body: { name } })).status).toBe(201);
      for (const again of [name, `  ${name} `]) {
        const res = await t.request('POST', '/v1/teams', { body: { name: again } });
        expect(res.status).toBe(409);
        expect(res.body.errors).toEqual([{ field: 'name', message: expect.any(String) }]);
      }
      const rows = await t.query(`SELECT 1 FROM teams WHERE name = $1`, [name]);
      expect(rows).toHaveLength(1);
    });

    it('duplicate job role names → 409 naming name', async () => {
      const name = `Senior agent ${randomUUID().slice(0, 6)}`;
      const first = await t.request('POST', '/v1/roles', { body: { name, description: 'Handles escalations' } });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ name, description: 'Handles escalations', limits: [] });
      const res = await t.request('POST', '/v1/roles', { body: { name } });
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.any(String) }]);
      expect(await t.query(`SELECT 1 FROM roles WHERE name = $1`, [name])).toHaveLength(1);
    });

    it('duplicate reason codes → 409 naming code; the default catalogue ships', async () => {
      const list = await t.request('GET', '/v1/reasons');
      expect(list.status).toBe(200);
      expect(list.body.data.length).toBeGreaterThan(0);
      const shipped = list.body.data[0].code as string;
      const res = await t.request('POST', '/v1/reasons', { body: { code: shipped, label: 'Again' } });
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ field: 'code', message: expect.any(String) }]);
    });
  });

  describe('GET /v1/users pagination', () => {
    it('walks every user exactly once in displayName order with limit and cursor', async () => {
      for (let i = 0; i < 7; i++) await newUser(['agent']);
      const all: Array<{ id: string; displayName: string }> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Reply = await t.request(
          'GET',
          `/v1/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
        expect(res.body.data.length).toBeLessThanOrEqual(3);
        if (res.body.nextCursor !== null) expect(res.body.data).toHaveLength(3);
        all.push(...res.body.data);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      expect(cursor).toBeNull();
      const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
      expect(all).toHaveLength(n);
      expect(new Set(all.map((u) => u.id)).size).toBe(n);
      expect(pages).toBe(Math.max(1, Math.ceil(n / 3)));
      const names = all.map((u) => u.displayName);
      const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(names).toEqual(sorted);
    });

    it('a page of everything has nextCursor null', async () => {
      const res = await t.request('GET', '/v1/users?limit=200');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
      expect(res.body.data).toHaveLength(n);
    });

    it('the default page is 50', async () => {
      while (((await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`))[0].n as number) <= 50) {
        await newUser(['agent']);
      }
      const res = await t.request('GET', '/v1/users');
      expect(res.body.data).toHaveLength(50);
      expect(typeof res.body.nextCursor).toBe('string');
    });
  });

  describe('/v1/me', () => {
    it('shows id, displayName, access, role and team', async () => {
      const roleName = `Store lead ${randomUUID().slice(0, 6)}`;
      const teamName = `Flagship ${randomUUID().slice(0, 6)}`;
      const roleId = await createRole(t, roleName);
      const teamId = await createTeam(t, teamName);
      const user = await createUser(t, ['agent', 'leader'], { roleId, teamId, displayName: 'Ada Lovelace' });
      seenTokens.push(user.token);
      const me = await t.as(user.token).get('/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        id: user.id,
        displayName: 'Ada Lovelace',
        access: ['agent', 'leader'],
        role: { id: roleId, name: roleName },
        team: { id: teamId, name: teamName },
        reversalWindowHours: 72,
      });
      // A change of role shows at once; removing the team shows null.
      const other = await createRole(t);
      const patched = await t.request('PATCH', `/v1/users/${user.id}`, { body: { roleId: other, teamId: null } });
      expect(patched.status).toBe(200);
      const again = await t.as(user.token).get('/v1/me');
      expect(again.body.role.id).toBe(other);
      expect(again.body.team).toBeNull();
    });
  });

  describe('audit log', () => {
    it('records token issued/revoked, user created/changed, role created and limits set, with actor and time', async () => {
      const started = Date.now();
      const user = await newUser(['agent']);
      const tok = await issue(user.id, 'audited');
      expect(
        (await t.request('PATCH', `/v1/users/${user.id}`, { body: { displayName: 'Renamed Person' } })).status,
      ).toBe(200);
      expect((await t.request('DELETE', `/v1/tokens/${tok.body.id}`)).status).toBe(204);
      const roleName = `Audited role ${randomUUID().slice(0, 6)}`;
      const roleId = await createRole(t, roleName);
      const leader: TestUser = await createUser(t, ['leader']);
      seenTokens.push(leader.token);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 2500 }]);
      const ended = Date.now();

      const within = (e: { at: string }) => {
        expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        const at = Date.parse(e.at);
        expect(at).toBeGreaterThanOrEqual(started - 2000);
        expect(at).toBeLessThanOrEqual(ended + 2000);
      };
      const one = async (action: string, subjectId: string) => {
        const found = (await auditEvents(action)).filter((e) => e.subjectId === subjectId);
        expect(found).toHaveLength(1);
        within(found[0]);
        return found[0];
      };

      expect(await one('user.created', user.id)).toMatchObject({ actorId: adminId, subjectType: 'user' });
      expect(await one('token.issued', tok.body.id)).toMatchObject({
        actorId: adminId,
        subjectType: 'token',
        details: expect.objectContaining({ userId: user.id }),
      });
      expect(await one('user.changed', user.id)).toMatchObject({
        actorId: adminId,
        details: { displayName: { from: user.displayName, to: 'Renamed Person' } },
      });
      expect(await one('token.revoked', tok.body.id)).toMatchObject({ actorId: adminId });
      expect(await one('role.created', roleId)).toMatchObject({
        actorId: adminId,
        details: expect.objectContaining({ name: roleName }),
      });
      expect(await one('role.limits_set', roleId)).toMatchObject({ actorId: leader.id });
    });

    it('an unchanged PATCH writes no audit event', async () => {
      const user = await newUser(['agent']);
      const before = (await auditEvents('user.changed')).length;
      const res = await t.request('PATCH', `/v1/users/${user.id}`, { body: { displayName: user.displayName } });
      expect(res.status).toBe(200);
      expect((await auditEvents('user.changed')).length).toBe(before);
    });

    it('pages newest first with a cursor and no event twice, past 100 events', async () => {
      // Enough events that ids run to three digits.
      const count = async () => (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`))[0].n;
      while ((await count()) <= 105) await createTeam(t);
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Reply = await t.request(
          'GET',
          `/v1/audit?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.status).toBe(200);
        ids.push(...res.body.data.map((e: { id: string }) => e.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 1000);
      const [{ n, newest }] = await t.query<{ n: number; newest: string }>(
        `SELECT count(*)::int AS n, max(id)::text AS newest FROM audit_events`,
      );
      expect(n).toBeGreaterThan(100);
      // Newest first: the first entry is the latest event, and ids fall strictly throughout.
      expect(ids[0]).toBe(newest);
      const numeric = ids.map(Number);
      expect(numeric).toEqual([...numeric].sort((a, b) => b - a));
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
    });

    it('never contains a token plaintext, in any column', async () => {
      // Tokens of its own, so this holds even when run alone: issued, one revoked, the user changed.
      const user = await newUser(['agent']);
      const kept = await issue(user.id, 'kept');
      const gone = await issue(user.id, 'gone');
      expect((await t.request('DELETE', `/v1/tokens/${gone.body.id}`)).status).toBe(204);
      expect((await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: false } })).status).toBe(200);
      expect(seenTokens).toEqual(expect.arrayContaining([kept.body.token, gone.body.token]));
      const columns = await t.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = 'audit_events'`,
      );
      expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining(['details', 'subject_id', 'action']));
      const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`);
      expect(n).toBeGreaterThan(3);
      for (const token of seenTokens) {
        for (const { column_name } of columns) {
          const hits = await t.query(`SELECT id FROM audit_events WHERE "${column_name}"::text LIKE '%' || $1 || '%'`, [
            token,
          ]);
          expect({ column_name, hits: hits.length }).toEqual({ column_name, hits: 0 });
        }
      }
      // The API view of the log does not carry them either.
      const page = await t.request('GET', '/v1/audit?limit=200');
      for (const token of seenTokens) expect(page.text).not.toContain(token);
    });

    it('no table anywhere holds a token plaintext', async () => {
      const tables = await t.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.length).toBeGreaterThan(10);
      for (const { name } of tables) {
        for (const token of seenTokens) {
          const hits = await t.query(`SELECT 1 FROM "${name}" x WHERE x::text LIKE '%' || $1 || '%' LIMIT 1`, [token]);
          expect({ name, hits: hits.length }).toEqual({ name, hits: 0 });
        }
      }
    });
  });
});
