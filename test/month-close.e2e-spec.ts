import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { FakeClock } from './support/fake-clock';
import { startPostgres, stopPostgres } from './support/postgres-process';
import { spawnService, SpawnedService, stopAll } from './support/process';
import { freePort } from './support/service-process';

/**
 * Months close on the clock, exactly once: two service processes and their PostgreSQL run on a fake
 * clock (libfaketime) that the test moves. A credit whose transaction began before midnight and
 * commits after it still belongs to the old month, and the month does not close until it is done.
 */
describe('closing a month (e2e, two processes, a fake clock)', () => {
  const token = `month-close-${randomUUID()}`;
  let dir: string;
  let clock: FakeClock;
  let pg: { url: string; server: ChildProcess };
  const services: Array<{ service: SpawnedService; base: string }> = [];
  const agents: Array<{ id: string; token: string }> = [];
  let financeToken: string;

  const call = async (base: string, method: string, path: string, body?: unknown, auth = token, key?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${auth}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
    };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leeway-close-'));
    await chmod(dir, 0o755);
    clock = new FakeClock(dir, '2026-10-31 23:50:00');
    // Under libfaketime, PostgreSQL's timeout signal handler reads the real clock, so the first alarm
    // (deadlock_timeout, 1 s) would end any lock wait at once: keep it beyond the test's lock wait.
    pg = await startPostgres(join(dir, 'pg'), await freePort(), {
      ...clock.env,
      PG_SETTINGS: JSON.stringify({ deadlock_timeout: '60s' }),
    });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const service = spawnService({
        ...clock.env,
        DATABASE_URL: pg.url,
        PORT: String(port),
        LEEWAY_BOOTSTRAP_TOKEN: token,
        LEEWAY_MIN_COHORT: '3',
        LEEWAY_RELEASE_GRACE_SECONDS: '3',
        LOG_LEVEL: 'warn',
      });
      const base = `http://127.0.0.1:${port}`;
      for (let tries = 0; ; tries++) {
        const ready = await fetch(`${base}/health/ready`).catch(() => null);
        if (ready?.status === 200) break;
        if (tries > 600) throw new Error(`service did not start: ${service.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      services.push({ service, base });
    }
  }, 180_000);

  const credit = (amount: number) => ({
    amount,
    currency: 'EUR',
    kind: 'voucher',
    reasonCode: 'late_delivery',
    caseRef: `CASE-${randomUUID().slice(0, 8)}`,
    channel: 'chat',
  });

  afterAll(async () => {
    await stopAll();
    if (pg) await stopPostgres(pg.server);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('keeps October open while a transaction begun before midnight runs, then releases it once, with that credit', async () => {
    const [a, b] = services;
    const role = await call(a.base, 'POST', '/v1/roles', { name: 'Frontline' });
    for (let i = 0; i < 4; i++) {
      const user = await call(a.base, 'POST', '/v1/users', {
        displayName: `Agent ${i}`,
        access: ['agent'],
        roleId: role.body.id,
      });
      const issued = await call(a.base, 'POST', `/v1/users/${user.body.id}/tokens`, {});
      agents.push({ id: user.body.id, token: issued.body.token });
    }
    const finance = await call(a.base, 'POST', '/v1/users', { displayName: 'Finance', access: ['finance'] });
    financeToken = (await call(a.base, 'POST', `/v1/users/${finance.body.id}/tokens`, {})).body.token;
    for (const [i, agent] of agents.entries()) {
      const res = await call(a.base, 'POST', '/v1/credits', credit(1000 + i), agent.token, randomUUID());
      expect(res.status).toBe(201);
    }

    // Hold agent 0's day-usage row: their next credit's transaction begins in October and waits.
    // The clock then runs across midnight by itself (a jump would fire PostgreSQL's lock timeout).
    const holder = new Client({ connectionString: pg.url });
    await holder.connect();
    clock.set('2026-10-31 23:59:57');
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM usage_agent_day WHERE agent_id = $1 FOR UPDATE', [agents[0].id]);
    const late = call(a.base, 'POST', '/v1/credits', credit(5000), agents[0].token, randomUUID());
    // Past midnight and past the grace period (3 s), yet the waiting credit keeps October open.
    await new Promise((r) => setTimeout(r, 6_500));
    const months = await call(b.base, 'GET', '/v1/reports/months', undefined, financeToken);
    expect(months.status).toBe(200);
    expect(months.body.data).toEqual([
      expect.objectContaining({ month: '2026-10', state: 'awaiting_close' }),
      expect.objectContaining({ month: '2026-11', state: 'open' }),
    ]);
    const early = await call(b.base, 'GET', '/v1/reports/spend?from=2026-10&to=2026-10', undefined, financeToken);
    expect(early.status).toBe(400);
    expect(early.body.errors).toEqual([expect.objectContaining({ field: 'to' })]);

    await holder.query('COMMIT');
    await holder.end();
    const committed = await late;
    expect(committed.status).toBe(201);
    // The credit began in October: it belongs to October, though it committed in November.
    expect(committed.body.recordedAt < '2026-11-01T00:00:00Z').toBe(true);

    // Both processes race to release October; exactly one release exists, and every answer agrees.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(services[i % 2].base, 'GET', '/v1/reports/spend?from=2026-10&to=2026-10', undefined, financeToken),
      ),
    );
    for (const res of answers) expect(res.status).toBe(200);
    for (const res of answers.slice(1)) expect(res.body).toEqual(answers[0].body);
    expect(answers[0].body.totals).toEqual([
      expect.objectContaining({ currency: 'EUR', credits: 5, amount: 1000 + 1001 + 1002 + 1003 + 5000 }),
    ]);
    const check = new Client({ connectionString: pg.url });
    await check.connect();
    try {
      const released = await check.query(`SELECT month::text FROM month_releases`);
      expect(released.rows).toEqual([{ month: '2026-10-01' }]);
      // Frozen: the database refuses to change a release.
      await expect(check.query(`DELETE FROM month_releases`)).rejects.toThrow(/append-only|refuse/i);
    } finally {
      await check.end();
    }
    const after = await call(a.base, 'GET', '/v1/reports/months', undefined, financeToken);
    expect(after.body.data[0]).toEqual(expect.objectContaining({ month: '2026-10', state: 'released' }));
  }, 120_000);

  it('counts a day in month-to-date only once nothing begun before its end still runs, and withholds a month whose last days never passed', async () => {
    const [a, b] = services;
    const give = async (agent: number, amount: number) => {
      const res = await call(a.base, 'POST', '/v1/credits', credit(amount), agents[agent].token, randomUUID());
      expect(res.status).toBe(201);
    };
    const monthToDate = async () => {
      const res = await call(b.base, 'GET', '/v1/reports/month-to-date', undefined, financeToken);
      expect(res.status).toBe(200);
      return res.body;
    };
    clock.set('2026-11-10 12:00:00');
    for (let i = 0; i < 4; i++) await give(i, 1000 + i);
    clock.set('2026-11-11 12:00:00');
    for (let i = 0; i < 4; i++) await give(i, 2000 + i);
    // The 10th is complete; the 11th has not ended.
    expect((await monthToDate()).data).toEqual([{ currency: 'EUR', amount: 4006, credits: 4, asOf: '2026-11-10' }]);

    // A credit whose transaction begins on the 11th and waits across midnight: the 11th stays
    // incomplete past the grace period, so the figure cannot change once published.
    const holder = new Client({ connectionString: pg.url });
    await holder.connect();
    clock.set('2026-11-11 23:59:57');
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM usage_agent_day WHERE agent_id = $1 FOR UPDATE', [agents[0].id]);
    const late = call(a.base, 'POST', '/v1/credits', credit(5000), agents[0].token, randomUUID());
    await new Promise((r) => setTimeout(r, 6_500));
    expect((await monthToDate()).data).toEqual([{ currency: 'EUR', amount: 4006, credits: 4, asOf: '2026-11-10' }]);
    await holder.query('COMMIT');
    await holder.end();
    expect((await late).status).toBe(201);
    const settled = 4006 + 8006 + 5000;
    expect((await monthToDate()).data).toEqual([{ currency: 'EUR', amount: settled, credits: 9, asOf: '2026-11-11' }]);

    // The month ends on one agent's credit: month-to-date never shows it (too few agents) ...
    clock.set('2026-11-30 12:00:00');
    await give(1, 777);
    expect((await monthToDate()).data).toEqual([{ currency: 'EUR', amount: settled, credits: 9, asOf: '2026-11-11' }]);
    // ... so November's total minus that last figure would be exactly that credit: November's EUR
    // release is withheld, as a currency-month that cannot be made safe is.
    clock.set('2026-12-01 00:00:10');
    const november = await call(a.base, 'GET', '/v1/reports/spend?from=2026-11&to=2026-11', undefined, financeToken);
    expect(november.status).toBe(200);
    expect(november.body).toMatchObject({ totals: [], rows: [], withheld: [{ month: '2026-11', currency: 'EUR' }] });
    const journal = await call(b.base, 'GET', '/v1/ledger/journal?from=2026-11&to=2026-11', undefined, financeToken);
    expect(journal.status).toBe(200);
    for (const line of journal.body.data) expect(line.net).toBeNull();
    // October (its last day passed) was published.
    const october = await call(b.base, 'GET', '/v1/reports/spend?from=2026-10&to=2026-10', undefined, financeToken);
    expect(october.body.withheld).toEqual([]);
  }, 120_000);

  it('refuses to start with a LEEWAY_TIMEZONE other than the one the latest release was cut in', async () => {
    const service = spawnService({
      ...clock.env,
      DATABASE_URL: pg.url,
      PORT: String(await freePort()),
      LEEWAY_TIMEZONE: 'Europe/Warsaw',
      LOG_LEVEL: 'warn',
    });
    const exit = await Promise.race([
      service.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(service.output())), 60_000)),
    ]);
    expect(exit.code).toBe(1);
    const lines = service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('Leeway failed to start'));
    // One line, naming both zones and the way out (the latest release is November once the test above ran).
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^Leeway failed to start: LEEWAY_TIMEZONE is "Europe\/Warsaw", but the month releases were cut in "UTC" \(the latest, 2026-1[01]\); .* so set LEEWAY_TIMEZONE=UTC$/,
    );
  }, 90_000);
});
