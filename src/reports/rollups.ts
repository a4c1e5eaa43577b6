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

/** Adds a credit (sign 1) or takes a reversed one back out (sign -1) of the sums. Returns the cell ids (day, month). */
async function applySums(m: Querier, c: CreditFacts, sign: 1 | -1): Promise<string[]> {
  const s = BigInt(sign);
  const rows: Array<{ id: string }> = await m.query(
    `WITH cell AS (
       INSERT INTO report_cells AS c (grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
                                      credits, amount, within_discretion, overrun, credits_with_overrun)
       VALUES ('d', $1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12),
              ('m', date_trunc('month', $1::date)::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT ON CONSTRAINT report_cells_key DO UPDATE SET
         credits = c.credits + EXCLUDED.credits,
         amount = c.amount + EXCLUDED.amount,
         within_discretion = c.within_discretion + EXCLUDED.within_discretion,
         overrun = c.overrun + EXCLUDED.overrun,
         credits_with_overrun = c.credits_with_overrun + EXCLUDED.credits_with_overrun
       RETURNING c.id, c.grain
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
     )
     SELECT id FROM cell ORDER BY grain`,
    [
      c.day,
      c.currency,
      c.roleId,
      c.teamId,
      c.reasonCode,
      c.kind,
      c.channel,
      s.toString(),
      (s * c.amount).toString(),
      (s * c.within).toString(),
      (s * c.overrun).toString(),
      c.overrun > 0n ? s.toString() : '0',
      c.amount.toString(),
      c.bindingLimit,
    ],
  );
  return rows.map((r) => String(r.id));
}

/** Adds a new credit to the rollups. */
export async function addCredit(m: Querier, c: CreditFacts): Promise<void> {
  const cells = await applySums(m, c, 1);
  const joined: Array<{ cell_id: string }> = await m.query(
    `INSERT INTO report_cell_agents AS a (cell_id, agent_id, credits)
     SELECT unnest($1::bigint[]), $2, 1
     ON CONFLICT ON CONSTRAINT report_cell_agents_pk DO UPDATE SET credits = a.credits + 1
     RETURNING cell_id, credits`,
    [cells, c.agentId],
  );
  const newcomers = joined.filter((r: any) => Number(r.credits) === 1).map((r) => r.cell_id);
  if (newcomers.length > 0) {
    await m.query(
      `UPDATE report_cells SET agents = agents || $2::uuid
        WHERE id = ANY($1::bigint[]) AND cardinality(agents) < ${AGENT_SAMPLE} AND NOT ($2::uuid = ANY(agents))`,
      [newcomers, c.agentId],
    );
  }
}

/** Takes a reversed credit back out of the rollups: reports exclude reversed credits entirely. */
export async function removeCredit(m: Querier, c: CreditFacts): Promise<void> {
  const cells = await applySums(m, c, -1);
  const left: Array<{ cell_id: string }> = await m.query(
    `DELETE FROM report_cell_agents WHERE cell_id = ANY($1::bigint[]) AND agent_id = $2 AND credits = 1 RETURNING cell_id`,
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

/** Recomputed rollups as SQL, from credits and reversals alone (used to rebuild and to verify). */
export const RECOMPUTED_CELLS = `
  SELECT g.grain,
         CASE g.grain WHEN 'd' THEN c.local_day ELSE date_trunc('month', c.local_day)::date END AS bucket,
         c.currency, c.role_id, c.team_id, c.reason_code, c.kind, c.channel,
         count(*) AS credits, sum(c.amount) AS amount, sum(c.within_discretion) AS within_discretion,
         sum(c.overrun) AS overrun, count(*) FILTER (WHERE c.overrun > 0) AS credits_with_overrun
    FROM credits c CROSS JOIN (VALUES ('d'), ('m')) g(grain)
   WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`;

export const RECOMPUTED_MEMBERS = `
  SELECT rc.id AS cell_id, c.agent_id, count(*)::int AS credits
    FROM credits c CROSS JOIN (VALUES ('d'), ('m')) g(grain)
    JOIN report_cells rc
      ON rc.grain = g.grain
     AND rc.bucket = CASE g.grain WHEN 'd' THEN c.local_day ELSE date_trunc('month', c.local_day)::date END
     AND rc.currency = c.currency
     AND coalesce(rc.role_id, ${NO_ID}) = coalesce(c.role_id, ${NO_ID})
     AND coalesce(rc.team_id, ${NO_ID}) = coalesce(c.team_id, ${NO_ID})
     AND rc.reason_code = c.reason_code AND rc.kind = c.kind
     AND coalesce(rc.channel, '') = coalesce(c.channel, '')
   WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
   GROUP BY rc.id, c.agent_id`;

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

/** Throws the rollups away and rebuilds them from the ledger. Run inside one transaction. */
export async function rebuildRollups(m: Querier): Promise<void> {
  await m.query(`DELETE FROM report_cell_agents`);
  await m.query(`DELETE FROM report_cells`);
  await m.query(`DELETE FROM report_amounts`);
  await m.query(
    `INSERT INTO report_cells (grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
                               credits, amount, within_discretion, overrun, credits_with_overrun)
     ${RECOMPUTED_CELLS}`,
  );
  // Fresh statistics so the membership join below is planned as the hash join it should be.
  await m.query(`ANALYZE report_cells`);
  await m.query(`INSERT INTO report_cell_agents (cell_id, agent_id, credits) ${RECOMPUTED_MEMBERS}`);
  await m.query(
    `UPDATE report_cells rc SET agents = s.agents
       FROM (SELECT cell_id, (array_agg(agent_id ORDER BY agent_id))[1:${AGENT_SAMPLE}] AS agents
               FROM report_cell_agents GROUP BY cell_id) s
      WHERE rc.id = s.cell_id`,
  );
  await m.query(
    `INSERT INTO report_amounts (month, role_id, currency, amount, credits, credits_with_overrun,
                                 bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
     ${RECOMPUTED_AMOUNTS}`,
  );
}
