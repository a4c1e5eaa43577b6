/**
 * npm run bench:credits — POST /v1/credits throughput and latency against a fresh database, beside
 * pgbench doing the same statements by hand on the same server. Figures are compared as a ratio
 * within one run because the machines are shared and noisy.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { api, findPgbench, freshDatabase, startService } from './bench-support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon');

const AGENTS = 100;
const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 20);
const CASES = 50_000;
const BOOTSTRAP = `bench-${randomUUID()}`;
// A realistic spread of reasons, kinds and channels, as in real traffic.
const REASONS = ['late_delivery', 'damaged_item', 'billing_error', 'service_failure', 'long_wait'];
const KINDS = ['refund', 'store_credit', 'voucher'];
const CHANNELS = ['phone', 'chat', 'email'];
const sqlPick = (values: string[], v: string) => `(ARRAY[${values.map((x) => `'${x}'`).join(',')}])[:${v}]`;

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

async function driveService(url: string, tokens: string[]): Promise<Figures> {
  const run = (seconds: number) =>
    new Promise<any>((done, fail) => {
      const instance = autocannon(
        {
          url,
          connections: CONNECTIONS,
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
  const r = await run(DURATION_S);
  return {
    rate: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    total: r.requests.total,
  };
}

/**
 * The database work of one POST /v1/credits, statement for statement, as a pgbench script.
 * (Colons in account names are written \\x3a because pgbench reads `:name` as a variable.)
 */
const pgbenchScript = () => `
\\set n random(1, ${AGENTS})
\\set c random(0, ${CASES - 1})
\\set amount random(500, 5499)
\\set k random(1, 1000000000000)
\\set ri random(1, ${REASONS.length})
\\set ki random(1, ${KINDS.length})
\\set ci random(1, ${CHANNELS.length})
SELECT u.id AS agent_id, u.role_id, u.team_id FROM tokens t JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = (SELECT token_hash FROM bench_agents WHERE n = :n) AND t.revoked_at IS NULL AND u.active \\gset
BEGIN;
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES (:agent_id::uuid, 'pgb-' || :client_id::text || '-' || :k::text, sha256('x'::bytea))
 ON CONFLICT ON CONSTRAINT idempotency_keys_pk DO NOTHING RETURNING 1;
SELECT ${sqlPick(REASONS, 'ri')} AS reason, ${sqlPick(KINDS, 'ki')} AS kind, ${sqlPick(CHANNELS, 'ci')} AS channel \\gset
SELECT (SELECT active FROM reasons WHERE code = :reason) AS reason_active, r.current_limits_version AS version,
       l.currency, l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month
  FROM (SELECT 1) one LEFT JOIN roles r ON r.id = :role_id::uuid
  LEFT JOIN role_limits l ON l.role_id = r.id AND l.version = r.current_limits_version AND l.currency = 'EUR' \\gset
INSERT INTO usage_case AS u (case_ref, currency, used) VALUES ('C-' || :c::text, 'EUR', :amount::bigint)
 ON CONFLICT (case_ref, currency) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used;
INSERT INTO usage_agent_day AS u (agent_id, currency, day, used) VALUES (:agent_id::uuid, 'EUR', (now() AT TIME ZONE 'UTC')::date, :amount::bigint)
 ON CONFLICT (agent_id, currency, day) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used, day::text;
INSERT INTO usage_agent_month AS u (agent_id, currency, month, used)
 VALUES (:agent_id::uuid, 'EUR', date_trunc('month', now() AT TIME ZONE 'UTC')::date, :amount::bigint)
 ON CONFLICT (agent_id, currency, month) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used;
WITH credit AS (
  INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code, case_ref,
                       customer_ref, channel, note, occurred_at, local_day, within_discretion, overrun, unbudgeted, binding_limit)
  VALUES (gen_random_uuid(), :agent_id::uuid, :role_id::uuid, :team_id::uuid, :version::int, :amount::bigint, 'EUR', :kind, :reason, 'C-' || :c::text,
          NULL, :channel, NULL, now(), (now() AT TIME ZONE 'UTC')::date, :amount::bigint, 0, false, 'none')
  RETURNING id, recorded_at
), posted AS (
  INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
  SELECT credit.id, 'credit', 'EUR', E'goodwill\\x3awithin-discretion', E'remedies\\x3aowed', :amount::bigint, (now() AT TIME ZONE 'UTC')::date FROM credit
)
SELECT id AS credit_id, recorded_at FROM credit \\gset
UPDATE idempotency_keys SET status_code = 201, response = repeat('x', 900), credit_id = :credit_id::uuid
 WHERE user_id = :agent_id::uuid AND key = 'pgb-' || :client_id::text || '-' || :k::text;
COMMIT;
`;

