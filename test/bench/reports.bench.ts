/**
 * bench:reports — seeds a large history (default 10,000,000 credits, 1,000 agents, 365 days) into a
 * fresh embedded PostgreSQL, releases every closed month (timing each), starts the service on it,
 * times reports over HTTP beside the plain GROUP BY over the credits table that answers the same
 * question, in the same run, and prints the share of each month's spend that rows show for every
 * single key and pair of keys (the rest is notShown).
 *
 *   BENCH_CREDITS=10000000 BENCH_AGENTS=1000 BENCH_DAYS=365 BENCH_RUNS=15 npm run bench:reports
 *
 * Seeding 10,000,000 credits takes most of an hour here. To time again without seeding again, point
 * it at a database already filled by `npm run seed` (or by an earlier run that was stopped after
 * seeding): BENCH_DATABASE_URL=postgres://… npm run bench:reports. It migrates it, checks every
 * invariant and times the reports the same way.
 */
import { randomUUID } from 'node:crypto';
import { hashToken } from '../../src/access/token-hash';
import { Client } from 'pg';
import { checkInvariants } from '../../src/ledger/invariants';
import { createDataSource } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrate';
import { loadConfig } from '../../src/config/config';
import { ReleasesService } from '../../src/reports/releases.service';
import { seed } from '../../src/seed/seed';
import { freshDatabase, startService } from './bench-support';

const CREDITS = Number(process.env.BENCH_CREDITS ?? 10_000_000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SCAN_RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 5);
const REUSE_URL = process.env.BENCH_DATABASE_URL;

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return p50(samples);
}

