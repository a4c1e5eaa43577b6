/**
 * bench:reports — seeds a large history (default 10,000,000 credits, 1,000 agents, 365 days) into a
 * fresh embedded PostgreSQL, starts the service on it, and times three reports over HTTP beside the
 * plain GROUP BY over the credits table that answers the same question, in the same run.
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
import { seed } from '../../src/seed/seed';
import { freshDatabase, startService } from './bench-support';

const CREDITS = Number(process.env.BENCH_CREDITS ?? 10_000_000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SCAN_RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 5);
const REUSE_URL = process.env.BENCH_DATABASE_URL;

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
    const checking = Date.now();
    const invariants = await checkInvariants(q);
    const broken = invariants.filter((r) => !r.ok);
    console.log(
      `invariants: ${invariants.length - broken.length}/${invariants.length} hold${broken.length ? ` — FAILED: ${broken.map((b) => b.name).join('; ')}` : ''} (checked in ${((Date.now() - checking) / 1000).toFixed(0)} s)`,
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
    const [{ from, to }] = await q.query(
      `SELECT (date_trunc('month', current_date) - interval '12 months')::date::text AS from,
              (date_trunc('month', current_date) - interval '1 day')::date::text AS to`,
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
        return (await res.json()) as { rows: unknown[] };
      };
      const live = `FROM credits c WHERE c.local_day BETWEEN '${from}' AND '${to}'
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
        const body = await get(c.path);
        const report = await time(RUNS, () => get(c.path));
        const scan = await time(SCAN_RUNS, () => client.query(c.scan));
        console.log(
          `  ${c.name.padEnd(38)} report ${report.toFixed(1).padStart(7)} ms   scan ${scan.toFixed(0).padStart(6)} ms   ${(scan / report).toFixed(1)}× faster   (${body.rows.length} rows)`,
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
