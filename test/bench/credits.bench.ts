/**
 * npm run bench:credits — POST /v1/credits throughput, latency and memory at 4, 32 and 128
 * concurrent connections against a fresh database, each beside pgbench running the plain
 * transaction a credit needs (three usage upserts, one credit row, two posting rows) on the same
 * server. Figures are compared as a ratio within one run because the machines are shared and noisy.
 *
 *   BENCH_SECONDS=20            seconds per phase
 *   BENCH_CONNECTIONS=4,32,128  the connection counts
 *   BENCH_SERVER_URL=postgres://user@host:port/postgres
 *                               another PostgreSQL server (PostgreSQL 15, say): a fresh database is
 *                               made on it and dropped afterwards; by default an embedded one
 *   BENCH_CPU_PROF=dir          the service runs with --cpu-prof; where its busy time went is printed
 *   BENCH_NODE_ARGS='--flag …'  more Node flags for the service (after those `npm start` uses)
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { api, findPgbench, freshDatabase, percentile, startService, rssMiB } from './bench-support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon');

const AGENTS = 100;
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '4,32,128').split(',').map(Number);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 20);
const SERVER_URL = process.env.BENCH_SERVER_URL;
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CASES = 50_000;
const BOOTSTRAP = `bench-${randomUUID()}`;
// A realistic spread of reasons, kinds and channels, as in real traffic.
const REASONS = ['late_delivery', 'damaged_item', 'billing_error', 'service_failure', 'long_wait'];
const KINDS = ['refund', 'store_credit', 'voucher'];
const CHANNELS = ['phone', 'chat', 'email'];

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  rssPeakMiB: number;
}

async function driveService(url: string, tokens: string[], connections: number, pid: number): Promise<Figures> {
  const run = (seconds: number) =>
    new Promise<any>((done, fail) => {
      const instance = autocannon(
        {
          url,
          connections,
          duration: seconds,
          requests: [
            {
              method: 'POST',
              path: '/v1/credits',
              setupRequest: (req: any) => {
                const token = tokens[Math.floor(Math.random() * tokens.length)];
                req.headers = {
                  authorization: `Bearer ${token}`,
                  'content-type': 'application/json',
                  'idempotency-key': randomUUID(),
                };
                req.body = JSON.stringify({
                  amount: 500 + Math.floor(Math.random() * 5000),
                  currency: 'EUR',
                  kind: KINDS[Math.floor(Math.random() * KINDS.length)],
                  reasonCode: REASONS[Math.floor(Math.random() * REASONS.length)],
                  caseRef: `C-${Math.floor(Math.random() * CASES)}`,
                  channel: CHANNELS[Math.floor(Math.random() * CHANNELS.length)],
                });
                return req;
              },
            },
          ],
        },
        (err: Error | null, result: any) => (err ? fail(err) : done(result)),
      );
      process.once('SIGINT', () => instance.stop());
    });
  await run(3); // warm-up: JIT, pool, caches
  let rssPeakMiB = rssMiB(pid);
  const sampler = setInterval(() => (rssPeakMiB = Math.max(rssPeakMiB, rssMiB(pid))), 100);
  const r = await run(DURATION_S).finally(() => clearInterval(sampler));
  return {
    rate: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    total: r.requests.total,
    rssPeakMiB,
  };
}

/**
 * The plain transaction a credit needs, by hand: three usage upserts, the credit row and its two
 * posting lines (six statements between BEGIN and COMMIT). No authentication, idempotency key,
 * reason or limits lookup: the floor the service is measured against.
 * (Colons in account names are written \\x3a because pgbench reads `:name` as a variable.)
 */
