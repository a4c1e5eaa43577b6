import { randomBytes, randomUUID } from 'node:crypto';
import { AccessLevel, ACCESS_LEVELS, PEOPLE_LEVELS } from '../src/access/access-level';
import {
  createRole,
  createTeam,
  createUser,
  creditBody,
  postCredit,
  setLimits,
  signInWithLink,
  TestUser,
} from './support/factories';
import { TestApp } from './support/app';

/**
 * Every route × every kind of caller → the status the access table in DESIGN.md promises.
 * Each cell is its own test, so a failure names the route and the caller.
 */

type Caller =
  | AccessLevel
  | 'provisioning token'
  | 'no token'
  | 'malformed token'
  | 'unknown token'
  | 'revoked token'
  | 'expired token'
  | 'ended session'
  | 'deactivated user';
const UNAUTHENTICATED: Caller[] = [
  'no token',
  'malformed token',
  'unknown token',
  'revoked token',
  'expired token',
  'ended session',
  'deactivated user',
];
// The agent and the leader hold session tokens (people signed in), the others API tokens: both
// kinds go through one guard and one access model. A provisioning token opens /scim/v2 only.
const CALLERS: Caller[] = [...ACCESS_LEVELS, 'provisioning token', ...UNAUTHENTICATED];

/** Ids the request builders need; filled in beforeAll. */
interface Context {
  users: Record<AccessLevel, TestUser>;
  provisioningToken: string;
  expiredToken: string;
  endedSession: string;
  revoked: TestUser;
  deactivated: TestUser;
  target: TestUser;
  roleId: string;
  reasonCode: string;
  agentCreditId: string;
  /** The agent's externalRef, by which an integration names them. */
  agentRef: string;
}

interface Built {
  url: string;
  body?: unknown;
  /** A body that is not JSON, sent as it is (its Content-Type in headers). */
  raw?: string;
  headers?: Record<string, string>;
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As the OpenAPI document writes it, for the completeness check. */
  path: string;
  /**
   * 'public': no token needed; 'any': any signed-in person (not an integration); 'provisioning': a
   * provisioning token (SCIM);
   * else the access levels that may call it.
   */
  allow: 'public' | 'any' | 'provisioning' | AccessLevel[];
  success: number;
  /** Builds the request for one cell; may create what the request needs (a fresh credit, token…). */
  build: (ctx: Context, caller: Caller) => Promise<Built> | Built;
}

let seq = 0;
const unique = () => `${Date.now().toString(36)}${(++seq).toString(36)}${randomBytes(2).toString('hex')}`;

let t: TestApp;
let provisioningToken: string;
const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

