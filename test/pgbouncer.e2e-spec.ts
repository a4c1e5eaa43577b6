import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../migrations';
import { hashToken } from '../src/access/token-hash';
import { checkInvariants } from '../src/ledger/invariants';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { PgBouncer, requirePgBouncer, startPgBouncer } from './support/pgbouncer';
import { built, freePort, ROOT, ServiceProcess, startServiceProcess } from './support/service-process';
import { httpCall as call } from './support/http';

const BOOTSTRAP = `pgbouncer-test-${randomUUID()}`;

function adminUrl(): string {
  const url = process.env.LEEWAY_TEST_ADMIN_URL;
  if (!url) throw new Error('LEEWAY_TEST_ADMIN_URL is not set: the e2e globalSetup did not run');
  return url;
}

/** The test server's URL for another database, connecting directly (no PgBouncer). */
function directUrl(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** An empty database (no migrations): the service and the migration runner build it through the pool. */
async function createEmptyDatabase(): Promise<string> {
  const name = `leeway_pgb_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE ${name}`));
  return name;
}

async function dropDatabase(name: string): Promise<void> {
  await withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

const LEDGER = ['credits', 'credit_reversals', 'postings'];

describe('through PgBouncer in transaction pooling mode (e2e, real /usr/sbin/pgbouncer)', () => {
  // Not installed: the suite fails to run with one line naming the fix (CI installs it), never skips.
  requirePgBouncer();
  let bouncer: PgBouncer | undefined;
  let database: string;
  let pooled: string;
  let service: ServiceProcess | undefined;
  let ds: DataSource | undefined;
  const created: string[] = [];
  const agents: string[] = [];
  let finance: string;

  beforeAll(async () => {
    bouncer = await startPgBouncer(adminUrl());
    database = await createEmptyDatabase();
    created.push(database);
    pooled = bouncer.url(database);
  }, 60_000);

  afterAll(async () => {
    if (service && service.child.exitCode === null) await service.kill();
    if (ds?.isInitialized) await ds.destroy();
    await bouncer?.dispose();
    for (const name of created) await dropDatabase(name);
  }, 60_000);

  const credit = (token: string, key: string, amount = 700) =>
    call(service!.url, 'POST', '/v1/credits', {
      token,
      headers: { 'idempotency-key': key },
      body: { amount, currency: 'EUR', kind: 'voucher', reasonCode: 'long_wait', caseRef: 'C-1' },
    });

  it('is strict like a production PgBouncer: a session startup parameter is refused', async () => {
    const c = new Client({ connectionString: pooled, lock_timeout: 1000 });
    await expect(c.connect()).rejects.toThrow(/unsupported startup parameter/);
    await c.end().catch(() => undefined);
  });

  it('runs migrations through the pool, two runners at once applying each migration exactly once', async () => {
    const runs = await Promise.all([runMigrations(pooled), runMigrations(pooled)]);
    // One runner took the lock and applied everything; the other waited and found nothing to do.
    expect(runs.map((r) => r.length).sort()).toEqual([0, migrations.length]);
    const [row] = await withClient(directUrl(database), async (c) => {
      const { rows } = await c.query(`SELECT count(*)::int AS n, count(DISTINCT name)::int AS names FROM migrations`);
      return rows;
    });
    expect(row).toEqual({ n: migrations.length, names: migrations.length });
    // The migration lock was transaction-scoped: nothing holds it now. (Only this database's locks:
    // other specs running meanwhile take advisory locks of their own in theirs.)
    const held = await withClient(directUrl(database), async (c) => {
      const { rows } = await c.query(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return rows[0].n;
    });
    expect(held).toBe(0);
  }, 120_000);

  it('applies the configured settings inside every service transaction through the pool', async () => {
    ds = createDataSource(pooled, { poolSize: 4 });
    await ds.initialize();
    const settings = `SELECT current_setting('statement_timeout') AS statement_timeout,
                             current_setting('lock_timeout') AS lock_timeout,
                             current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout,
                             current_setting('work_mem') AS work_mem`;
    const expected = {
      statement_timeout: '30s',
      lock_timeout: '10s',
      idle_in_transaction_session_timeout: '1min',
      work_mem: '32MB',
    };
    // Several at once, so that they land on different server connections of the pool.
    const inside = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ds!.transaction(i % 2 ? 'READ COMMITTED' : 'REPEATABLE READ', async (m) => (await m.query(settings))[0]),
      ),
    );
    for (const seen of inside) expect(seen).toEqual(expected);
    // They take no snapshot: work inside may still choose its isolation level.
    const chosen = await ds.transaction(async (m) => {
      await m.query(`SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`);
      return (await m.query(`SHOW transaction_isolation`))[0].transaction_isolation;
    });
    expect(chosen).toBe('serializable');
    // Nothing leaks into the server's sessions: outside a transaction, the server's own defaults.
    const [outside] = await ds.query(settings);
    expect(outside).toEqual({
      statement_timeout: '0',
      lock_timeout: '0',
      idle_in_transaction_session_timeout: '0',
      work_mem: '4MB',
    });
  });

  it('a service transaction through the pool gives up on a lock after lock_timeout', async () => {
    await withClient(directUrl(database), async (holder) => {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(4242)`);
      const started = Date.now();
      const error = await ds!
        .transaction((m) => m.query(`SELECT pg_advisory_xact_lock(4242)`))
        .then(
          () => null,
          (e: { driverError?: { code?: string }; code?: string }) => e,
        );
      const waited = Date.now() - started;
      await holder.query('ROLLBACK');
      expect(error?.driverError?.code ?? error?.code).toBe('55P03');
      expect(waited).toBeGreaterThanOrEqual(9_500);
      expect(waited).toBeLessThan(20_000);
    });
  }, 60_000);

  it('starts the service through the pool and logs credits, concurrent ones included', async () => {
    service = await startServiceProcess({
      DATABASE_URL: pooled,
      LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP,
      LEEWAY_MIN_COHORT: '3',
    });
    const user = async (access: string) => {
      const u = await call(service!.url, 'POST', '/v1/users', {
        token: BOOTSTRAP,
        body: { displayName: `${access} ${agents.length}`, access: [access] },
      });
      expect(u.status).toBe(201);
      const t = await call(service!.url, 'POST', `/v1/users/${u.body.id}/tokens`, { token: BOOTSTRAP, body: {} });
      expect(t.status).toBe(201);
      return t.body.token as string;
    };
    for (let i = 0; i < 3; i++) agents.push(await user('agent'));
    finance = await user('finance');

    // Twelve credits at once over the pool (20 server connections at most, 20 client connections).
    const results = await Promise.all(
      agents.flatMap((token) => [1, 2, 3, 4].map((n) => credit(token, randomUUID(), 100 * n))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(12);
  }, 120_000);

  it('replays an idempotent retry, also when the retries race, and refuses a changed body', async () => {
    const key = `pgb-${randomUUID()}`;
    const first = await credit(agents[0], key, 250);
    expect(first.status).toBe(201);
    const again = await credit(agents[0], key, 250);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect((await credit(agents[0], key, 251)).status).toBe(422);

    // Five copies of one new request at once: one credit, five identical answers.
    const raceKey = `pgb-race-${randomUUID()}`;
    const race = await Promise.all(Array.from({ length: 5 }, () => credit(agents[1], raceKey, 300)));
    expect(race.map((r) => r.status)).toEqual(Array(5).fill(201));
    expect(new Set(race.map((r) => r.text)).size).toBe(1);
    expect(race.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);

    const [counts] = await withClient(directUrl(database), async (c) => {
      const { rows } = await c.query(
        `SELECT (SELECT count(*)::int FROM credits) AS credits,
                (SELECT count(DISTINCT credit_id)::int FROM idempotency_keys WHERE key IN ($1, $2)) AS keyed`,
        [key, raceKey],
      );
      return rows;
    });
    expect(counts).toEqual({ credits: 14, keyed: 2 });
  }, 60_000);

  it('keeps no callers behind the pool (notifications cannot arrive), so a revocation counts at once', async () => {
    // Without DATABASE_DIRECT_URL the listener's LISTEN goes through the pool, where notifications
    // are lost: its heartbeat never comes back, so the cache stands aside and every request reads.
    const u = await call(service!.url, 'POST', '/v1/users', {
      token: BOOTSTRAP,
      body: { displayName: 'Leaver', access: ['agent'] },
    });
    const issued = await call(service!.url, 'POST', `/v1/users/${u.body.id}/tokens`, { token: BOOTSTRAP, body: {} });
    const token = issued.body.token as string;
    for (let i = 0; i < 3; i++) expect((await call(service!.url, 'GET', '/v1/me', { token })).status).toBe(200);
    const metrics = await (await fetch(`${service!.url}/metrics`)).text();
    const count = (result: string) =>
      Number(/\d+$/.exec(metrics.split('\n').find((l) => l.includes(`result="${result}"`)) ?? '0')![0]);
    expect(count('hit')).toBe(0);
    expect(count('off')).toBeGreaterThan(0);
    const hash = hashToken(token);
    await withClient(directUrl(database), (c) =>
      c.query(`UPDATE tokens SET revoked_at = now() WHERE token_hash = $1`, [hash]),
    );
    expect((await call(service!.url, 'GET', '/v1/me', { token })).status).toBe(401);
  }, 60_000);

  it('releases last month through the pool, a wait on the release lock bounded by lock_timeout', async () => {
    const month = await withClient(directUrl(database), async (c) => {
      const { rows } = await c.query(`SELECT to_char((now() - interval '1 month') AT TIME ZONE 'UTC', 'YYYY-MM') AS m`);
      return rows[0].m as string;
    });
    const [y, m] = month.split('-').map(Number);
    const spend = () => call(service!.url, 'GET', `/v1/reports/spend?from=${month}&to=${month}`, { token: finance });
    await withClient(directUrl(database), async (holder) => {
      // Hold the month's release lock first, so that not even the background job can release it.
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.release'), ${y * 12 + m})`);
      // The credits so far, recorded a month earlier (as if time had passed), so that month can close.
      await withClient(directUrl(database), async (c) => {
        await c.query('BEGIN');
        for (const table of LEDGER) await c.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
        await c.query(`UPDATE credits SET recorded_at = recorded_at - interval '1 month'`);
        await c.query(`UPDATE credit_reversals SET recorded_at = recorded_at - interval '1 month'`);
        await c.query(`UPDATE postings SET posted_at = posted_at - interval '1 month'`);
        for (const table of LEDGER) await c.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
        await c.query('COMMIT');
      });
      const pending = spend();
      // The request's own transaction is seen waiting on the server, behind PgBouncer (asked from
      // another session: inside a transaction, pg_stat_activity is a snapshot).
      let waiting = 0;
      for (let i = 0; i < 50 && waiting === 0; i++) {
        const { rows } = await withClient(directUrl(database), (probe) =>
          probe.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event = 'advisory' AND query LIKE '%pg_advisory_xact_lock%'`,
          ),
        );
        waiting = rows[0].n;
        if (waiting === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(waiting).toBeGreaterThanOrEqual(1);
      const res = await pending;
      await holder.query('ROLLBACK');
      // Server-side lock_timeout (10s) ended the wait, not the client's 30s query timeout.
      expect(res.ms).toBeGreaterThanOrEqual(9_500);
      expect(res.ms).toBeLessThan(20_000);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });
    const res = await spend();
    expect(res.status).toBe(200);
    const eur = res.body.totals.find((t: { currency: string }) => t.currency === 'EUR');
    // 3 agents × (100 + 200 + 300 + 400), plus 250 and 300.
    expect({ credits: Number(eur?.credits), amount: Number(eur?.amount) }).toEqual({ credits: 14, amount: 3550 });
  }, 60_000);

  it('answers 503 problem+json quickly while PgBouncer is down, and recovers when it is back', async () => {
    const url = service!.url;
    await bouncer!.stop();
    const ready = await call(url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(5000);
    const write = await credit(agents[2], randomUUID());
    expect(write.status).toBe(503);
    expect(write.headers.get('content-type')).toContain('application/problem+json');
    expect(write.body).toMatchObject({ status: 503 });
    expect(write.ms).toBeLessThan(5000);
    expect((await call(url, 'GET', '/health/live')).status).toBe(200);

    await bouncer!.start();
    const back = Date.now();
    let recovered: number | undefined;
    while (Date.now() - back < 30_000) {
      const res = await credit(agents[2], randomUUID(), 50).catch(() => undefined);
      if (res?.status === 201) {
        recovered = res.status;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(201);
    expect((await call(url, 'GET', '/health/ready')).status).toBe(200);
    expect(service!.child.exitCode).toBeNull();

    await withClient(directUrl(database), async (c) => {
      const { rows } = await c.query(`SELECT count(*)::int AS credits, sum(amount)::int AS amount FROM credits`);
      expect(rows[0]).toEqual({ credits: 15, amount: 3600 });
      expect((await checkInvariants(c)).filter((r) => !r.ok)).toEqual([]);
    });
    expect(await service!.stop()).toBe(0);
  }, 120_000);

  it('the migration CLI uses DATABASE_DIRECT_URL when given, not the pooled DATABASE_URL', async () => {
    const fresh = await createEmptyDatabase();
    created.push(fresh);
    // DATABASE_URL names a port nothing listens on: only the direct URL can succeed.
    const nowhere = new URL(pooled);
    nowhere.port = String(await freePort());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: nowhere.toString(),
      DATABASE_DIRECT_URL: directUrl(fresh),
    };
    delete env.TEST_DATABASE_URL;
    const run = spawnSync(process.execPath, [built('dist/src/database/migrate-cli.js')], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^applied: /);
    const n = await withClient(directUrl(fresh), async (c) => {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM migrations`);
      return rows[0].n;
    });
    expect(n).toBe(migrations.length);
  }, 90_000);
});
