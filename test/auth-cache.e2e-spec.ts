import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from './support/database';
import { startServiceProcess, ServiceProcess } from './support/service-process';
import { httpCall } from './support/http';

/**
 * The caller cache, as two real service processes on one PostgreSQL see it: a request needs no
 * query to authenticate, yet a revocation, a deactivation, a change of access or an expiry made
 * anywhere ends the cached caller in every process as the change commits; and while a process
 * cannot hear PostgreSQL's notifications, its cache stands aside.
 */

const BOOTSTRAP = 'auth-cache-bootstrap-token-0123456789';
let db: TestDatabase;
let sql: Client;
let a: ServiceProcess;
let b: ServiceProcess;

const call = (service: ServiceProcess, method: string, path: string, token: string, body?: unknown) =>
  httpCall(service.url, method, path, { token, body });

/** The process's count of authentications by how they were answered (hit, miss, off). */
async function lookups(service: ServiceProcess, result: 'hit' | 'miss' | 'off'): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`leeway_auth_cache_lookups_total{result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Waits until the process's cache is trusted: a request with a fresh token is then remembered. */
async function untilCaching(service: ServiceProcess, token: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const before = await lookups(service, 'hit');
    await call(service, 'GET', '/v1/me', token);
    await call(service, 'GET', '/v1/me', token);
    if ((await lookups(service, 'hit')) > before) return;
    if (Date.now() > deadline) throw new Error('the cache never came into use');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * How long after the change a process goes on accepting the token: every request is timed from
 * the moment the change's response arrived. Fails if the token is still accepted after 1 s.
 */
async function refusedWithin(service: ServiceProcess, token: string, since: number): Promise<number> {
  for (;;) {
    const res = await call(service, 'GET', '/v1/me', token);
    if (res.status === 401) return Date.now() - since;
    expect(res.status).toBe(200);
    if (Date.now() - since > 1_000) throw new Error('still accepted a second after the change');
  }
}

async function newUser(access: string[]): Promise<{ id: string; token: string }> {
  const user = await call(a, 'POST', '/v1/users', BOOTSTRAP, { displayName: `Person ${access}`, access });
  expect(user.status).toBe(201);
  const token = await call(a, 'POST', `/v1/users/${user.body.id}/tokens`, BOOTSTRAP, { label: 'desk' });
  expect(token.status).toBe(201);
  return { id: user.body.id, token: token.body.token };
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new Client({ connectionString: db.url });
  await sql.connect();
  a = await startServiceProcess({ DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP });
  b = await startServiceProcess({ DATABASE_URL: db.url });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await sql?.end();
  await db?.drop();
});

describe('a cached caller', () => {
  it('is served without a query, and ends in both processes when its token is revoked', async () => {
    const person = await newUser(['agent']);
    for (const service of [a, b]) await untilCaching(service, person.token);
    const hits = await lookups(b, 'hit');
    for (let i = 0; i < 5; i++) expect((await call(b, 'GET', '/v1/me', person.token)).status).toBe(200);
    expect((await lookups(b, 'hit')) - hits).toBe(5);

    const [token] = (await sql.query(`SELECT id FROM tokens WHERE user_id = $1`, [person.id])).rows;
    expect((await call(a, 'DELETE', `/v1/tokens/${token.id}`, BOOTSTRAP)).status).toBe(204);
    const since = Date.now();
    for (const service of [a, b]) expect(await refusedWithin(service, person.token, since)).toBeLessThan(1_000);
    // And it stays refused.
    for (const service of [a, b]) expect((await call(service, 'GET', '/v1/me', person.token)).status).toBe(401);
  });

  it('ends in both processes when its user is deactivated', async () => {
    const person = await newUser(['agent']);
    for (const service of [a, b]) await untilCaching(service, person.token);
    expect((await call(a, 'PATCH', `/v1/users/${person.id}`, BOOTSTRAP, { active: false })).status).toBe(200);
    const since = Date.now();
    for (const service of [b, a]) await refusedWithin(service, person.token, since);
  });

  it('takes a change of access at once: a finance token that becomes an agent one loses the reports', async () => {
    const person = await newUser(['finance']);
    for (const service of [a, b]) await untilCaching(service, person.token);
    expect((await call(b, 'GET', '/v1/reports/months', person.token)).status).toBe(200);
    expect((await call(a, 'PATCH', `/v1/users/${person.id}`, BOOTSTRAP, { access: ['agent'] })).status).toBe(200);
    const deadline = Date.now() + 1_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline)
      status = (await call(b, 'GET', '/v1/reports/months', person.token)).status;
    expect(status).toBe(403);
    expect((await call(b, 'GET', '/v1/me', person.token)).body.access).toEqual(['agent']);
  });

  it('is refused once its token expires, though nothing was changed', async () => {
    const user = await newUser(['agent']);
    const expiresAt = new Date(Date.now() + 2_500).toISOString();
    const short = await call(a, 'POST', `/v1/users/${user.id}/tokens`, BOOTSTRAP, { label: 'short', expiresAt });
    expect(short.status).toBe(201);
    for (const service of [a, b]) await untilCaching(service, short.body.token);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 50));
    for (const service of [a, b]) expect((await call(service, 'GET', '/v1/me', short.body.token)).status).toBe(401);
  });

  it('is not trusted while the process cannot hear PostgreSQL: a change it would miss still counts', async () => {
    const person = await newUser(['agent']);
    await untilCaching(b, person.token);
    const offBefore = await lookups(b, 'off');
    const missBefore = await lookups(b, 'miss');
    // Cut every process's listening connection, then change the token behind their backs. The
    // notification goes nowhere: only a cache that stood aside refuses the token now.
    await sql.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query = 'LISTEN leeway_auth'`,
    );
    await new Promise((r) => setTimeout(r, 200));
    await sql.query(`UPDATE tokens SET revoked_at = now() WHERE user_id = $1`, [person.id]);
    const hitsBefore = await lookups(b, 'hit');
    expect((await call(b, 'GET', '/v1/me', person.token)).status).toBe(401);
    // The cached caller was not served: the process stood aside (counted as 'off'), or, where its
    // listener was back already (a loaded machine reconnects it within the 200 ms), the change's
    // notification reached it and dropped the entry. Either way, never a hit.
    expect(await lookups(b, 'hit')).toBe(hitsBefore);
    expect((await lookups(b, 'off')) + (await lookups(b, 'miss'))).toBeGreaterThan(offBefore + missBefore);
    // Listening again within seconds, the cache comes back into use by itself.
    const other = await newUser(['agent']);
    await untilCaching(b, other.token);
    expect((await call(b, 'GET', '/v1/me', person.token)).status).toBe(401);
  });
});
