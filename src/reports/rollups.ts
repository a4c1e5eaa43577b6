/**
 * Report rollups: derived from the ledger, maintained inside each credit's and reversal's own
 * transaction, and rebuildable from scratch. See migrations/1763800200000-create-report-rollups.ts.
 *
 * Lock order. A credit takes its rows in this order: idempotency key, usage_case, usage_agent_day,
 * usage_agent_month, then the day cell, the month cell and the amount row here. A reversal takes the
 * same rows in the same order, so two writers can never wait on each other in a cycle. The
 * report_cell_agents rows belong to one agent and are only touched while that agent's month usage
 * row is locked.
 */

/** How many agents a cell remembers. Fewer means "exactly these"; LEEWAY_MIN_COHORT may not exceed it. */
export const AGENT_SAMPLE = 20;

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

export interface NewCreditFacts extends CreditFacts {
  /** The credit's balanced posting lines, written by the same statement to save a round trip. */
  postings: { entryId: string; timezone: string; lines: Array<{ debit: string; credit: string; amount: bigint }> };
}

/**
 * Adds a new credit to every rollup in one statement; the agent joins each cell's sample while it
 * has room.
 */
export async function addCredit(m: Querier, c: NewCreditFacts): Promise<void> {
  await m.query(
    `WITH cell AS (
       INSERT INTO report_cells AS c (grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
                                      credits, amount, within_discretion, overrun, credits_with_overrun, agents)
       VALUES ('d', $1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ARRAY[$15::uuid]),
              ('m', date_trunc('month', $1::date)::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ARRAY[$15::uuid]),
              ('r', date_trunc('month', $1::date)::date, $2, NULL, NULL, $5, $6, $7, $8, $9, $10, $11, $12, ARRAY[$15::uuid])
       ON CONFLICT ON CONSTRAINT report_cells_key DO UPDATE SET
         credits = c.credits + EXCLUDED.credits,
         amount = c.amount + EXCLUDED.amount,
         within_discretion = c.within_discretion + EXCLUDED.within_discretion,
         overrun = c.overrun + EXCLUDED.overrun,
         credits_with_overrun = c.credits_with_overrun + EXCLUDED.credits_with_overrun,
         agents = CASE WHEN cardinality(c.agents) < ${AGENT_SAMPLE}
                            AND NOT ($15::uuid = ANY(c.agents))
                       THEN c.agents || $15::uuid ELSE c.agents END
       RETURNING c.id, c.grain
     ), member AS (
       INSERT INTO report_cell_agents AS a (cell_id, agent_id, credits)
       SELECT id, $15::uuid, 1 FROM cell
       ON CONFLICT ON CONSTRAINT report_cell_agents_pk DO UPDATE SET credits = a.credits + 1
     ), amounts AS (
       INSERT INTO report_amounts AS r (month, role_id, currency, amount, credits, credits_with_overrun,
                                        bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
       VALUES (date_trunc('month', $1::date)::date, $3, $2, $13, $8, $12,
               CASE WHEN $14 = 'perCredit' THEN $8 ELSE 0 END, CASE WHEN $14 = 'perCase' THEN $8 ELSE 0 END,
               CASE WHEN $14 = 'perAgentDay' THEN $8 ELSE 0 END, CASE WHEN $14 = 'perAgentMonth' THEN $8 ELSE 0 END)
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
       VALUES (date_trunc('month', $1::date)::date, $2, $3, $4, $15, $8, $9, $10, $11, $12)
       ON CONFLICT ON CONSTRAINT report_agent_months_key DO UPDATE SET
         credits = g.credits + EXCLUDED.credits,
         amount = g.amount + EXCLUDED.amount,
         within_discretion = g.within_discretion + EXCLUDED.within_discretion,
         overrun = g.overrun + EXCLUDED.overrun,
         credits_with_overrun = g.credits_with_overrun + EXCLUDED.credits_with_overrun
     ), posted AS (
       INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
       SELECT $16::uuid, 'credit', $2, l.debit, l.credit, l.amount, (now() AT TIME ZONE $17)::date
         FROM unnest($18::text[], $19::text[], $20::bigint[]) AS l(debit, credit, amount)
     )
     SELECT count(*) FROM cell`,
    [
      c.day,
      c.currency,
      c.roleId,
      c.teamId,
      c.reasonCode,
      c.kind,
      c.channel,
      '1',
      c.amount.toString(),
      c.within.toString(),
      c.overrun.toString(),
      c.overrun > 0n ? '1' : '0',
      c.amount.toString(),
      c.bindingLimit,
      c.agentId,
      c.postings.entryId,
      c.postings.timezone,
      c.postings.lines.map((l) => l.debit),
      c.postings.lines.map((l) => l.credit),
      c.postings.lines.map((l) => l.amount.toString()),
    ],
  );
}