const pgbenchScript = () => `
\\set n random(1, ${AGENTS})
\\set c random(0, ${CASES - 1})
\\set amount random(500, 5499)
BEGIN;
INSERT INTO usage_case AS u (case_ref, currency, used) VALUES ('C-' || :c::text, 'EUR', :amount::bigint)
 ON CONFLICT (case_ref, currency) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used;
INSERT INTO usage_agent_day AS u (agent_id, currency, day, used)
 VALUES ((SELECT agent_id FROM bench_agents WHERE n = :n), 'EUR', (now() AT TIME ZONE 'UTC')::date, :amount::bigint)
 ON CONFLICT (agent_id, currency, day) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used, day::text;
INSERT INTO usage_agent_month AS u (agent_id, currency, month, used)
 VALUES ((SELECT agent_id FROM bench_agents WHERE n = :n), 'EUR', date_trunc('month', now() AT TIME ZONE 'UTC')::date, :amount::bigint)
 ON CONFLICT (agent_id, currency, month) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used;
INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code, case_ref,
                     customer_ref, channel, note, occurred_at, local_day, within_discretion, overrun, unbudgeted, binding_limit)
SELECT gen_random_uuid(), a.agent_id, a.role_id, a.team_id, 1, :amount::bigint, 'EUR', 'refund', 'late_delivery', 'C-' || :c::text,
       NULL, 'phone', NULL, now(), (now() AT TIME ZONE 'UTC')::date, :amount::bigint - 100, 100, false, 'perCredit'
  FROM bench_agents a WHERE a.n = :n
RETURNING id AS credit_id \\gset
INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
 VALUES (:credit_id::uuid, 'credit', 'EUR', E'goodwill\\x3awithin-discretion', E'remedies\\x3aowed', :amount::bigint - 100, (now() AT TIME ZONE 'UTC')::date);
INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
 VALUES (:credit_id::uuid, 'credit', 'EUR', E'goodwill\\x3acost-of-doing-business', E'remedies\\x3aowed', 100, (now() AT TIME ZONE 'UTC')::date);
COMMIT;
`;

async function drivePgbench(
  pgbench: string,
  url: string,
  connections: number,
): Promise<{ tps: number; p50: number; p99: number; failed: number }> {
  const u = new URL(url);
  const script = join(tmpdir(), `leeway-credit-${process.pid}.sql`);
  const logDir = await mkdtemp(join(tmpdir(), 'leeway-pgbench-'));
  await writeFile(script, pgbenchScript());
  const host = u.searchParams.get('host') ?? u.hostname;
  const args = [
    '-n',
    // Extended protocol with unnamed statements: what node-postgres sends for parameterised queries.
    '-M',
    'extended',
    '-h',
    host,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username),
    '-c',
    String(connections),
    '-j',
    String(Math.min(2, connections)),
    '-f',
    script,
    decodeURIComponent(u.pathname.slice(1)),
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  await promisify(execFile)(pgbench, [...args, '-T', '3'], { env }); // warm-up
  // Every transaction's latency is logged (field 3, µs), for percentiles beside the service's.
  const { stdout } = await promisify(execFile)(
    pgbench,
    [...args, '-T', String(DURATION_S), '-l', `--log-prefix=${join(logDir, 'tx')}`],
    { env, maxBuffer: 1 << 24 },
  );
  const latencies = readdirSync(logDir)
    .flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n'))
    .filter((line) => line.length > 0)
    .map((line) => Number(line.split(' ')[2]) / 1000)
    .sort((a, b) => a - b);
  await rm(logDir, { recursive: true, force: true });
  return {
    tps: Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    failed: Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0),
  };
}

/** A fresh database: embedded, or made on BENCH_SERVER_URL's server and dropped afterwards. */
async function database(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (!SERVER_URL) {
    const { db, cleanup } = await freshDatabase();
    return { url: db.url, cleanup };
  }
  const name = `leeway_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    cleanup: async () => {
      const c = new Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Where the service's busy time went, from its CPU profile: self time summed per package (or
 * Node's own internals, the garbage collector and native calls), as a share of busy time.
 */
function profileSummary(dir: string): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return ['no profile written'];
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  prof.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    let bucket: string;
    if (functionName === '(idle)') return;
    if (functionName.startsWith('(')) bucket = functionName;
    else if (url.includes('node_modules/')) bucket = url.split('node_modules/').pop()!.split('/').slice(0, 2).join('/');
    else if (url.includes('/dist/src/')) bucket = 'leeway';
    else if (url.startsWith('node:')) bucket = 'node internals';
    else bucket = url === '' ? `native: ${functionName}` : url;
    if (bucket.startsWith('@') === false && bucket.includes('/') && !bucket.startsWith('native'))
      bucket = bucket.split('/')[0];
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const busy = [...buckets.values()].reduce((a, b) => a + b, 0);
  return [...buckets]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`);
}

