import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { checkInvariants } from '../src/ledger/invariants';
import { createTestDatabase, TestDatabase } from './support/database';
import { ServiceProcess, startServiceProcess } from './support/service-process';

const BOOTSTRAP = `crash-test-${randomUUID()}`;
const REQUESTS = 300;
const CONCURRENCY = 16;
const KILL_AFTER_ACKS = 60;

interface Planned {
  key: string;
  token: string;
  body: string;
}

async function call(url: string, method: string, path: string, token: string, body?: unknown, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/**
 * Kills the service with SIGKILL in the middle of concurrent credits, restarts it, and shows that
 * nothing acknowledged is lost, nothing is doubled, retries settle every request to exactly one
 * credit, and every derived figure still recomputes from the ledger.
 */
describe('crash mid-write (e2e, real process)', () => {
  let db: TestDatabase;
  let pg: Client;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    if (service && service.child.exitCode === null) await service.kill();
    await pg.end();
    await db.drop();
  });

  it('keeps every acknowledged credit exactly once and settles retries to one credit each', async () => {
    const env = { DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP };
    service = await startServiceProcess(env);
    const url = service.url;
    const role = await call(url, 'POST', '/v1/roles', BOOTSTRAP, { name: 'Frontline' });
    const lead = await call(url, 'POST', '/v1/users', BOOTSTRAP, { displayName: 'Lead', access: ['leader'] });
    const leadToken = (await call(url, 'POST', `/v1/users/${lead.body.id}/tokens`, BOOTSTRAP, {})).body.token;
    expect(
      (
        await call(url, 'PUT', `/v1/roles/${role.body.id}/limits`, leadToken, {
          limits: [{ currency: 'EUR', perCredit: 3000, perAgentDay: 20000 }],
        })
      ).status,
    ).toBe(200);
    const tokens: string[] = [];
    for (let i = 0; i < 8; i++) {
      const u = await call(url, 'POST', '/v1/users', BOOTSTRAP, {
        displayName: `Agent ${i}`,
        access: ['agent'],
        roleId: role.body.id,
      });
      tokens.push((await call(url, 'POST', `/v1/users/${u.body.id}/tokens`, BOOTSTRAP, {})).body.token);
    }
    const plan: Planned[] = Array.from({ length: REQUESTS }, (_, i) => ({
      key: randomUUID(),
      token: tokens[i % tokens.length],
      body: JSON.stringify({
        amount: 500 + ((i * 37) % 4000),
        currency: 'EUR',
        kind: 'voucher',
        reasonCode: i % 2 ? 'late_delivery' : 'damaged_item',
        caseRef: `CASE-${i % 50}`,
        channel: 'chat',
      }),
    }));

    // Drive the load and pull the plug part-way through.
    const acknowledged = new Map<string, string>(); // key → credit id
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < plan.length && !killed) {
        const p = plan[next++];
        try {
          const res = await call(url, 'POST', '/v1/credits', p.token, p.body, { 'idempotency-key': p.key });
          if (res.status === 201) acknowledged.set(p.key, res.body.id);
        } catch {
          // connection reset by the crash: not acknowledged
        }
        if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
          killed = true;
          await service!.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(next).toBeLessThan(REQUESTS); // the crash really happened mid-load

    // Every acknowledged credit is there, once.
    const stored = await pg.query(`SELECT id FROM credits`);
    const ids = new Set(stored.rows.map((r) => r.id as string));
    expect(ids.size).toBe(stored.rowCount);
    for (const id of acknowledged.values()) expect(ids.has(id)).toBe(true);
    expect((await checkInvariants(pg)).filter((r) => !r.ok)).toEqual([]);

    // Restart on the same database and retry every request with its key.
    service = await startServiceProcess(env);
    const settled = new Map<string, string>();
    let cursor = 0;
    const retry = async () => {
      while (cursor < plan.length) {
        const p = plan[cursor++];
        const res = await call(service!.url, 'POST', '/v1/credits', p.token, p.body, { 'idempotency-key': p.key });
        expect(res.status).toBe(201);
        settled.set(p.key, res.body.id);
        if (acknowledged.has(p.key)) {
          expect(res.headers.get('idempotent-replayed')).toBe('true');
          expect(res.body.id).toBe(acknowledged.get(p.key));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, retry));

    const after = await pg.query(
      `SELECT count(*)::int AS credits, count(DISTINCT id)::int AS distinct_ids,
              (SELECT count(*)::int FROM idempotency_keys) AS keys,
              (SELECT count(*)::int FROM idempotency_keys WHERE credit_id IS NULL) AS unsettled
         FROM credits`,
    );
    expect(after.rows[0]).toEqual({ credits: REQUESTS, distinct_ids: REQUESTS, keys: REQUESTS, unsettled: 0 });
    expect(new Set(settled.values()).size).toBe(REQUESTS);
    expect((await checkInvariants(pg)).filter((r) => !r.ok)).toEqual([]);
    expect(await service.stop()).toBe(0);
  }, 180_000);
});