async function freshAgentCredit(ctx: Context): Promise<string> {
  const res = await postCredit(t, ctx.users.agent.token, creditBody({ amount: 250 }));
  if (res.status !== 201) throw new Error(`credit setup failed: ${res.status} ${res.text}`);
  return res.body.id as string;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/health/live', allow: 'public', success: 200, build: () => ({ url: '/health/live' }) },
  { method: 'GET', path: '/health/ready', allow: 'public', success: 200, build: () => ({ url: '/health/ready' }) },
  { method: 'GET', path: '/docs', allow: 'public', success: 200, build: () => ({ url: '/docs' }) },
  { method: 'GET', path: '/docs-json', allow: 'public', success: 200, build: () => ({ url: '/docs-json' }) },
  // Public while LEEWAY_METRICS_TOKEN is unset, as here.
  { method: 'GET', path: '/metrics', allow: 'public', success: 200, build: () => ({ url: '/metrics' }) },
  { method: 'GET', path: '/v1/me', allow: [...ACCESS_LEVELS], success: 200, build: () => ({ url: '/v1/me' }) },
  {
    method: 'GET',
    path: '/v1/me/headroom',
    allow: ['agent'],
    success: 200,
    build: () => ({ url: '/v1/me/headroom?currency=EUR&caseRef=CASE-1' }),
  },
  {
    method: 'POST',
    path: '/v1/teams',
    allow: ['admin', 'leader'],
    success: 201,
    build: () => ({ url: '/v1/teams', body: { name: `Team ${unique()}` } }),
  },
  { method: 'GET', path: '/v1/teams', allow: 'any', success: 200, build: () => ({ url: '/v1/teams?limit=5' }) },
  {
    method: 'POST',
    path: '/v1/roles',
    allow: ['leader', 'admin'],
    success: 201,
    build: () => ({ url: '/v1/roles', body: { name: `Role ${unique()}`, description: 'matrix' } }),
  },
  { method: 'GET', path: '/v1/roles', allow: 'any', success: 200, build: () => ({ url: '/v1/roles?limit=5' }) },
  {
    method: 'GET',
    path: '/v1/roles/{id}',
    allow: 'any',
    success: 200,
    build: (ctx) => ({ url: `/v1/roles/${ctx.roleId}` }),
  },
  {
    method: 'GET',
    path: '/v1/roles/{id}/limits',
    allow: ['leader', 'finance', 'admin'],
    success: 200,
    build: (ctx) => ({ url: `/v1/roles/${ctx.roleId}/limits` }),
  },
  {
    method: 'PUT',
    path: '/v1/roles/{id}/limits',
    allow: ['leader'],
    success: 200,
    build: (ctx) => ({
      url: `/v1/roles/${ctx.roleId}/limits`,
      body: {
        limits: [{ currency: 'EUR', perCredit: 5000, perCase: 10000, perAgentDay: 20000, perAgentMonth: 200000 }],
      },
    }),
  },
  {
    method: 'GET',
    path: '/v1/roles/{id}/limits/history',
    allow: ['leader', 'finance'],
    success: 200,
    build: (ctx) => ({ url: `/v1/roles/${ctx.roleId}/limits/history` }),
  },
  {
    method: 'GET',
    path: '/v1/reasons',
    allow: [...ACCESS_LEVELS],
    success: 200,
    build: () => ({ url: '/v1/reasons' }),
  },
  {
    method: 'POST',
    path: '/v1/reasons',
    allow: ['leader', 'admin'],
    success: 201,
    build: () => ({ url: '/v1/reasons', body: { code: `m_${unique()}`, label: 'Matrix reason' } }),
  },
  {
    method: 'PATCH',
    path: '/v1/reasons/{code}',
    allow: ['leader', 'admin'],
    success: 200,
    build: (ctx) => ({ url: `/v1/reasons/${ctx.reasonCode}`, body: { label: `Label ${unique()}` } }),
  },
  {
    method: 'POST',
    path: '/v1/users',
    allow: ['admin'],
    success: 201,
    build: () => ({ url: '/v1/users', body: { displayName: `User ${unique()}`, access: ['agent'] } }),
  },
  { method: 'GET', path: '/v1/users', allow: ['admin'], success: 200, build: () => ({ url: '/v1/users?limit=5' }) },
  {
    method: 'GET',
    path: '/v1/users/{id}',
    allow: ['admin'],
    success: 200,
    build: (ctx) => ({ url: `/v1/users/${ctx.target.id}` }),
  },
  {
    method: 'PATCH',
    path: '/v1/users/{id}',
    allow: ['admin'],
    success: 200,
    build: (ctx) => ({ url: `/v1/users/${ctx.target.id}`, body: { displayName: `Target ${unique()}` } }),
  },
  {
    method: 'POST',
    path: '/v1/users/{id}/tokens',
    allow: ['admin'],
    success: 201,
    build: (ctx) => ({ url: `/v1/users/${ctx.target.id}/tokens`, body: { label: 'matrix' } }),
  },
  {
    method: 'DELETE',
    path: '/v1/tokens/{id}',
    allow: ['admin'],
    success: 204,
    build: async (ctx) => {
      const issued = await t.request('POST', `/v1/users/${ctx.target.id}/tokens`, { body: {} });
      if (issued.status !== 201) throw new Error(`token setup failed: ${issued.status}`);
      return { url: `/v1/tokens/${issued.body.id}` };
    },
  },
  {
    method: 'POST',
    path: '/v1/credits',
    allow: ['agent', 'integration'],
    success: 201,
    // An integration names the agent; anyone else sends the agent's own body.
    build: (ctx, caller) => ({
      url: '/v1/credits',
      body:
        caller === 'integration'
          ? { ...creditBody({ amount: 300 }), agentRef: ctx.agentRef }
          : creditBody({ amount: 300 }),
      headers: { 'idempotency-key': randomUUID() },
    }),
  },
  {
    method: 'POST',
    path: '/v1/imports',
    allow: ['integration', 'admin'],
    success: 200,
    // A one-row file; an admin names the integration it comes from, an integration imports as itself.
    build: (ctx, caller) => ({
      url: caller === 'integration' ? '/v1/imports' : `/v1/imports?integrationId=${ctx.users.integration.id}`,
      raw:
        'externalId,agentRef,amount,currency,kind,reasonCode,caseRef,occurredAt\n' +
        `import-${unique()},${ctx.agentRef},120,EUR,refund,late_delivery,CASE-IMPORT,${new Date().toISOString()}\n`,
      headers: { 'content-type': 'text/csv' },
    }),
  },
  {
    method: 'GET',
    path: '/v1/credits',
    allow: ['agent', 'auditor'],
    success: 200,
    build: () => ({ url: '/v1/credits?limit=5' }),
  },
  {
    method: 'GET',
    path: '/v1/credits/{id}',
    allow: ['agent', 'auditor'],
    success: 200,
    // The agent's own credit: the agent may read it, the auditor may read any.
    build: (ctx) => ({ url: `/v1/credits/${ctx.agentCreditId}` }),
  },
  {
    method: 'POST',
    path: '/v1/credits/{id}/reversal',
    allow: ['agent', 'finance'],
    success: 201,
    // A fresh credit of the agent's per cell: a credit reverses only once.
    build: async (ctx) => ({
      url: `/v1/credits/${await freshAgentCredit(ctx)}/reversal`,
      body: { reason: 'Logged on the wrong case' },
    }),
  },
  {
    method: 'GET',
    path: '/v1/reports/spend',
    allow: ['finance', 'leader'],
    success: 200,
    build: () => ({ url: '/v1/reports/spend?groupBy=reason' }),
  },
  {
    method: 'GET',
    path: '/v1/reports/months',
    allow: ['finance', 'leader'],
    success: 200,
    build: () => ({ url: '/v1/reports/months' }),
  },
  {
    method: 'GET',
    path: '/v1/reports/month-to-date',
    allow: ['finance', 'leader'],
    success: 200,
    build: () => ({ url: '/v1/reports/month-to-date' }),
  },
  {
    method: 'GET',
    path: '/v1/reports/limit-fit',
    allow: ['finance', 'leader'],
    success: 200,
    build: () => ({ url: '/v1/reports/limit-fit' }),
  },
  {
    method: 'GET',
    path: '/v1/ledger/balances',
    allow: ['finance', 'auditor'],
    success: 200,
    build: () => ({ url: '/v1/ledger/balances' }),
  },
  {
    method: 'GET',
    path: '/v1/ledger/journal',
    allow: ['finance', 'auditor'],
    success: 200,
    build: () => ({ url: '/v1/ledger/journal' }),
  },
  { method: 'GET', path: '/v1/audit', allow: ['admin'], success: 200, build: () => ({ url: '/v1/audit?limit=5' }) },
  { method: 'GET', path: '/v1/sign-in', allow: 'public', success: 200, build: () => ({ url: '/v1/sign-in' }) },
  // Without LEEWAY_OIDC_ISSUER, as here, the browser routes say so (sign-in.e2e-spec drives them).
  {
    method: 'GET',
    path: '/auth/oidc/start',
    allow: 'public',
    success: 404,
    build: () => ({ url: '/auth/oidc/start' }),
  },
  {
    method: 'GET',
    path: '/auth/oidc/callback',
    allow: 'public',
    success: 404,
    build: () => ({ url: '/auth/oidc/callback?state=x&code=y' }),
  },
  {
    method: 'POST',
    path: '/v1/sessions',
    allow: 'public',
    success: 201,
    build: async (ctx) => {
      const link = await t.request('POST', `/v1/users/${ctx.target.id}/sign-in-links`);
      if (link.status !== 201) throw new Error(`link setup failed: ${link.status}`);
      return { url: '/v1/sessions', body: { link: link.body.url.split('#link=')[1] } };
    },
  },
  {
    method: 'POST',
    path: '/v1/users/{id}/sign-in-links',
    allow: ['admin'],
    success: 201,
    build: (ctx) => ({ url: `/v1/users/${ctx.target.id}/sign-in-links` }),
  },
  {
    method: 'GET',
    path: '/v1/users/{id}/tokens',
    allow: ['admin'],
    success: 200,
    build: (ctx) => ({ url: `/v1/users/${ctx.target.id}/tokens` }),
  },
  { method: 'GET', path: '/v1/me/sessions', allow: 'any', success: 200, build: () => ({ url: '/v1/me/sessions' }) },
  {
    method: 'DELETE',
    path: '/v1/me/sessions/{id}',
    allow: 'any',
    success: 204,
    // One of the caller's own sessions (a fresh one, so the caller's own token stays valid).
    build: async (ctx, caller) => {
      const user = (PEOPLE_LEVELS as readonly string[]).includes(caller)
        ? ctx.users[caller as AccessLevel]
        : ctx.target;
      return { url: `/v1/me/sessions/${(await signInWithLink(t, user.id)).sessionId}` };
    },
  },
  {
    method: 'POST',
    path: '/v1/provisioning-tokens',
    allow: ['admin'],
    success: 201,
    build: () => ({ url: '/v1/provisioning-tokens', body: { label: 'matrix' } }),
  },
  {
    method: 'GET',
    path: '/v1/provisioning-tokens',
    allow: ['admin'],
    success: 200,
    build: () => ({ url: '/v1/provisioning-tokens' }),
  },
  {
    method: 'DELETE',
    path: '/v1/provisioning-tokens/{id}',
    allow: ['admin'],
    success: 204,
    build: async () => {
      const issued = await t.request('POST', '/v1/provisioning-tokens', { body: {} });
      if (issued.status !== 201) throw new Error(`provisioning token setup failed: ${issued.status}`);
      return { url: `/v1/provisioning-tokens/${issued.body.id}` };
    },
  },
  {
    method: 'POST',
    path: '/v1/webhooks',
    allow: ['admin'],
    success: 201,
    build: () => ({ url: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/matrix', eventTypes: ['credit.logged'] } }),
  },
  { method: 'GET', path: '/v1/webhooks', allow: ['admin'], success: 200, build: () => ({ url: '/v1/webhooks' }) },
  {
    method: 'GET',
    path: '/v1/webhooks/{id}',
    allow: ['admin'],
    success: 200,
    build: async () => ({ url: `/v1/webhooks/${await freshWebhook()}` }),
  },
  {
    method: 'PATCH',
    path: '/v1/webhooks/{id}',
    allow: ['admin'],
    success: 200,
    build: async () => ({ url: `/v1/webhooks/${await freshWebhook()}`, body: { active: false } }),
  },
  {
    method: 'DELETE',
    path: '/v1/webhooks/{id}',
    allow: ['admin'],
    success: 204,
    build: async () => ({ url: `/v1/webhooks/${await freshWebhook()}` }),
  },
  {
    method: 'GET',
    path: '/v1/webhooks/{id}/deliveries',
    allow: ['admin'],
    success: 200,
    build: async () => ({ url: `/v1/webhooks/${await freshWebhook()}/deliveries` }),
  },
  {
    method: 'POST',
    path: '/v1/webhooks/{id}/replays',
    allow: ['admin'],
    success: 201,
    build: async (ctx) => {
      const [event] = await t.query<{ id: string }>(`SELECT id FROM events WHERE subject_id = $1`, [ctx.agentCreditId]);
      return { url: `/v1/webhooks/${await freshWebhook()}/replays`, body: { eventId: event.id } };
    },
  },
  ...scimRoutes(),
];

/** An inactive endpoint (nothing is sent to it) for the routes that need one. */
async function freshWebhook(): Promise<string> {
  const res = await t.request('POST', '/v1/webhooks', {
    body: { url: 'http://127.0.0.1:9/matrix', eventTypes: ['credit.logged'], active: false },
  });
  if (res.status !== 201) throw new Error(`webhook setup failed: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/** SCIM: every operation, each with a fresh user or group where it changes one. */
function scimRoutes(): Route[] {
  const user = () => ({ schemas: [SCIM_USER], userName: `scim-${unique()}@example.com`, active: true });
  const group = () => ({ schemas: [SCIM_GROUP], displayName: `SCIM ${unique()}` });
  const made = async (kind: 'Users' | 'Groups') => {
    const res = await t.inject({
      method: 'POST',
      url: `/scim/v2/${kind}`,
      headers: { authorization: `Bearer ${provisioningToken}`, 'content-type': 'application/scim+json' },
      payload: JSON.stringify(kind === 'Users' ? user() : group()),
    });
    if (res.statusCode !== 201) throw new Error(`SCIM setup failed: ${res.statusCode} ${res.body}`);
    return JSON.parse(res.body).id as string;
  };
  const patch = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'displayName', value: `Renamed ${unique()}` }],
  };
  const route = (method: Route['method'], path: string, success: number, build: Route['build']): Route => ({
    method,
    path: `/scim/v2${path}`,
    allow: 'provisioning',
    success,
    build,
  });
  return [
    route('GET', '/ServiceProviderConfig', 200, () => ({ url: '/scim/v2/ServiceProviderConfig' })),
    route('GET', '/ResourceTypes', 200, () => ({ url: '/scim/v2/ResourceTypes' })),
    route('GET', '/Schemas', 200, () => ({ url: '/scim/v2/Schemas' })),
    route('GET', '/Users', 200, () => ({ url: '/scim/v2/Users?count=2' })),
    route('POST', '/Users', 201, () => ({ url: '/scim/v2/Users', body: user() })),
    route('GET', '/Users/{id}', 200, async () => ({ url: `/scim/v2/Users/${await made('Users')}` })),
    route('PUT', '/Users/{id}', 200, async () => ({ url: `/scim/v2/Users/${await made('Users')}`, body: user() })),
    route('PATCH', '/Users/{id}', 200, async () => ({ url: `/scim/v2/Users/${await made('Users')}`, body: patch })),
    route('DELETE', '/Users/{id}', 204, async () => ({ url: `/scim/v2/Users/${await made('Users')}` })),
    route('GET', '/Groups', 200, () => ({ url: '/scim/v2/Groups?count=2' })),
    route('POST', '/Groups', 201, () => ({ url: '/scim/v2/Groups', body: group() })),
    route('GET', '/Groups/{id}', 200, async () => ({ url: `/scim/v2/Groups/${await made('Groups')}` })),
    route('PUT', '/Groups/{id}', 200, async () => ({ url: `/scim/v2/Groups/${await made('Groups')}`, body: group() })),
    route('PATCH', '/Groups/{id}', 200, async () => ({ url: `/scim/v2/Groups/${await made('Groups')}`, body: patch })),
    route('DELETE', '/Groups/{id}', 204, async () => ({ url: `/scim/v2/Groups/${await made('Groups')}` })),
  ];
}

function expectedStatus(route: Route, caller: Caller): number {
  if (route.allow === 'public') return route.success;
  if (route.allow === 'provisioning') return caller === 'provisioning token' ? route.success : 401;
  if (UNAUTHENTICATED.includes(caller) || caller === 'provisioning token') return 401;
  if (route.allow === 'any') return caller === 'integration' ? 403 : route.success;
  if (route.allow.includes(caller as AccessLevel)) return route.success;
  return 403;
}

const CELLS = ROUTES.flatMap((route) =>
  CALLERS.map((caller) => ({
    route,
    caller,
    method: route.method,
    path: route.path,
    expected: expectedStatus(route, caller),
  })),
);

function authorization(ctx: Context, caller: Caller): string | undefined {
  switch (caller) {
    case 'no token':
      return undefined;
    case 'malformed token':
      return 'Bearer not a token!';
    case 'unknown token':
      return `Bearer lw_${randomBytes(32).toString('base64url')}`;
    case 'revoked token':
      return `Bearer ${ctx.revoked.token}`;
    case 'expired token':
      return `Bearer ${ctx.expiredToken}`;
    case 'ended session':
      return `Bearer ${ctx.endedSession}`;
    case 'provisioning token':
      return `Bearer ${ctx.provisioningToken}`;
    case 'deactivated user':
      return `Bearer ${ctx.deactivated.token}`;
    default:
      return `Bearer ${ctx.users[caller].token}`;
  }
}

/** Everything a refused request could have changed, as one comparable row. */
async function footprint() {
  const [row] = await t.query(
    `SELECT (SELECT count(*)::int FROM teams) AS teams, (SELECT count(*)::int FROM roles) AS roles,
            (SELECT count(*)::int FROM role_limit_versions) AS limit_versions,
            (SELECT count(*)::int FROM reasons) AS reasons,
            (SELECT string_agg(label, '|' ORDER BY code) FROM reasons) AS reason_labels,
            (SELECT count(*)::int FROM users) AS users,
            (SELECT string_agg(display_name || ':' || active, '|' ORDER BY id) FROM users) AS user_names,
            (SELECT count(*)::int FROM tokens) AS tokens,
            (SELECT count(*)::int FROM tokens WHERE revoked_at IS NOT NULL) AS revoked,
            (SELECT count(*)::int FROM sign_in_links) AS sign_in_links,
            (SELECT count(*)::int FROM sign_in_links WHERE used_at IS NOT NULL) AS used_links,
            (SELECT count(*)::int FROM provisioning_tokens) AS provisioning_tokens,
            (SELECT count(*)::int FROM provisioning_tokens WHERE revoked_at IS NOT NULL) AS revoked_provisioning,
            (SELECT count(*)::int FROM credits) AS credits,
            (SELECT count(*)::int FROM credit_reversals) AS reversals,
            (SELECT count(*)::int FROM postings) AS postings,
            (SELECT count(*)::int FROM audit_events) AS audit_events`,
  );
  return row;
}

describe('access matrix: every route × every caller', () => {
  const ctx = {} as Context;
  let cell = 0;

  beforeAll(async () => {
    t = await TestApp.start({ webhookAllowPrivate: true });
    const teamId = await createTeam(t);
    const roleId = await createRole(t);
    const users = {} as Record<AccessLevel, TestUser>;
    for (const level of ACCESS_LEVELS) {
      users[level] = await createUser(t, [level], level === 'agent' ? { roleId, teamId } : {});
      if (level === 'agent' || level === 'leader')
        users[level].token = (await signInWithLink(t, users[level].id)).token;
    }
    ctx.users = users;
    ctx.roleId = roleId;
    ctx.agentRef = `matrix-agent-${unique()}`;
    expect(
      (await t.request('PATCH', `/v1/users/${users.agent.id}`, { body: { externalRef: ctx.agentRef } })).status,
    ).toBe(200);
    await setLimits(t, users.leader.token, roleId, [{ currency: 'EUR', perCredit: 5000 }]);
    ctx.target = await createUser(t, ['agent']);
    // Holders of every access level, so that nothing but the token state decides the answer.
    ctx.revoked = await createUser(t, [...PEOPLE_LEVELS]);
    ctx.deactivated = await createUser(t, [...PEOPLE_LEVELS]);
    expect((await t.as(ctx.revoked.token).get('/v1/me')).status).toBe(200);
    expect((await t.as(ctx.deactivated.token).get('/v1/me')).status).toBe(200);
    expect((await t.request('DELETE', `/v1/tokens/${ctx.revoked.tokenId}`)).status).toBe(204);
    expect((await t.request('PATCH', `/v1/users/${ctx.deactivated.id}`, { body: { active: false } })).status).toBe(200);
    const issued = await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'matrix' } });
    ctx.provisioningToken = provisioningToken = issued.body.token;
    const expiring = await createUser(t, [...PEOPLE_LEVELS]);
    await t.query(`UPDATE tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.tokenId]);
    ctx.expiredToken = expiring.token;
    const ending = await signInWithLink(t, (await createUser(t, [...PEOPLE_LEVELS])).id);
    expect((await t.as(ending.token).delete(`/v1/me/sessions/${ending.sessionId}`)).status).toBe(204);
    ctx.endedSession = ending.token;
    ctx.reasonCode = `matrix_${unique()}`;
    const reason = await t.request('POST', '/v1/reasons', { body: { code: ctx.reasonCode, label: 'Matrix' } });
    expect(reason.status).toBe(201);
    ctx.agentCreditId = await freshAgentCredit(ctx);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('covers every operation of the OpenAPI document, and nothing the document lacks', async () => {
    const doc = await t.request('GET', '/docs-json', { token: null });
    expect(doc.status).toBe(200);
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const tabled = ROUTES.filter((r) => !r.path.startsWith('/docs')).map((r) => `${r.method} ${r.path}`);
    expect([...tabled].sort()).toEqual([...documented].sort());
  });

  it.each(CELLS)('$method $path as $caller → $expected', async ({ route, caller, expected }) => {
    const built = await route.build(ctx, caller);
    const headers: Record<string, string> = { ...(built.headers ?? {}) };
    const auth = authorization(ctx, caller);
    if (auth) headers.authorization = auth;
    let payload: string | undefined;
    if (built.raw !== undefined) {
      payload = built.raw;
    } else if (built.body !== undefined) {
      payload = JSON.stringify(built.body);
      headers['content-type'] = route.allow === 'provisioning' ? 'application/scim+json' : 'application/json';
    }
    const before = expected >= 400 ? await footprint() : undefined;
    // One client address per cell: the failed-authentication limiter counts per address.
    cell++;
    const res = await t.inject({
      method: route.method,
      url: built.url,
      headers,
      payload,
      remoteAddress: `10.${(cell >> 16) & 255}.${(cell >> 8) & 255}.${cell & 255}`,
    });
    const type = String(res.headers['content-type'] ?? '');
    expect({ status: res.statusCode, body: res.body.slice(0, 300) }).toEqual({
      status: expected,
      body: expect.any(String),
    });
    if (expected >= 400 && route.allow === 'provisioning') {
      expect(type).toMatch(/^application\/scim\+json/);
      expect(JSON.parse(res.body)).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(expected),
        detail: expect.any(String),
      });
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(await footprint()).toEqual(before);
    } else if (expected >= 400) {
      expect(type).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(res.body);
      expect(problem).toMatchObject({
        type: expect.stringMatching(/^https?:\/\/\S+$/),
        title: expect.any(String),
        status: expected,
        detail: expect.any(String),
      });
      if (expected === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
      // A refused request changes nothing.
      expect(await footprint()).toEqual(before);
    } else {
      expect(type).not.toContain('problem+json');
      if (route.success === 204) expect(res.body).toBe('');
      else expect(res.body.length).toBeGreaterThan(0);
    }
  });
});
