import { QueryRunner } from 'typeorm';
import { ACCOUNTS } from '../credits/credit-kinds';

export interface SeedOptions {
  credits: number;
  agents: number;
  days: number;
  /** IANA zone for local days, as LEEWAY_TIMEZONE. */
  timezone: string;
  /** 0..1, for a repeatable history. */
  randomSeed?: number;
}

export interface SeedSummary {
  credits: number;
  reversals: number;
  agents: number;
  steps: Array<{ step: string; ms: number }>;
}

const ROLES: Array<{
  name: string;
  share: number;
  limits: Record<string, [number | null, number | null, number | null, number | null]>;
}> = [
  {
    name: 'Frontline',
    share: 0.6,
    limits: {
      EUR: [2500, 5000, 10000, 150000],
      GBP: [2000, 4000, 8000, 120000],
      USD: [3000, 6000, 12000, 180000],
    },
  },
  {
    name: 'Senior agent',
    share: 0.25,
    limits: {
      EUR: [5000, 10000, 25000, 400000],
      GBP: [4000, 8000, 20000, 320000],
      USD: [6000, 12000, 30000, 480000],
    },
  },
  { name: 'Store lead', share: 0.1, limits: { EUR: [15000, 30000, 60000, null], GBP: [12000, 24000, 50000, null] } },
  // No USD limits: the few USD credits in this role are unbudgeted.
  { name: 'Specialist', share: 0.05, limits: { EUR: [8000, null, 40000, null], GBP: [7000, null, 35000, null] } },
];

const TEAMS: Array<{ name: string; currency: string }> = [
  { name: 'Amsterdam', currency: 'EUR' },
  { name: 'Berlin', currency: 'EUR' },
  { name: 'Dublin', currency: 'EUR' },
  { name: 'Lisbon', currency: 'EUR' },
  { name: 'Madrid', currency: 'EUR' },
  { name: 'Milan', currency: 'EUR' },
  { name: 'Leeds', currency: 'GBP' },
  { name: 'London', currency: 'GBP' },
  { name: 'Manchester', currency: 'GBP' },
  { name: 'Austin', currency: 'USD' },
];

/** Weighted choices, spelled as arrays so SQL can pick with one random index. */
const weighted = (pairs: Array<[string, number]>) => pairs.flatMap(([v, n]) => Array<string>(n).fill(v));
const REASONS = weighted([
  ['late_delivery', 8],
  ['damaged_item', 5],
  ['billing_error', 4],
  ['service_failure', 3],
  ['product_defect', 3],
  ['long_wait', 3],
  ['wrong_item', 2],
  ['repeat_contact', 2],
  ['goodwill_gesture', 1],
  ['other', 1],
]);
const KINDS = weighted([
  ['refund', 8],
  ['store_credit', 5],
  ['voucher', 4],
  ['waived_fee', 3],
  ['replacement', 2],
  ['upgrade', 1],
  ['gift', 1],
  ['other', 1],
]);
const CHANNELS = weighted([
  ['phone', 6],
  ['chat', 5],
  ['email', 3],
  ['in_person', 2],
  ['social', 1],
  ['other', 1],
]);