async function main(): Promise<void> {
  const db = await database();
  if (PROFILE_DIR) await mkdir(PROFILE_DIR, { recursive: true });
  const service = await startService({ DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP }, [
    ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    ...NODE_ARGS,
  ]);
  let stopped = false;
  try {
    const admin = BOOTSTRAP;
    const role = await api(service.url, 'POST', '/v1/roles', admin, { name: 'Frontline' });
    const leaderUser = await api(service.url, 'POST', '/v1/users', admin, { displayName: 'Lead', access: ['leader'] });
    const leader = (await api(service.url, 'POST', `/v1/users/${leaderUser.id}/tokens`, admin, {})).token;
    await api(service.url, 'PUT', `/v1/roles/${role.id}/limits`, leader, {
      limits: [{ currency: 'EUR', perCredit: 5000, perCase: 20000, perAgentDay: 50000, perAgentMonth: 500000 }],
    });
    const team = await api(service.url, 'POST', '/v1/teams', admin, { name: 'Bench team' });
    const tokens: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const user = await api(service.url, 'POST', '/v1/users', admin, {
        displayName: `Agent ${i}`,
        access: ['agent'],
        roleId: role.id,
        teamId: team.id,
      });
      tokens.push((await api(service.url, 'POST', `/v1/users/${user.id}/tokens`, admin, {})).token);
    }
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const [{ server }] = (await client.query(`SELECT split_part(version(), ' ', 2) AS server`)).rows;
    await client.query(
      `CREATE TABLE bench_agents AS
         SELECT row_number() OVER (ORDER BY display_name)::int AS n, id AS agent_id, role_id, team_id
           FROM users WHERE 'agent' = ANY(access)`,
    );
    await client.query(`ALTER TABLE bench_agents ADD PRIMARY KEY (n)`);
    await client.end();
    const pgbench = findPgbench();
    console.log(
      `bench:credits — PostgreSQL ${server}, ${AGENTS} agents, ${DURATION_S} s per phase, Node ${process.version}`,
    );
    console.log(
      'connections | service credits/s | p50 | p99 | errors | peak RSS | pgbench tps | pgbench p50 | pgbench p99 | ratio',
    );
    for (const connections of CONNECTIONS) {
      const svc = await driveService(service.url, tokens, connections, service.child.pid!);
      const pg = pgbench ? await drivePgbench(pgbench, db.url, connections) : null;
      console.log(
        [
          String(connections).padStart(11),
          svc.rate.toFixed(0).padStart(17),
          `${svc.p50} ms`,
          `${svc.p99} ms`,
          String(svc.errors + svc.non2xx),
          `${svc.rssPeakMiB.toFixed(0)} MiB`,
          pg ? `${pg.tps.toFixed(0)}${pg.failed ? ` (${pg.failed} failed)` : ''}` : 'pgbench not found',
          pg ? `${pg.p50} ms` : '-',
          pg ? `${pg.p99} ms` : '-',
          pg ? (svc.rate / pg.tps).toFixed(2) : '-',
        ].join(' | '),
      );
    }
    console.log('(ratio: service credits/s ÷ pgbench transactions/s; target at 32 connections ≥ 0.4, p99 ≤ 60 ms)');
    await service.stop();
    stopped = true;
    if (PROFILE_DIR) {
      console.log(`where the service's busy time went (self time, ${PROFILE_DIR}):`);
      for (const line of profileSummary(PROFILE_DIR)) console.log(line);
    }
  } finally {
    if (!stopped) await service.stop();
    await db.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
