/**
 * Report rollups: derived from the ledger, folded in from a queue of committed changes, and
 * rebuildable from scratch. See migrations/1763800200000-create-report-rollups.ts and
 * migrations/1763900000000-queue-rollup-changes.ts.
 *
 * A credit or reversal writes one report_pending row in its own transaction and nothing else here,
 * so credits never wait on each other for a shared report row. `foldPending` takes a batch of
 * committed rows, adds them up per rollup row, applies the sums and deletes the batch, all in one
 * transaction: a change is folded exactly once, and a fold that fails leaves its batch queued.
 * Folds take turns on an advisory lock, so only one writer ever touches the rollup rows.
 */

/** How many agents a cell remembers. Fewer means "exactly these"; LEEWAY_MIN_COHORT may not exceed it. */
export const AGENT_SAMPLE = 20;

/** Most queued changes one fold takes, so that even a long backlog folds in bounded transactions. */
export const FOLD_BATCH = 20_000;

/** The advisory lock folds and rebuilds take turns on (transaction-scoped). */
const FOLD_LOCK = `hashtext('leeway.report_fold')`;

const NO_ID = `'00000000-0000-0000-0000-000000000000'::uuid`;

export interface Querier {
  query(sql: string, params?: unknown[]): Promise<any>;
}

export interface CreditFacts {
  agentId: string;
  roleId: string | null;
  teamId: string | null;
  currency: string;
  reasonCode: string;
  kind: string;
  channel: string | null;
  /** Local day of occurrence, YYYY-MM-DD. */
  day: string;
  amount: bigint;
  within: bigint;
  overrun: bigint;
  bindingLimit: string | null;
}

/**
 * Each credit of `credits` (a table or a parenthesised query) once per rollup grain, with the bucket
 * and the keys that grain keeps.
 */
function byGrain(credits: string): string {
  return `
  SELECT g.grain,
         CASE g.grain WHEN 'd' THEN c.local_day ELSE date_trunc('month', c.local_day)::date END AS bucket,
         c.currency,
         CASE WHEN g.grain = 'r' THEN NULL ELSE c.role_id END AS role_id,
         CASE WHEN g.grain = 'r' THEN NULL ELSE c.team_id END AS team_id,
         c.reason_code, c.kind, c.channel, c.agent_id, c.amount, c.within_discretion, c.overrun
    FROM ${credits} c CROSS JOIN (VALUES ('d'), ('m'), ('r')) g(grain)`;
}

/**
 * Takes the oldest queued changes (at most `limit`), adds the new credits among them to every rollup
 * with one set-based upsert per table, and answers which credits the batch takes out again.
 * Everything is summed per rollup row first, so a busy report row is written once per fold.
 */