/** `column = $n`, or `column IS NULL` so that the unique index still serves a NULL key. */
function same(column: string, value: string | null, params: unknown[]): string {
  if (value === null) return `${column} IS NULL`;
  params.push(value);
  return `${column} = $${params.length}`;
}

/**
 * Takes a reversed credit back out of the rollups: reports exclude reversed credits entirely.
 * Plain UPDATEs (an upsert would check its negative insert row against the CHECK constraints), one
 * per row and in the same order as logging takes them.
 */
export async function removeCredit(m: Querier, c: CreditFacts): Promise<void> {
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

const NO_ID = `'00000000-0000-0000-0000-000000000000'::uuid`;

/** Unreversed credits, once per rollup grain, with the bucket and the keys that grain keeps. */
const LIVE_BY_GRAIN = `
  SELECT g.grain,
         CASE g.grain WHEN 'd' THEN c.local_day ELSE date_trunc('month', c.local_day)::date END AS bucket,
         c.currency,
         CASE WHEN g.grain = 'r' THEN NULL ELSE c.role_id END AS role_id,
         CASE WHEN g.grain = 'r' THEN NULL ELSE c.team_id END AS team_id,
         c.reason_code, c.kind, c.channel, c.agent_id, c.amount, c.within_discretion, c.overrun
    FROM credits c CROSS JOIN (VALUES ('d'), ('m'), ('r')) g(grain)
   WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`;

/** Recomputed rollups as SQL, from credits and reversals alone (used to rebuild and to verify). */
export const RECOMPUTED_CELLS = `
  SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
         count(*) AS credits, sum(amount) AS amount, sum(within_discretion) AS within_discretion,
         sum(overrun) AS overrun, count(*) FILTER (WHERE overrun > 0) AS credits_with_overrun
    FROM (${LIVE_BY_GRAIN}) l
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`;

/** Each cell's members by cell key (not id), so stored and recomputed sets compare without a join on keys. */
export const RECOMPUTED_MEMBERS = `
  SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel, agent_id, count(*)::int AS credits
    FROM (${LIVE_BY_GRAIN}) l
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`;

export const STORED_MEMBERS = `
  SELECT rc.grain, rc.bucket, rc.currency, rc.role_id, rc.team_id, rc.reason_code, rc.kind, rc.channel,
         a.agent_id, a.credits
    FROM report_cell_agents a JOIN report_cells rc ON rc.id = a.cell_id`;

export const RECOMPUTED_AGENT_MONTHS = `
  SELECT date_trunc('month', c.local_day)::date AS month, c.currency, c.role_id, c.team_id, c.agent_id,
         count(*) AS credits, sum(c.amount) AS amount, sum(c.within_discretion) AS within_discretion,
         sum(c.overrun) AS overrun, count(*) FILTER (WHERE c.overrun > 0) AS credits_with_overrun
    FROM credits c
   WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
   GROUP BY 1, 2, 3, 4, 5`;

export const RECOMPUTED_AMOUNTS = `
  SELECT date_trunc('month', c.local_day)::date AS month, c.role_id, c.currency, c.amount,
         count(*) AS credits, count(*) FILTER (WHERE c.overrun > 0) AS credits_with_overrun,
         count(*) FILTER (WHERE c.binding_limit = 'perCredit') AS bound_per_credit,
         count(*) FILTER (WHERE c.binding_limit = 'perCase') AS bound_per_case,
         count(*) FILTER (WHERE c.binding_limit = 'perAgentDay') AS bound_per_agent_day,
         count(*) FILTER (WHERE c.binding_limit = 'perAgentMonth') AS bound_per_agent_month
    FROM credits c
   WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
   GROUP BY 1, 2, 3, 4`;

/**
 * Throws the rollups away and rebuilds them from the ledger. Run inside one transaction. Credits are
 * read once: first per cell × agent, then cells (with their agent samples) and members from that.
 */
export async function rebuildRollups(m: Querier): Promise<void> {
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
       FROM (${LIVE_BY_GRAIN}) l
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
     ${RECOMPUTED_AGENT_MONTHS}`,
  );
  await m.query(
    `INSERT INTO report_amounts (month, role_id, currency, amount, credits, credits_with_overrun,
                                 bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
     ${RECOMPUTED_AMOUNTS}`,
  );
}