async function drivePgbench(
  pgbench: string,
  url: string,
  seconds: number,
): Promise<{ tps: number; p50: number | null; detail: string }> {
  const u = new URL(url);
  const script = join(tmpdir(), `leeway-credit-${process.pid}.sql`);
  await writeFile(script, pgbenchScript());
  const args = [
    '-n',
    // Extended protocol with unnamed statements: what node-postgres sends for parameterised queries.
    '-M',
    'extended',
    '-h',
    u.hostname,
    '-p',
    u.port,
    '-U',
    decodeURIComponent(u.username),
    '-c',
    String(CONNECTIONS),
    '-j',
    '2',
    '-f',
    script,
    u.pathname.slice(1),
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  await promisify(execFile)(pgbench, [...args, '-T', '3'], { env }); // warm-up
  const { stdout } = await promisify(execFile)(pgbench, [...args, '-T', String(seconds)], { env });
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? NaN);
  return {
    tps,
    p50: Number.isFinite(latency) ? latency : null,
    detail: stdout.trim().split('\n').slice(-6).join('\n'),
  };
}

async function main(): Promise<void> {
  const { db, cleanup } = await freshDatabase();
  const service = await startService({ DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP });
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
    console.log(`bench:credits — ${AGENTS} agents, ${CONNECTIONS} connections, ${DURATION_S}s per phase`);

    const svc = await driveService(service.url, tokens);
    console.log(
      `service  : ${svc.rate.toFixed(0)} credits/s  p50 ${svc.p50} ms  p99 ${svc.p99} ms  errors ${svc.errors}  non-2xx ${svc.non2xx}  (${svc.total} requests)`,
    );

    const pgbench = findPgbench();
    if (!pgbench) {
      console.log('pgbench  : not found (install postgresql-client or PostgreSQL); ratio not computed');
      return;
    }
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const hashes = await client.query(
      `SELECT row_number() OVER (ORDER BY u.display_name) AS n, t.token_hash FROM tokens t JOIN users u ON u.id = t.user_id
        WHERE 'agent' = ANY(u.access)`,
    );
    await client.query(`CREATE TABLE bench_agents (n int PRIMARY KEY, token_hash bytea NOT NULL)`);
    for (const row of hashes.rows) {
      await client.query(`INSERT INTO bench_agents VALUES ($1, $2)`, [row.n, row.token_hash]);
    }
    await client.end();
    const pg = await drivePgbench(pgbench, db.url, DURATION_S);
    console.log(`pgbench  : ${pg.tps.toFixed(0)} tps  latency avg ${pg.p50} ms  (same statements, same server)`);
    console.log(`ratio    : ${(svc.rate / pg.tps).toFixed(2)} (service credits/s ÷ pgbench tps; target ≥ 0.5)`);

    console.log(
      `verdict  : errors ${svc.errors + svc.non2xx === 0 ? 'none' : 'SOME'}, p99 ${svc.p99 < 100 ? '<' : '≥'} 100 ms`,
    );
  } finally {
    await service.stop();
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
