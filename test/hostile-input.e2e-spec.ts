import fc from 'fast-check';
import { PEOPLE_LEVELS } from '../src/access/access-level';
import { checkInvariants } from '../src/ledger/invariants';
import { createRole, createUser, creditBody, postCredit, TestUser } from './support/factories';
import { Reply, TestApp } from './support/app';

/**
 * Thousands of malformed requests at every endpoint: every answer is a 4xx problem+json (or, for
 * the rare accidental valid request, a success), never a 5xx and never a hang; the ledger is
 * unchanged afterwards.
 */
describe('hostile input (e2e, property-based)', () => {
  let t: TestApp;
  let agent: TestUser;
  let finance: TestUser;
  let leader: TestUser;
  let roleId: string;
  let creditId: string;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    t = await TestApp.start();
    roleId = await createRole(t);
    agent = await createUser(t, ['agent'], { roleId });
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance', 'auditor']);
    const res = await postCredit(t, agent.token, creditBody());
    expect(res.status).toBe(201);
    creditId = res.body.id;
  });

  afterAll(() => t.close());

  const ledger = () =>
    t.query<{ credits: number; postings: number; reversals: number; used: string }>(
      `SELECT (SELECT count(*)::int FROM credits) AS credits, (SELECT count(*)::int FROM postings) AS postings,
              (SELECT count(*)::int FROM credit_reversals) AS reversals,
              (SELECT coalesce(sum(used), 0)::text FROM usage_agent_day) AS used`,
    );

  function judge(reply: Reply, what: string) {
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    if (reply.status >= 500) throw new Error(`${what} → ${reply.status} ${reply.text.slice(0, 300)}`);
    if (reply.status >= 400) {
      expect(String(reply.headers['content-type'])).toContain('application/problem+json');
      expect(reply.body).toMatchObject({ status: reply.status, title: expect.any(String) });
    }
  }

  // Values that tend to break parsers, validators and SQL.
  const nasty = fc.oneof(
    fc.constantFrom(
      "' OR 1=1 --",
      "'); DROP TABLE credits; --",
      '${jndi:ldap://x}',
      '\u0000',
      '\ud800',
      '\u202e\u0041',
      '%00',
      '../../etc/passwd',
      '=cmd|calc!A1',
      'NaN',
      'Infinity',
      '-0',
      '1e309',
      '9007199254740993',
      '__proto__',
      'constructor',
    ),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ unit: 'grapheme', maxLength: 64 }),
    fc.integer(),
    fc.double(),
    fc.bigInt().map((b) => b.toString()),
  );
  const anyJson = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 8 }) },
    {
      weight: 2,
      // Near-valid credit bodies with one field made hostile.
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            'amount',
            'currency',
            'kind',
            'reasonCode',
            'caseRef',
            'channel',
            'note',
            'occurredAt',
            'customerRef',
            'x',
          ),
          nasty,
        )
        .map(([field, value]) => ({ ...creditBody(), [field]: value })),
    },
  );
  const badId = fc.oneof(
    fc.uuid(),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('0', '-1', '..', '%2e%2e', 'null', 'undefined', '00000000-0000-0000-0000-000000000000', "1'--"),
  );

  const routes: Array<{ method: string; path: (id: string) => string; token: () => string }> = [
    { method: 'POST', path: () => '/v1/credits', token: () => agent.token },
    { method: 'GET', path: () => '/v1/credits', token: () => agent.token },
    { method: 'GET', path: (id) => `/v1/credits/${id}`, token: () => finance.token },
    { method: 'POST', path: (id) => `/v1/credits/${id}/reversal`, token: () => finance.token },
    { method: 'GET', path: () => '/v1/me/headroom', token: () => agent.token },
    { method: 'GET', path: () => '/v1/me', token: () => agent.token },
    { method: 'POST', path: () => '/v1/teams', token: () => leader.token },
    { method: 'POST', path: () => '/v1/roles', token: () => leader.token },
    { method: 'PUT', path: (id) => `/v1/roles/${id}/limits`, token: () => leader.token },
    { method: 'GET', path: (id) => `/v1/roles/${id}/limits/history`, token: () => leader.token },
    { method: 'POST', path: () => '/v1/reasons', token: () => leader.token },
    { method: 'PATCH', path: (id) => `/v1/reasons/${id}`, token: () => leader.token },
    { method: 'POST', path: () => '/v1/users', token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'PATCH', path: (id) => `/v1/users/${id}`, token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'POST', path: (id) => `/v1/users/${id}/tokens`, token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'DELETE', path: (id) => `/v1/tokens/${id}`, token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'GET', path: () => '/v1/users', token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'GET', path: () => '/v1/audit', token: () => 'test-admin-token-0123456789abcdef' },
    { method: 'GET', path: () => '/v1/ledger/journal', token: () => finance.token },
    { method: 'GET', path: () => '/v1/ledger/balances', token: () => finance.token },
    { method: 'GET', path: () => '/v1/reports/spend', token: () => finance.token },
    { method: 'GET', path: () => '/v1/reports/limit-fit', token: () => finance.token },
  ];

  it('never answers 5xx to malformed bodies, query strings or ids, and changes nothing in the ledger', async () => {
    const before = await ledger();
    const accepted: string[] = [];
    const query = fc
      .dictionary(
        fc.constantFrom(
          'from',
          'to',
          'limit',
          'cursor',
          'currency',
          'groupBy',
          'period',
          'format',
          'agentId',
          'caseRef',
          'x',
        ),
        nasty.map(String),
        { maxKeys: 4 },
      )
      .map((q) => new URLSearchParams(q).toString());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        badId,
        anyJson,
        query,
        fc.boolean(),
        async (route, id, body, qs, raw) => {
          const url = `${route.path(id)}${qs ? `?${qs}` : ''}`;
          const reply = await t.request(route.method, url, {
            token: route.token(),
            headers: { 'idempotency-key': `fuzz-${Math.random()}` },
            ...(route.method === 'GET' || route.method === 'DELETE'
              ? {}
              : raw
                ? { rawBody: JSON.stringify(body).slice(0, -1) }
                : { body }),
          });
          judge(reply, `${route.method} ${url}`);
          if (reply.status === 201 && url.startsWith('/v1/credits')) accepted.push(reply.body.id);
        },
      ),
      { numRuns: 3000 },
    );
    // Refused requests changed nothing: the ledger grew by exactly the few accidental valid credits
    // (a hostile string is still a valid note), and everything derived still recomputes.
    const after = await ledger();
    expect(after[0].credits - before[0].credits + after[0].reversals - before[0].reversals).toBe(accepted.length);
    const invariants = await checkInvariants(t.dataSource);
    expect(invariants.filter((r) => !r.ok)).toEqual([]);
    // Most requests were refused as client errors; none failed on the server.
    const clientErrors = [...statuses].filter(([s]) => s >= 400 && s < 500).reduce((n, [, c]) => n + c, 0);
    expect(clientErrors).toBeGreaterThan(2500);
  }, 120_000);

  it('refuses a NUL, a lone surrogate or a bidi override in every documented query parameter, on every route', async () => {
    const everyone = await createUser(t, [...PEOPLE_LEVELS], { roleId });
    const scimToken = (await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'hostile' } })).body.token;
    const doc = (await t.request('GET', '/docs-json', { token: null })).body as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>;
    };
    const before = await ledger();
    let tried = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const names = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        const path = template.replace(/\{[^}]+\}/g, () => creditId);
        for (const name of names) {
          for (const value of ['%00', '%ED%A0%80', 'a%00b', '%E2%80%AE']) {
            const reply = await t.request(method.toUpperCase(), `${path}?${name}=${value}`, {
              token: template.startsWith('/scim/') ? scimToken : everyone.token,
              headers: method === 'get' ? {} : { 'idempotency-key': `hostile-${tried}` },
              body: method === 'get' || method === 'delete' ? undefined : {},
            });
            judge(reply, `${method.toUpperCase()} ${path}?${name}=${value}`);
            tried++;
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(await ledger()).toEqual(before);
  });

  it('refuses huge, deeply nested and wrongly typed bodies with 4xx', async () => {
    const before = await ledger();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const huge = JSON.stringify({ ...creditBody(), note: 'x'.repeat(200_000) });
    for (const [rawBody, type] of [
      [deep, 'application/json'],
      [huge, 'application/json'],
      ['amount=1', 'application/x-www-form-urlencoded'],
      ['<credit/>', 'application/xml'],
      ['', 'application/json'],
      ['null', 'application/json'],
      ['[]', 'application/json'],
      ['"text"', 'application/json'],
      ['{"amount":1e400}', 'application/json'],
      ['{"__proto__":{"admin":true}}', 'application/json'],
    ] as const) {
      const reply = await t.request('POST', '/v1/credits', {
        token: agent.token,
        rawBody,
        headers: { 'content-type': type, 'idempotency-key': `k-${Math.random()}` },
      });
      judge(reply, `body ${rawBody.slice(0, 30)}`);
      expect(reply.status).toBeGreaterThanOrEqual(400);
    }
    expect(await ledger()).toEqual(before);
  });

  it('refuses hostile headers: oversize, odd idempotency keys and authorization values', async () => {
    const before = await ledger();
    for (const key of ['', ' ', 'k'.repeat(256), 'a\u0000b', '\u00e9\u00e9', 'x'.repeat(10_000)]) {
      const reply = await t.request('POST', '/v1/credits', {
        token: agent.token,
        body: creditBody(),
        headers: { 'idempotency-key': key },
      });
      judge(reply, `idempotency-key ${JSON.stringify(key.slice(0, 20))}`);
      expect(reply.status).toBe(400);
    }
    for (const auth of [
      'Bearer',
      'Bearer ',
      `Bearer ${'a'.repeat(20_000)}`,
      'Basic dXNlcjpwYXNz',
      `Bearer ${agent.token} x`,
    ]) {
      const reply = await t.request('GET', '/v1/me', { token: null, headers: { authorization: auth } });
      judge(reply, `authorization ${auth.slice(0, 20)}`);
      expect(reply.status).toBe(401);
    }
    expect(await ledger()).toEqual(before);
    expect(creditId).toBeDefined();
  });

  it('limits failed authentication per client address: 429 problem+json, valid tokens still served', async () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const get = (remoteAddress: string, token: string) =>
      fastify.inject({ method: 'GET', url: '/v1/me', remoteAddress, headers: { authorization: `Bearer ${token}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await get('203.0.113.7', `lw_guess${i}`)).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    const blocked = await get('203.0.113.7', 'lw_guess-once-more');
    expect(blocked.statusCode).toBe(429);
    expect(String(blocked.headers['content-type'])).toContain('application/problem+json');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Only failures are limited (see auth-rate-limit.e2e-spec.ts).
    expect((await get('203.0.113.7', agent.token)).statusCode).toBe(200);
    expect((await get('203.0.113.8', agent.token)).statusCode).toBe(200);
  });
});