const sqlArray = (values: string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(',')}]::text[]`;
const pick = (values: string[]) => `(${sqlArray(values)})[1 + floor(random() * ${values.length})::int]`;

/**
 * Fills an empty ledger with a synthetic history through set-based SQL, keeping every invariant
 * the service keeps one credit at a time: the split rule in occurrence order (window sums), balanced
 * postings and usage counters (the seed CLI then releases every closed month). Reversals are corrections made now by finance, after
 * every seeded credit, so they never change another credit's split.
 */
export async function seed(q: QueryRunner, opts: SeedOptions, log: (line: string) => void): Promise<SeedSummary> {
  const steps: SeedSummary['steps'] = [];
  const step = async (name: string, fn: () => Promise<unknown>) => {
    const started = Date.now();
    await fn();
    steps.push({ step: name, ms: Date.now() - started });
    log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  const [{ n }] = await q.query(`SELECT count(*)::int AS n FROM credits`);
  if (n > 0) throw new Error(`the ledger already holds ${n} credits; seed an empty database`);

  await q.startTransaction('READ COMMITTED');
  try {
    // Demonstration history: no events for webhooks (see migration 1765200000000).
    await q.query(`SET LOCAL leeway.no_events = 'on'`);
    await q.query(`SET LOCAL statement_timeout = 0`);
    await q.query(`SET LOCAL work_mem = '256MB'`);
    await q.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    await q.query(`SELECT setseed($1)`, [opts.randomSeed ?? 0.42]);
    const tz = opts.timezone;

    await step('people, roles, teams and limits', async () => {
      await q.query(`CREATE TEMP TABLE seed_teams (id uuid, currency char(3)) ON COMMIT DROP`);
      for (const t of TEAMS) {
        await q.query(
          `WITH ins AS (INSERT INTO teams (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id)
           INSERT INTO seed_teams SELECT coalesce((SELECT id FROM ins), (SELECT id FROM teams WHERE name = $1)), $2`,
          [t.name, t.currency],
        );
      }
      const [finance] = await q.query(
        `INSERT INTO users (display_name, access) VALUES ('Seed finance', ARRAY['finance']) RETURNING id`,
      );
      await q.query(`CREATE TEMP TABLE seed_roles (id uuid, lo float8, hi float8) ON COMMIT DROP`);
      let lo = 0;
      for (const r of ROLES) {
        const [role] = await q.query(
          `INSERT INTO roles (name, description, current_limits_version)
           VALUES ($1, 'Seeded job role', 1)
           ON CONFLICT (name) DO UPDATE SET current_limits_version = roles.current_limits_version + 1
           RETURNING id, current_limits_version AS version`,
          [r.name],
        );
        await q.query(`INSERT INTO role_limit_versions (role_id, version, set_by) VALUES ($1, $2, NULL)`, [
          role.id,
          role.version,
        ]);
        for (const [currency, [perCredit, perCase, perDay, perMonth]] of Object.entries(r.limits)) {
          await q.query(
            `INSERT INTO role_limits (role_id, version, currency, per_credit, per_case, per_agent_day, per_agent_month)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [role.id, role.version, currency, perCredit, perCase, perDay, perMonth],
          );
        }
        await q.query(`INSERT INTO seed_roles VALUES ($1, $2, $3)`, [role.id, lo, lo + r.share]);
        lo += r.share;
      }
      await q.query(
        `CREATE TEMP TABLE seed_agents ON COMMIT DROP AS
         WITH drawn AS (SELECT n, random() AS r, floor(random() * ${TEAMS.length})::int AS t
                          FROM generate_series(0, $1 - 1) n),
              teams AS (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS t FROM seed_teams),
              made AS (
                INSERT INTO users (display_name, access, role_id, team_id)
                SELECT 'Seed agent ' || lpad((d.n + 1)::text, 5, '0'), ARRAY['agent'],
                       (SELECT id FROM seed_roles WHERE d.r >= lo AND d.r < hi LIMIT 1), teams.id
                  FROM drawn d JOIN teams ON teams.t = d.t
                RETURNING id, role_id, team_id)
         SELECT row_number() OVER (ORDER BY m.id) - 1 AS n, m.id, m.role_id, m.team_id, st.currency
           FROM made m JOIN seed_teams st ON st.id = m.team_id`,
        [opts.agents],
      );
      await q.query(`CREATE UNIQUE INDEX ON seed_agents (n)`);
      await q.query(`CREATE TEMP TABLE seed_finance ON COMMIT DROP AS SELECT $1::uuid AS id`, [finance.id]);
    });

    await step('credits drawn', async () => {
      // Occurrence times spread over the last `days` days; amounts log-uniform 0.50–200.00 in steps of 0.50;
      // most teams work in one currency, a few credits in another; cases are sometimes shared.
      await q.query(
        `CREATE TEMP TABLE seed_credits ON COMMIT DROP AS
         SELECT gen_random_uuid() AS id, a.id AS agent_id, a.role_id, a.team_id,
                CASE WHEN g.r_cur < 0.95 THEN a.currency ELSE (ARRAY['EUR','GBP','USD'])[1 + floor(g.r_cur * 1000)::int % 3] END
                  AS currency,
                (ceil(exp(g.r_amt * ln(400))) * 50)::bigint AS amount,
                g.kind, g.reason_code, 'SEED-' || floor(g.r_case * $1 * 0.7)::bigint AS case_ref, g.channel,
                g.occurred_at, (g.occurred_at AT TIME ZONE $3)::date AS local_day,
                g.occurred_at + g.r_lag * interval '90 seconds' AS recorded_at
           FROM (SELECT floor(random() * $2)::int AS agent_n, random() AS r_cur, random() AS r_amt, random() AS r_case,
                        random() AS r_lag, ${pick(KINDS)} AS kind, ${pick(REASONS)} AS reason_code,
                        ${pick(CHANNELS)} AS channel,
                        now() - interval '10 minutes' - random() * $4 * interval '1 day' AS occurred_at
                   FROM generate_series(1, $1)) g
           JOIN seed_agents a ON a.n = g.agent_n`,
        [opts.credits, opts.agents, tz, opts.days],
      );
    });

    await step('split rule applied in occurrence order', async () => {
      await q.query(
        `INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code, case_ref,
                              channel, occurred_at, local_day, recorded_at, within_discretion, overrun, unbudgeted,
                              binding_limit)
         SELECT id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code, case_ref, channel,
                occurred_at, local_day, recorded_at, within, amount - within, unbudgeted,
                CASE WHEN unbudgeted THEN NULL
                     WHEN fit >= amount THEN 'none'
                     WHEN per_credit = fit THEN 'perCredit'
                     WHEN per_case - used_case = fit THEN 'perCase'
                     WHEN per_agent_day - used_day = fit THEN 'perAgentDay'
                     ELSE 'perAgentMonth' END
           FROM (SELECT w.*, CASE WHEN unbudgeted THEN 0 ELSE greatest(0, fit) END AS within
                   FROM (SELECT s.*, least(amount, per_credit, per_case - used_case, per_agent_day - used_day,
                                           per_agent_month - used_month) AS fit
                           FROM (SELECT c.*, r.current_limits_version AS limits_version, l.currency IS NULL AS unbudgeted,
                                        l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month,
                                        coalesce(sum(c.amount) OVER (PARTITION BY c.case_ref, c.currency
                                          ORDER BY c.occurred_at, c.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                                          AS used_case,
                                        coalesce(sum(c.amount) OVER (PARTITION BY c.agent_id, c.currency, c.local_day
                                          ORDER BY c.occurred_at, c.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                                          AS used_day,
                                        coalesce(sum(c.amount) OVER (PARTITION BY c.agent_id, c.currency,
                                          date_trunc('month', c.local_day)
                                          ORDER BY c.occurred_at, c.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                                          AS used_month
                                   FROM seed_credits c
                                   JOIN roles r ON r.id = c.role_id
                                   LEFT JOIN role_limits l
                                     ON l.role_id = c.role_id AND l.version = r.current_limits_version
                                    AND l.currency = c.currency) s) w) x`,
      );
    });

    await step('postings', async () => {
      await q.query(
        `INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, posted_at, local_day)
         SELECT id, 'credit', currency, a.debit, '${ACCOUNTS.owed}', a.amount, recorded_at, (recorded_at AT TIME ZONE $1)::date
           FROM credits CROSS JOIN LATERAL (VALUES ('${ACCOUNTS.within}', within_discretion),
                                                   ('${ACCOUNTS.overrun}', overrun)) a(debit, amount)
          WHERE a.amount > 0`,
        [tz],
      );
    });

    await step('reversals (1% of credits, corrections by finance)', async () => {
      await q.query(
        `INSERT INTO credit_reversals (id, credit_id, reversed_by, reason)
         SELECT gen_random_uuid(), id, (SELECT id FROM seed_finance), 'Seeded correction'
           FROM credits WHERE random() < 0.01`,
      );
      await q.query(
        `INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, posted_at, local_day)
         SELECT r.id, 'reversal', c.currency, '${ACCOUNTS.owed}', a.credit, a.amount, r.recorded_at,
                (r.recorded_at AT TIME ZONE $1)::date
           FROM credit_reversals r JOIN credits c ON c.id = r.credit_id
           CROSS JOIN LATERAL (VALUES ('${ACCOUNTS.within}', c.within_discretion),
                                      ('${ACCOUNTS.overrun}', c.overrun)) a(credit, amount)
          WHERE a.amount > 0`,
        [tz],
      );
    });

    await step('usage counters', async () => {
      const live = `FROM credits c WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`;
      await q.query(
        `INSERT INTO usage_case (case_ref, currency, used) SELECT case_ref, currency, sum(amount) ${live} GROUP BY 1, 2`,
      );
      await q.query(
        `INSERT INTO usage_agent_day (agent_id, currency, day, used)
         SELECT agent_id, currency, local_day, sum(amount) ${live} GROUP BY 1, 2, 3`,
      );
      await q.query(
        `INSERT INTO usage_agent_month (agent_id, currency, month, used)
         SELECT agent_id, currency, date_trunc('month', local_day)::date, sum(amount) ${live} GROUP BY 1, 2, 3`,
      );
    });

    await q.commitTransaction();
  } catch (error) {
    await q.rollbackTransaction();
    throw error;
  }
  await step('analyze', () => q.query(`ANALYZE`));
  const [{ credits, reversals }] = await q.query(
    `SELECT (SELECT count(*)::int FROM credits) AS credits, (SELECT count(*)::int FROM credit_reversals) AS reversals`,
  );
  return { credits, reversals, agents: opts.agents, steps };
}