async function main(): Promise<void> {
  const { db, cleanup } = REUSE_URL
    ? { db: { url: REUSE_URL }, cleanup: async () => undefined }
    : await freshDatabase();
  try {
    await runMigrations(db.url);
    const ds = createDataSource(db.url, { poolSize: 2, applicationName: 'leeway-bench-seed', longRunning: true });
    await ds.initialize();
    const q = ds.createQueryRunner();
    if (REUSE_URL) {
      const [{ credits }] = await q.query(`SELECT count(*)::int AS credits FROM credits`);
      console.log(`bench:reports — an existing database with ${credits} credits (not seeded again)`);
    } else {
      console.log(`bench:reports — seeding ${CREDITS} credits, ${AGENTS} agents, ${DAYS} days`);
      const started = Date.now();
      const summary = await seed(q, { credits: CREDITS, agents: AGENTS, days: DAYS, timezone: 'UTC' }, (l) =>
        console.log(`  ${l}`),
      );
      console.log(
        `seeded ${summary.credits} credits (${summary.reversals} reversed) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
    // Release every closed month, one at a time, as the service would on first read.
    const releases = new ReleasesService(ds, loadConfig({}));
    const due = (await releases.months()).filter((m) => m.state === 'due');
    // Peak resident memory while releasing, sampled every 50 ms: a release holds one month's cells,
    // never the ledger, so this stays flat whatever the history's length.
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    for (const m of due) {
      const [{ n }] = await q.query(
        `SELECT count(*)::int AS n FROM credits WHERE recorded_at >= $1::date AND recorded_at < ($1::date + interval '1 month')`,
        [`${m.month}-01`],
      );
      const started = Date.now();
      await releases.release(`${m.month}-01`);
      console.log(`released ${m.month}: ${n} credits in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    clearInterval(sampler);
    console.log(
      `release memory: process RSS ${mib(rssBefore)} MiB before, peak ${mib(rssPeak)} MiB while releasing ${due.length} month(s)`,
    );
    const checking = Date.now();
    // BENCH_INVARIANTS=0 skips the check on a database `npm run seed` has just checked (it takes
    // a quarter of an hour at 10,000,000 credits); the line below says so.
    const skip = process.env.BENCH_INVARIANTS === '0';
    const invariants = skip ? [] : await checkInvariants(q);
    const broken = invariants.filter((r) => !r.ok);
    console.log(
      skip
        ? 'invariants: not checked here (BENCH_INVARIANTS=0)'
        : `invariants: ${invariants.length - broken.length}/${invariants.length} hold${broken.length ? ` — FAILED: ${broken.map((b) => b.name).join('; ')}` : ''} (checked in ${((Date.now() - checking) / 1000).toFixed(0)} s)`,
    );
    // Timing reports over a ledger whose rollups disagree with it would measure nothing worth having.
    if (broken.length > 0) throw new Error('invariants do not hold; reports not timed');
    // The reader the reports are timed for: a finance user with a token of its own, made directly
    // (any database will do, whether or not it already has an admin).
    const token = `bench-${randomUUID()}`;
    await q.query(
      `WITH reader AS (INSERT INTO users (display_name, access) VALUES ('Bench finance', ARRAY['finance']) RETURNING id)
       INSERT INTO tokens (user_id, label, token_hash) SELECT id, 'bench:reports', $1 FROM reader`,
      [hashToken(token)],
    );
    // "The year": the last twelve complete months.
    const [{ from, to, first, last }] = await q.query(
      `SELECT to_char(date_trunc('month', current_date) - interval '12 months', 'YYYY-MM') AS from,
              to_char(date_trunc('month', current_date) - interval '1 month', 'YYYY-MM') AS to,
              (date_trunc('month', current_date) - interval '12 months')::date::text AS first,
              (date_trunc('month', current_date) - interval '1 day')::date::text AS last`,
    );
    await q.release();
    await ds.destroy();

    const service = await startService({ DATABASE_URL: db.url });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const get = async (path: string) => {
        const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`${path} → ${res.status} ${await res.text()}`);
        return (await res.json()) as {
          rows: Array<{ currency: string; amount: number; period?: string }>;
          totals: Array<{ currency: string; amount: number }>;
        };
      };
      const live = `FROM credits c WHERE c.recorded_at >= '${first}' AND c.recorded_at < '${last}'::date + 1
                      AND NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`;
      const cases = [
        {
          name: 'spend, year by month × reason',
          path: `/v1/reports/spend?from=${from}&to=${to}&period=month&groupBy=reason`,
          scan: `SELECT to_char(local_day, 'YYYY-MM'), reason_code, currency, count(DISTINCT agent_id), count(*), sum(amount),
                        sum(within_discretion), sum(overrun), count(*) FILTER (WHERE overrun > 0) ${live} GROUP BY 1, 2, 3`,
        },
        {
          name: 'spend, year by quarter × team × role',
          path: `/v1/reports/spend?from=${from}&to=${to}&period=quarter&groupBy=team,role`,
          scan: `SELECT to_char(local_day, 'YYYY-"Q"Q'), team_id, role_id, currency, count(DISTINCT agent_id), count(*),
                        sum(amount), sum(within_discretion), sum(overrun), count(*) FILTER (WHERE overrun > 0)
                   ${live} GROUP BY 1, 2, 3, 4`,
        },
        {
          name: 'limit-fit, year',
          path: `/v1/reports/limit-fit?from=${from}&to=${to}`,
          scan: `SELECT role_id, currency, count(DISTINCT agent_id), count(*),
                        percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY amount),
                        count(*) FILTER (WHERE overrun > 0), mode() WITHIN GROUP (ORDER BY binding_limit)
                   ${live} GROUP BY 1, 2`,
        },
      ];
      console.log(`reports (p50 of ${RUNS} HTTP calls) vs plain GROUP BY over credits (p50 of ${SCAN_RUNS}):`);
      for (const c of cases) {
        // The first read of a grouping after the service starts reads its months' stored rows from
        // the database; later reads find them in memory (a release never changes). Both are shown.
        const started = performance.now();
        const body = await get(c.path);
        const first = performance.now() - started;
        const report = await time(RUNS, () => get(c.path));
        const scan = await time(SCAN_RUNS, () => client.query(c.scan));
        console.log(
          `  ${c.name.padEnd(38)} report ${report.toFixed(1).padStart(7)} ms (first read ${first.toFixed(1)} ms)   scan ${scan.toFixed(0).padStart(6)} ms   ${(scan / report).toFixed(1)}× faster   (${body.rows.length} rows)`,
        );
      }
      // The other reports (no plain GROUP BY beside them: they answer from the releases, or, for the
      // open month, from its complete days, read once).
      for (const [name, path] of [
        ['months', '/v1/reports/months'],
        ['month-to-date', '/v1/reports/month-to-date'],
        ['journal, year', `/v1/ledger/journal?from=${from}&to=${to}`],
        ['balances, as at the last close', '/v1/ledger/balances'],
      ]) {
        const started = performance.now();
        await get(path);
        const first = performance.now() - started;
        const report = await time(RUNS, () => get(path));
        console.log(
          `  ${name.padEnd(38)} report ${report.toFixed(1).padStart(7)} ms (first read ${first.toFixed(1)} ms)`,
        );
      }
      // How much of each month's spend shows in rows, per grouping (the rest is in notShown).
      const keys = ['role', 'reason', 'kind', 'channel', 'team'];
      const groupings = [...keys.map((k) => [k]), ...keys.flatMap((a, i) => keys.slice(i + 1).map((b) => [a, b]))];
      const listed = (await (
        await fetch(`${service.url}/v1/reports/months`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { data: Array<{ month: string; state: string }> };
      const released = listed.data
        .filter((m) => m.state === 'released' && m.month >= from && m.month <= to)
        .map((m) => m.month);
      console.log(`share of each month's EUR spend shown in rows (mean over months, lowest month), ${AGENTS} agents:`);
      for (const g of groupings) {
        const body = await get(`/v1/reports/spend?from=${from}&to=${to}&period=month&groupBy=${g.join(',')}`);
        const perMonth = new Map<string, number>(released.map((m) => [m, 0]));
        for (const r of body.rows)
          if (r.currency === 'EUR') perMonth.set(r.period!, (perMonth.get(r.period!) ?? 0) + r.amount);
        const totals = await Promise.all(
          [...perMonth.keys()].map(async (m) => {
            const t = await get(`/v1/reports/spend?from=${m}&to=${m}`);
            return (perMonth.get(m) ?? 0) / (t.totals.find((x) => x.currency === 'EUR')?.amount ?? 1);
          }),
        );
        const mean = totals.reduce((s2, v) => s2 + v, 0) / Math.max(1, totals.length);
        console.log(
          `  ${g.join(' × ').padEnd(18)} ${(mean * 100).toFixed(1).padStart(5)}%   lowest ${(Math.min(...totals) * 100).toFixed(1)}%`,
        );
      }
    } finally {
      await client.end();
      await service.stop();
    }
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