const FOLD_ADDITIONS = `
  WITH taken AS (
    DELETE FROM report_pending WHERE id IN (SELECT id FROM report_pending ORDER BY id LIMIT $1)
    RETURNING id, credit_id, sign
  ), added AS MATERIALIZED (
    SELECT c.* FROM taken t JOIN credits c ON c.id = t.credit_id WHERE t.sign = 1
  ), per_agent AS (
    SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel, agent_id,
           count(*) AS credits, sum(amount) AS amount, sum(within_discretion) AS within_discretion,
           sum(overrun) AS overrun, count(*) FILTER (WHERE overrun > 0) AS credits_with_overrun
      FROM (${byGrain('added')}) l
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ), cell AS (
    INSERT INTO report_cells AS c (grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
                                   credits, amount, within_discretion, overrun, credits_with_overrun, agents)
    SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
           sum(credits), sum(amount), sum(within_discretion), sum(overrun), sum(credits_with_overrun),
           (array_agg(agent_id ORDER BY agent_id))[1:${AGENT_SAMPLE}]
      FROM per_agent GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT report_cells_key DO UPDATE SET
      credits = c.credits + EXCLUDED.credits,
      amount = c.amount + EXCLUDED.amount,
      within_discretion = c.within_discretion + EXCLUDED.within_discretion,
      overrun = c.overrun + EXCLUDED.overrun,
      credits_with_overrun = c.credits_with_overrun + EXCLUDED.credits_with_overrun,
      -- The sample takes newcomers while it has room. EXCLUDED.agents holds up to AGENT_SAMPLE of
      -- this batch's agents, which is enough: if it was cut short, the sample fills up either way.
      agents = CASE WHEN cardinality(c.agents) < ${AGENT_SAMPLE}
                    THEN (c.agents || ARRAY(SELECT x FROM unnest(EXCLUDED.agents) x WHERE x <> ALL (c.agents)))[1:${AGENT_SAMPLE}]
                    ELSE c.agents END
    RETURNING c.id, c.grain, c.bucket, c.currency, c.role_id, c.team_id, c.reason_code, c.kind, c.channel
  ), member AS (
    INSERT INTO report_cell_agents AS a (cell_id, agent_id, credits)
    SELECT cell.id, p.agent_id, p.credits
      FROM per_agent p
      JOIN cell ON cell.grain = p.grain AND cell.bucket = p.bucket AND cell.currency = p.currency
             AND coalesce(cell.role_id, ${NO_ID}) = coalesce(p.role_id, ${NO_ID})
             AND coalesce(cell.team_id, ${NO_ID}) = coalesce(p.team_id, ${NO_ID})
             AND cell.reason_code = p.reason_code AND cell.kind = p.kind
             AND coalesce(cell.channel, '') = coalesce(p.channel, '')
    ON CONFLICT ON CONSTRAINT report_cell_agents_pk DO UPDATE SET credits = a.credits + EXCLUDED.credits
  ), amounts AS (
    INSERT INTO report_amounts AS r (month, role_id, currency, amount, credits, credits_with_overrun,
                                     bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
    SELECT date_trunc('month', local_day)::date, role_id, currency, amount,
           count(*), count(*) FILTER (WHERE overrun > 0),
           count(*) FILTER (WHERE binding_limit = 'perCredit'), count(*) FILTER (WHERE binding_limit = 'perCase'),
           count(*) FILTER (WHERE binding_limit = 'perAgentDay'), count(*) FILTER (WHERE binding_limit = 'perAgentMonth')
      FROM added GROUP BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT report_amounts_key DO UPDATE SET
      credits = r.credits + EXCLUDED.credits,
      credits_with_overrun = r.credits_with_overrun + EXCLUDED.credits_with_overrun,
      bound_per_credit = r.bound_per_credit + EXCLUDED.bound_per_credit,
      bound_per_case = r.bound_per_case + EXCLUDED.bound_per_case,
      bound_per_agent_day = r.bound_per_agent_day + EXCLUDED.bound_per_agent_day,
      bound_per_agent_month = r.bound_per_agent_month + EXCLUDED.bound_per_agent_month
  ), agent_month AS (
    INSERT INTO report_agent_months AS g (month, currency, role_id, team_id, agent_id,
                                          credits, amount, within_discretion, overrun, credits_with_overrun)
    SELECT date_trunc('month', local_day)::date, currency, role_id, team_id, agent_id,
           count(*), sum(amount), sum(within_discretion), sum(overrun), count(*) FILTER (WHERE overrun > 0)
      FROM added GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT report_agent_months_key DO UPDATE SET
      credits = g.credits + EXCLUDED.credits,
      amount = g.amount + EXCLUDED.amount,
      within_discretion = g.within_discretion + EXCLUDED.within_discretion,
      overrun = g.overrun + EXCLUDED.overrun,
      credits_with_overrun = g.credits_with_overrun + EXCLUDED.credits_with_overrun
  )
  SELECT (SELECT count(*) FROM taken)::int AS taken,
         (SELECT count(*) FROM taken WHERE sign = 1)::int AS added,
         (SELECT count(*) FROM added)::int AS found,
         (SELECT coalesce(array_agg(credit_id::text ORDER BY id), '{}') FROM taken WHERE sign = -1) AS removed`;

/**
 * Folds up to `limit` of the oldest committed changes into the rollups. Run it inside a transaction:
 * the lock, the queue rows it deletes and the rollup rows it writes all commit or roll back together.
 * With `wait: false` it gives way to a fold already running and answers null; otherwise it answers
 * how many changes it folded (fewer than `limit` means the queue was drained).
 */
