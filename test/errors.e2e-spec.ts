import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, postCredit, TestUser } from './support/factories';
import { Reply, TestApp } from './support/app';
import { expectProblem } from './support/problems';

/**
 * Every refusal is RFC 9457 problem+json (type, title, status, detail; errors[{field,message}] for
 * validation), and a refused request leaves every table exactly as it was.
 */
describe('errors are problem+json and change nothing', () => {
  let t: TestApp;
  let agent: TestUser;
  let otherAgent: TestUser;
  let leader: TestUser;
  let finance: TestUser;
  let roleId: string;
  let creditId: string;

  beforeAll(async () => {
    t = await TestApp.start();
    roleId = await createRole(t);
    agent = await createUser(t, ['agent'], { roleId });
    otherAgent = await createUser(t, ['agent'], { roleId });
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    const credit = await postCredit(t, agent.token, creditBody());
    expect(credit.status).toBe(201);
    creditId = credit.body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A digest of every row of every application table: any insert, update or delete changes it. */
  const snapshot = () => t.tableDigests();

  /** Runs the refused requests and checks that no table changed. */
  async function unchanged(work: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    expect(Object.keys(before).length).toBeGreaterThan(10);
    await work();
    expect(await snapshot()).toEqual(before);
  }

  function expectFieldError(res: Reply, field: string) {
    expectProblem(res, 400, 'validation');
    expect(Array.isArray(res.body.errors)).toBe(true);
    for (const e of res.body.errors) expect(e).toEqual({ field: expect.any(String), message: expect.any(String) });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  }

  const post = (token: string, url: string, body: unknown, headers: Record<string, string> = {}) =>
    t.as(token).post(url, body, { headers });
  const credit = (body: unknown, key = randomUUID()) =>
    post(agent.token, '/v1/credits', body, { 'idempotency-key': key });

  describe('validation', () => {
    it('names an unknown field in errors and creates nothing', async () => {
      const name = `Team ${randomUUID()}`;
      await unchanged(async () => {
        const res = await t.request('POST', '/v1/teams', { body: { name, bogus: 1 } });
        expectFieldError(res, 'bogus');
        expect(res.body.errors).toContainEqual({ field: 'bogus', message: expect.stringContaining('bogus') });
      });
      const teams = await t.query(`SELECT 1 FROM teams WHERE name = $1`, [name]);
      expect(teams).toHaveLength(0);
    });

    it('refuses a credit that tries to set server-owned fields, naming each', async () => {
      await unchanged(async () => {
        const res = await credit(creditBody({ agentId: otherAgent.id, withinDiscretion: 0 }));
        expectFieldError(res, 'agentId');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('withinDiscretion');
      });
    });

    it.each([
      ['amount as a string', { amount: '1000' }, 'amount'],
      ['amount as a float', { amount: 10.5 }, 'amount'],
      ['amount zero', { amount: 0 }, 'amount'],
      ['amount negative', { amount: -100 }, 'amount'],
      ['amount above 10^12', { amount: 1_000_000_000_001 }, 'amount'],
      ['amount as an object', { amount: { value: 1 } }, 'amount'],
      ['currency not ISO 4217', { currency: 'EURO' }, 'currency'],
      ['currency as a number', { currency: 978 }, 'currency'],
      ['kind unknown', { kind: 'cash' }, 'kind'],
      ['channel unknown', { channel: 'fax' }, 'channel'],
      ['caseRef empty', { caseRef: '' }, 'caseRef'],
      ['caseRef as an array', { caseRef: ['A'] }, 'caseRef'],
      ['note too long', { note: 'n'.repeat(2001) }, 'note'],
      ['occurredAt without a time', { occurredAt: '2026-01-01' }, 'occurredAt'],
      ['occurredAt 30 days ago', { occurredAt: new Date(Date.now() - 30 * 86_400_000).toISOString() }, 'occurredAt'],
      ['occurredAt an hour ahead', { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, 'occurredAt'],
      ['reasonCode not in the catalogue', { reasonCode: 'no_such_reason' }, 'reasonCode'],
    ])('POST /v1/credits with %s → 400 naming %p', async (_what, override, field) => {
      await unchanged(async () => {
        expectFieldError(await credit(creditBody(override)), field as string);
      });
    });

    it.each([
      ['caseRef', 'caseRef'],
      ['amount', 'amount'],
      ['currency', 'currency'],
      ['kind', 'kind'],
      ['reasonCode', 'reasonCode'],
    ])('POST /v1/credits without %s → 400 naming it', async (missing, field) => {
      const body: Record<string, unknown> = creditBody();
      delete body[missing];
      await unchanged(async () => {
        expectFieldError(await credit(body), field);
      });
    });

    it('POST /v1/credits without Idempotency-Key → 400 naming the header', async () => {
      await unchanged(async () => {
        expectFieldError(await post(agent.token, '/v1/credits', creditBody()), 'Idempotency-Key');
      });
    });

    it.each([
      ['/v1/teams', {}, 'name'],
      ['/v1/teams', { name: 42 }, 'name'],
      ['/v1/teams', { name: 'x'.repeat(121) }, 'name'],
      ['/v1/roles', {}, 'name'],
      ['/v1/roles', { name: 'R', description: false }, 'description'],
      ['/v1/reasons', { code: 'Has Spaces', label: 'x' }, 'code'],
      ['/v1/reasons', { code: 'fine_code' }, 'label'],
      ['/v1/users', { displayName: 'A' }, 'access'],
      ['/v1/users', { displayName: 'A', access: 'admin' }, 'access'],
      ['/v1/users', { displayName: 'A', access: ['root'] }, 'access'],
      ['/v1/users', { displayName: 'A', access: [] }, 'access'],
      ['/v1/users', { displayName: 'A', access: ['agent'], roleId: 'not-a-uuid' }, 'roleId'],
      ['/v1/users', { access: ['agent'] }, 'displayName'],
    ])('POST %s %j → 400 naming %p', async (url, body, field) => {
      await unchanged(async () => {
        expectFieldError(await t.request('POST', url, { body }), field);
      });
    });

    it('names a nested field by its path: limits.0.perCredit', async () => {
      await unchanged(async () => {
        const res = await t
          .as(leader.token)
          .put(`/v1/roles/${roleId}/limits`, { limits: [{ currency: 'EUR', perCredit: -1 }] });
        expectFieldError(res, 'limits.0.perCredit');
        const fraction = await t
          .as(leader.token)
          .put(`/v1/roles/${roleId}/limits`, { limits: [{ currency: 'EUR' }, { currency: 'USD', perCase: 1.5 }] });
        expectFieldError(fraction, 'limits.1.perCase');
        const unknownNested = await t
          .as(leader.token)
          .put(`/v1/roles/${roleId}/limits`, { limits: [{ currency: 'EUR', perWeek: 100 }] });
        expectFieldError(unknownNested, 'limits.0.perWeek');
      });
    });

    it('POST /v1/credits/:id/reversal without a reason → 400 and the credit stays unreversed', async () => {
      await unchanged(async () => {
        expectFieldError(await post(agent.token, `/v1/credits/${creditId}/reversal`, {}), 'reason');
      });
      const after = await t.as(agent.token).get(`/v1/credits/${creditId}`);
      expect(after.body.reversedBy).toBeNull();
    });

    it.each([
      ['/v1/users?limit=0', 'limit'],
      ['/v1/users?limit=201', 'limit'],
      ['/v1/users?limit=abc', 'limit'],
      ['/v1/users?limit=5&limit=6', 'limit'],
      ['/v1/users?cursor=not-a-cursor', 'cursor'],
      ['/v1/users?sort=name', 'sort'],
      ['/v1/audit?action=DROP%20TABLE', 'action'],
    ])('GET %s → 400 naming %p', async (url, field) => {
      await unchanged(async () => {
        expectFieldError(await t.request('GET', url), field);
      });
    });

    it('a body that is not a JSON object → 400', async () => {
      await unchanged(async () => {
        for (const rawBody of ['[]', '"text"', '42', 'null']) {
          const res = await t.request('POST', '/v1/teams', { rawBody });
          expectProblem(res, 400);
        }
      });
    });
  });

  describe('unreadable requests', () => {
    it.each([
      ['truncated JSON', '{"name":'],
      ['trailing garbage', '{"name":"A"} x'],
      ['single quotes', "{'name':'A'}"],
      ['prototype pollution', '{"__proto__":{"admin":true},"name":"Proto"}'],
    ])('malformed JSON (%s) → 400 malformed-request', async (_what, rawBody) => {
      await unchanged(async () => {
        expectProblem(await t.request('POST', '/v1/teams', { rawBody }), 400, 'malformed-request');
      });
    });

    it.each([
      ['text/plain', 'name=Plain'],
      ['application/xml', '<team><name>Xml</name></team>'],
      ['application/x-www-form-urlencoded', 'name=Form%20team'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nMulti\r\n--x--'],
    ])('a body sent as %s → 415 or 400 problem, and no team is created', async (type, rawBody) => {
      await unchanged(async () => {
        const res = await t.request('POST', '/v1/teams', { rawBody, headers: { 'content-type': type } });
        expect([400, 415]).toContain(res.status);
        expectProblem(res, res.status);
      });
    });

    it('a body over the 64 KiB limit → 413 for a team and for a credit', async () => {
      await unchanged(async () => {
        expectProblem(
          await t.request('POST', '/v1/teams', { body: { name: 'n'.repeat(70 * 1024) } }),
          413,
          'payload-too-large',
        );
        expectProblem(await credit(creditBody({ note: 'n'.repeat(70 * 1024) })), 413, 'payload-too-large');
      });
    });
  });

  describe('not found', () => {
    it('an unknown route → 404 problem', async () => {
      await unchanged(async () => {
        const res = await t.request('GET', '/v1/no-such-thing');
        expectProblem(res, 404, 'not-found');
        expectProblem(await t.request('POST', '/v2/credits', { body: {} }), 404);
      });
    });

    it('an unknown method on a known path → 404 or 405 problem', async () => {
      await unchanged(async () => {
        const res = await t.request('DELETE', '/v1/teams');
        expect([404, 405]).toContain(res.status);
        expectProblem(res, res.status);
      });
    });

    const ids = ['not-a-uuid', '123', "1' OR '1'='1", randomUUID()];
    it.each(ids)('id %p in every id route → 404 problem', async (raw) => {
      const id = encodeURIComponent(raw);
      await unchanged(async () => {
        const cases: Array<[string, string, string, unknown?]> = [
          ['PATCH', `/v1/users/${id}`, 'admin', { displayName: 'X' }],
          ['POST', `/v1/users/${id}/tokens`, 'admin', {}],
          ['DELETE', `/v1/tokens/${id}`, 'admin'],
          ['PUT', `/v1/roles/${id}/limits`, 'leader', { limits: [] }],
          ['GET', `/v1/roles/${id}/limits/history`, 'leader'],
          ['GET', `/v1/credits/${id}`, 'agent'],
          ['POST', `/v1/credits/${id}/reversal`, 'finance', { reason: 'x' }],
        ];
        const tokens: Record<string, string | undefined> = {
          admin: undefined,
          leader: leader.token,
          agent: agent.token,
          finance: finance.token,
        };
        for (const [method, url, who, body] of cases) {
          const res = await t.request(method, url, { token: tokens[who], body });
          expectProblem(res, 404, 'not-found');
        }
      });
    });

    it('a reason code that does not exist → 404', async () => {
      await unchanged(async () => {
        expectProblem(await t.request('PATCH', '/v1/reasons/no_such_code', { body: { label: 'x' } }), 404);
        expectProblem(await t.request('PATCH', '/v1/reasons/Not%20A%20Code', { body: { label: 'x' } }), 404);
      });
    });

    it("another agent's credit is 404 (not 403) for reading and for reversing", async () => {
      await unchanged(async () => {
        expectProblem(await t.as(otherAgent.token).get(`/v1/credits/${creditId}`), 404, 'not-found');
        expectProblem(
          await t.as(otherAgent.token).post(`/v1/credits/${creditId}/reversal`, { reason: 'not mine' }),
          404,
          'not-found',
        );
      });
    });
  });

  describe('authentication and access', () => {
    it.each([
      ['no Authorization header', null, {}],
      ['a Basic credential', null, { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
      ['a bearer token that was never issued', `lw_${'A'.repeat(43)}`, {}],
      ['a token in the query string', null, {}, '?access_token=test-admin-token-0123456789abcdef'],
    ])('%s → 401 problem with WWW-Authenticate', async (_what, token, headers, query = '') => {
      await unchanged(async () => {
        const res = await t.request('POST', `/v1/teams${query}`, {
          token,
          headers: headers as Record<string, string>,
          body: { name: `Team ${randomUUID()}` },
        });
        expectProblem(res, 401, 'unauthenticated');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });
    });

    it('a signed-in caller without the access → 403 problem naming the access needed', async () => {
      await unchanged(async () => {
        const res = await t.as(agent.token).post('/v1/users', { displayName: 'Sneaky', access: ['admin'] });
        expectProblem(res, 403, 'forbidden');
        expect(res.body.detail).toContain('admin');
      });
    });

    it('an agent asking for another agent’s credits → 403 problem', async () => {
      await unchanged(async () => {
        expectProblem(await t.as(otherAgent.token).get(`/v1/credits?agentId=${agent.id}`), 403, 'forbidden');
      });
    });
  });

  describe('conflicts', () => {
    it('a second reversal → 409 problem and one reversal stays', async () => {
      const fresh = await postCredit(t, agent.token, creditBody({ amount: 120 }));
      expect(fresh.status).toBe(201);
      const first = await t.as(agent.token).post(`/v1/credits/${fresh.body.id}/reversal`, { reason: 'wrong case' });
      expect(first.status).toBe(201);
      await unchanged(async () => {
        const second = await t.as(finance.token).post(`/v1/credits/${fresh.body.id}/reversal`, { reason: 'again' });
        expectProblem(second, 409, 'already-reversed');
      });
      const rows = await t.query(`SELECT 1 FROM credit_reversals WHERE credit_id = $1`, [fresh.body.id]);
      expect(rows).toHaveLength(1);
    });

    it('an Idempotency-Key reused with another body → 422 problem, nothing new', async () => {
      const key = randomUUID();
      const first = await credit(creditBody({ amount: 130 }), key);
      expect(first.status).toBe(201);
      await unchanged(async () => {
        expectProblem(await credit(creditBody({ amount: 131 }), key), 422, 'idempotency-key-reused');
      });
    });
  });

  describe('x-request-id', () => {
    it('echoes a well-formed request id on success and on errors', async () => {
      const id = `req-${randomUUID()}`;
      const ok = await t.request('GET', '/health/live', { headers: { 'x-request-id': id } });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-request-id']).toBe(id);
      const refused = await t.request('POST', '/v1/teams', { body: {}, headers: { 'x-request-id': id } });
      expect(refused.status).toBe(400);
      expect(refused.headers['x-request-id']).toBe(id);
      const missing = await t.request('GET', '/v1/nowhere', { headers: { 'x-request-id': id } });
      expect(missing.headers['x-request-id']).toBe(id);
    });

    it('generates a fresh UUID when none is given, and for each request', async () => {
      const a = await t.request('GET', '/health/live');
      const b = await t.request('GET', '/health/live');
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      expect(String(a.headers['x-request-id'])).toMatch(uuid);
      expect(String(b.headers['x-request-id'])).toMatch(uuid);
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it.each([
      ['too long', 'r'.repeat(65)],
      ['with spaces', 'a b c'],
      ['with a newline-like escape', 'abc%0d%0aSet-Cookie:x'],
      ['with quotes', '"><script>'],
    ])('replaces a request id %s with a generated one', async (_what, given) => {
      const res = await t.request('GET', '/health/live', { headers: { 'x-request-id': given } });
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).not.toBe(given);
      expect(String(res.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