export async function foldPending(m: Querier, opts: { wait: boolean; limit?: number }): Promise<number | null> {
  if (opts.wait) {
    await m.query(`SELECT pg_advisory_xact_lock(${FOLD_LOCK})`);
  } else {
    const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(${FOLD_LOCK}) AS locked`);
    if (!locked) return null;
  }
  const [batch]: Array<{ taken: number; added: number; found: number; removed: string[] }> = await m.query(
    FOLD_ADDITIONS,
    [opts.limit ?? FOLD_BATCH],
  );
  if (batch.added !== batch.found) {
    throw new Error(`report queue names ${batch.added - batch.found} credit(s) that do not exist`);
  }
  if (batch.removed.length > 0) {
    // Reversals are few: take each credit out row by row, after this batch's additions.
    const rows: Array<Record<string, any>> = await m.query(
      `SELECT c.*, c.local_day::text AS day FROM unnest($1::uuid[]) WITH ORDINALITY r(id, n)
         JOIN credits c ON c.id = r.id ORDER BY r.n`,
      [batch.removed],
    );
    if (rows.length !== batch.removed.length)
      throw new Error('report queue names a reversed credit that does not exist');
    for (const row of rows) {
      await removeCredit(m, {
        agentId: row.agent_id,
        roleId: row.role_id,
        teamId: row.team_id,
        currency: row.currency,
        reasonCode: row.reason_code,
        kind: row.kind,
        channel: row.channel,
        day: row.day,
        amount: BigInt(row.amount),
        within: BigInt(row.within_discretion),
        overrun: BigInt(row.overrun),
        bindingLimit: row.binding_limit,
      });
    }
  }
  return batch.taken;
}

/** `column = $n`, or `column IS NULL` so that the unique index still serves a NULL key. */
function same(column: string, value: string | null, params: unknown[]): string {
  if (value === null) return `${column} IS NULL`;
  params.push(value);
  return `${column} = $${params.length}`;
}

/**
 * Takes a reversed credit back out of the rollups (reports exclude reversed credits entirely); only
 * a fold calls it. Plain UPDATEs, one per row: an upsert would check its negative insert row
 * against the CHECK constraints.
 */
async function removeCredit(m: Querier, c: CreditFacts): Promise<void> {
  const sums = [c.amount.toString(), c.within.toString(), c.overrun.toString(), c.overrun > 0n ? '1' : '0'];
  const cells: string[] = [];
  for (const grain of ['d', 'm', 'r'] as const) {
    const params: unknown[] = [...sums, grain, c.day, c.currency, c.reasonCode, c.kind];
    const where = [
      `grain = $5`,
      `bucket = ${grain === 'd' ? '$6::date' : `date_trunc('month', $6::date)::date`}`,
      `currency = $7`,
      `reason_code = $8`,
      `kind = $9`,
      same('role_id', grain === 'r' ? null : c.roleId, params),
      same('team_id', grain === 'r' ? null : c.teamId, params),
      same('channel', c.channel, params),
    ];
    const [row]: Array<{ id: string }> = await m.query(
      // (Wrapped in a CTE: TypeORM hands back UPDATE … RETURNING as [rows, count].)
      `WITH changed AS (
         UPDATE report_cells SET credits = credits - 1, amount = amount - $1, within_discretion = within_discretion - $2,
                overrun = overrun - $3, credits_with_overrun = credits_with_overrun - $4
          WHERE ${where.join(' AND ')} RETURNING id)
       SELECT id FROM changed`,
      params,
    );
    if (!row) throw new Error(`report rollup missing for credit (${grain} ${c.day}); rebuild the rollups`);
    cells.push(String(row.id));
  }
  const bound = (key: string) => (c.bindingLimit === key ? 1 : 0);
  const amountParams: unknown[] = [
    c.day,
    c.currency,
    c.amount.toString(),
    c.overrun > 0n ? 1 : 0,
    bound('perCredit'),
    bound('perCase'),
    bound('perAgentDay'),
    bound('perAgentMonth'),
  ];
  await m.query(
    `UPDATE report_amounts SET credits = credits - 1, credits_with_overrun = credits_with_overrun - $4,
            bound_per_credit = bound_per_credit - $5, bound_per_case = bound_per_case - $6,
            bound_per_agent_day = bound_per_agent_day - $7, bound_per_agent_month = bound_per_agent_month - $8
      WHERE month = date_trunc('month', $1::date)::date AND currency = $2 AND amount = $3
        AND ${same('role_id', c.roleId, amountParams)}`,
    amountParams,
  );
  const monthParams: unknown[] = [c.day, c.currency, c.agentId, ...sums];
  await m.query(
    `UPDATE report_agent_months SET credits = credits - 1, amount = amount - $4, within_discretion = within_discretion - $5,
            overrun = overrun - $6, credits_with_overrun = credits_with_overrun - $7
      WHERE month = date_trunc('month', $1::date)::date AND currency = $2 AND agent_id = $3
        AND ${same('role_id', c.roleId, monthParams)} AND ${same('team_id', c.teamId, monthParams)}`,
    monthParams,
  );
  const left: Array<{ cell_id: string }> = await m.query(
    `WITH gone AS (DELETE FROM report_cell_agents WHERE cell_id = ANY($1::bigint[]) AND agent_id = $2 AND credits = 1
                   RETURNING cell_id)
     SELECT cell_id FROM gone`,
    [cells, c.agentId],
  );
  await m.query(
    `UPDATE report_cell_agents SET credits = credits - 1 WHERE cell_id = ANY($1::bigint[]) AND agent_id = $2`,
    [cells.filter((id) => !left.some((l) => String(l.cell_id) === id)), c.agentId],
  );
  if (left.length === 0) return;
  // The agent has no unreversed credit left in these cells: drop them from the sample and, if the
  // sample was full, let another member take the place.
  await m.query(
    `UPDATE report_cells c
        SET agents = array_remove(c.agents, $2::uuid) || coalesce(
              (SELECT array_agg(x.agent_id) FROM (
                 SELECT a.agent_id FROM report_cell_agents a
                  WHERE a.cell_id = c.id AND NOT (a.agent_id = ANY(c.agents))
                  ORDER BY a.agent_id LIMIT 1) x), '{}')
      WHERE c.id = ANY($1::bigint[]) AND $2::uuid = ANY(c.agents)`,
    [left.map((l) => l.cell_id), c.agentId],
  );
}

const NOT_REVERSED = `NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`;
const ADDITION_FOLDED = `NOT EXISTS (SELECT 1 FROM report_pending p WHERE p.credit_id = c.id AND p.sign = 1)`;

/** Credits the rollups count once every queued change is folded: the unreversed ones. */
const LIVE = `(SELECT c.* FROM credits c WHERE ${NOT_REVERSED})`;

/**
 * Credits the rollups count right now: live ones whose addition is folded, and reversed ones whose
 * reversal is still queued. (A reversal's queue row is newer than its credit's, so a credit with
 * both queued was never folded in.) Two branches rather than one OR, so that the planner can use
 * hash anti-joins over the whole ledger and index lookups for the few queued reversals.
 */
const FOLDED = `(
  SELECT c.* FROM credits c WHERE ${NOT_REVERSED} AND ${ADDITION_FOLDED}
  UNION ALL
  SELECT c.* FROM credits c
   WHERE c.id IN (SELECT p.credit_id FROM report_pending p WHERE p.sign = -1) AND ${ADDITION_FOLDED})`;

const recomputedCells = (credits: string) => `
  SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
         count(*) AS credits, sum(amount) AS amount, sum(within_discretion) AS within_discretion,
         sum(overrun) AS overrun, count(*) FILTER (WHERE overrun > 0) AS credits_with_overrun
    FROM (${byGrain(credits)}) l
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`;

const recomputedMembers = (credits: string) => `
  SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel, agent_id, count(*)::int AS credits
    FROM (${byGrain(credits)}) l
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`;

const recomputedAgentMonths = (credits: string) => `
  SELECT date_trunc('month', c.local_day)::date AS month, c.currency, c.role_id, c.team_id, c.agent_id,
         count(*) AS credits, sum(c.amount) AS amount, sum(c.within_discretion) AS within_discretion,
         sum(c.overrun) AS overrun, count(*) FILTER (WHERE c.overrun > 0) AS credits_with_overrun
    FROM ${credits} c
   GROUP BY 1, 2, 3, 4, 5`;

const recomputedAmounts = (credits: string) => `
  SELECT date_trunc('month', c.local_day)::date AS month, c.role_id, c.currency, c.amount,
         count(*) AS credits, count(*) FILTER (WHERE c.overrun > 0) AS credits_with_overrun,
         count(*) FILTER (WHERE c.binding_limit = 'perCredit') AS bound_per_credit,
         count(*) FILTER (WHERE c.binding_limit = 'perCase') AS bound_per_case,
         count(*) FILTER (WHERE c.binding_limit = 'perAgentDay') AS bound_per_agent_day,
         count(*) FILTER (WHERE c.binding_limit = 'perAgentMonth') AS bound_per_agent_month
    FROM ${credits} c
   GROUP BY 1, 2, 3, 4`;

/**
 * What the rollups should hold right now, recomputed from credits, reversals and the queue alone
 * (for the invariant checks: exact even while the service is writing, since each check is one
 * statement and so one snapshot). Members are keyed by cell key, not id, so stored and recomputed
 * sets compare without a join on keys.
 */
export const RECOMPUTED_CELLS = recomputedCells(FOLDED);
export const RECOMPUTED_MEMBERS = recomputedMembers(FOLDED);
export const RECOMPUTED_AGENT_MONTHS = recomputedAgentMonths(FOLDED);
export const RECOMPUTED_AMOUNTS = recomputedAmounts(FOLDED);

export const STORED_MEMBERS = `
  SELECT rc.grain, rc.bucket, rc.currency, rc.role_id, rc.team_id, rc.reason_code, rc.kind, rc.channel,
         a.agent_id, a.credits
    FROM report_cell_agents a JOIN report_cells rc ON rc.id = a.cell_id`;

/**
 * Throws the rollups away and rebuilds them from the ledger. Run inside one transaction. Credits are
 * read once: first per cell × agent, then cells (with their agent samples) and members from that.
 *
 * It holds the fold lock and leaves queued changes queued (they are folded afterwards), so it is
 * exact even while credits are being written: every statement counts the same credits, those whose
 * changes are not queued. Before the queue existed (the migration that created the rollups) it
 * counts the unreversed credits.
 */
export async function rebuildRollups(m: Querier): Promise<void> {
  const answer = await m.query(`SELECT to_regclass('report_pending') IS NOT NULL AS queued`);
  const [{ queued }] = Array.isArray(answer) ? answer : answer.rows;
  if (queued) await m.query(`SELECT pg_advisory_xact_lock(${FOLD_LOCK})`);
  const source = queued ? FOLDED : LIVE;
  await m.query(`DELETE FROM report_cell_agents`);
  await m.query(`DELETE FROM report_cells`);
  await m.query(`DELETE FROM report_amounts`);
  await m.query(`DELETE FROM report_agent_months`);
  await m.query(`DROP TABLE IF EXISTS rollup_cell_agents`);
  await m.query(
    `CREATE TEMP TABLE rollup_cell_agents ON COMMIT DROP AS
     SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel, agent_id,
            count(*) AS credits, sum(amount) AS amount, sum(within_discretion) AS within_discretion,
            sum(overrun) AS overrun, count(*) FILTER (WHERE overrun > 0) AS credits_with_overrun
       FROM (${byGrain(source)}) l
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
  );
  await m.query(
    `INSERT INTO report_cells (grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
                               credits, amount, within_discretion, overrun, credits_with_overrun, agents)
     SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
            sum(credits), sum(amount), sum(within_discretion), sum(overrun), sum(credits_with_overrun),
            (array_agg(agent_id ORDER BY agent_id))[1:${AGENT_SAMPLE}]
       FROM rollup_cell_agents GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
  );
  await m.query(`ANALYZE report_cells`);
  await m.query(
    `INSERT INTO report_cell_agents (cell_id, agent_id, credits)
     SELECT rc.id, a.agent_id, a.credits
       FROM rollup_cell_agents a
       JOIN report_cells rc
         ON rc.grain = a.grain AND rc.bucket = a.bucket AND rc.currency = a.currency
        AND coalesce(rc.role_id, ${NO_ID}) = coalesce(a.role_id, ${NO_ID})
        AND coalesce(rc.team_id, ${NO_ID}) = coalesce(a.team_id, ${NO_ID})
        AND rc.reason_code = a.reason_code AND rc.kind = a.kind
        AND coalesce(rc.channel, '') = coalesce(a.channel, '')`,
  );
  await m.query(`DROP TABLE rollup_cell_agents`);
  await m.query(
    `INSERT INTO report_agent_months (month, currency, role_id, team_id, agent_id,
                                      credits, amount, within_discretion, overrun, credits_with_overrun)
     ${recomputedAgentMonths(source)}`,
  );
  await m.query(
    `INSERT INTO report_amounts (month, role_id, currency, amount, credits, credits_with_overrun,
                                 bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
     ${recomputedAmounts(source)}`,
  );
}
