import { ACCOUNTS } from '../credits/credit-kinds';
import {
  AGENT_SAMPLE,
  Querier,
  RECOMPUTED_AGENT_MONTHS,
  RECOMPUTED_AMOUNTS,
  RECOMPUTED_CELLS,
  RECOMPUTED_MEMBERS,
  STORED_MEMBERS,
} from '../reports/rollups';

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** Up to a few offending rows, for the message. */
  sample: unknown[];
}

/** Rows in one side but not the other, labelled by side: empty when stored equals recomputed. */
function mismatch(stored: string, recomputed: string): string {
  return `(SELECT 'stored' AS side, * FROM (${stored} EXCEPT ${recomputed}) a)
          UNION ALL
          (SELECT 'recomputed', * FROM (${recomputed} EXCEPT ${stored}) b)
          LIMIT 5`;
}

/**
 * Everything the ledger promises about itself, checked against a recomputation from credits,
 * reversals and the report queue alone. Each check is one statement, so it is exact even while
 * credits are being written and folded. Used by the seed, the benchmarks and the tests.
 */
const CHECKS: Array<{ name: string; sql: string }> = [
  {
    name: 'balances sum to zero per currency',
    sql: `SELECT currency, sum(balance) AS net FROM (
            SELECT currency, debit_account AS account, amount AS balance FROM postings
            UNION ALL SELECT currency, credit_account, -amount FROM postings) lines
          GROUP BY currency HAVING sum(balance) <> 0`,
  },
  {
    name: 'postings match the split of every unreversed credit',
    sql: `WITH posted AS (
            SELECT currency,
                   sum(CASE WHEN debit_account = '${ACCOUNTS.within}' THEN amount
                            WHEN credit_account = '${ACCOUNTS.within}' THEN -amount ELSE 0 END) AS within,
                   sum(CASE WHEN debit_account = '${ACCOUNTS.overrun}' THEN amount
                            WHEN credit_account = '${ACCOUNTS.overrun}' THEN -amount ELSE 0 END) AS overrun
              FROM postings GROUP BY currency),
          expected AS (
            SELECT currency, sum(within_discretion) AS within, sum(overrun) AS overrun FROM credits c
             WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id) GROUP BY currency)
          SELECT * FROM posted p FULL JOIN expected e USING (currency)
           WHERE coalesce(p.within, 0) <> coalesce(e.within, 0) OR coalesce(p.overrun, 0) <> coalesce(e.overrun, 0)`,
  },
  {
    name: 'every credit posted exactly its own lines',
    sql: `SELECT c.id FROM credits c
            LEFT JOIN (SELECT entry_id, sum(amount) AS amount, count(*) AS lines FROM postings
                        WHERE entry_kind = 'credit' GROUP BY entry_id) p ON p.entry_id = c.id
           WHERE coalesce(p.amount, 0) <> c.amount
              OR coalesce(p.lines, 0) <> (CASE WHEN c.within_discretion > 0 THEN 1 ELSE 0 END)
                                         + (CASE WHEN c.overrun > 0 THEN 1 ELSE 0 END)
           LIMIT 5`,
  },
  {
    name: 'case usage matches unreversed credits',
    sql: `SELECT * FROM usage_case u FULL JOIN (
            SELECT case_ref, currency, sum(amount) AS expected FROM credits c
             WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
             GROUP BY case_ref, currency) e USING (case_ref, currency)
           WHERE coalesce(u.used, 0) <> coalesce(e.expected, 0) LIMIT 5`,
  },
  {
    name: 'agent-day usage matches unreversed credits',
    sql: `SELECT * FROM usage_agent_day u FULL JOIN (
            SELECT agent_id, currency, local_day AS day, sum(amount) AS expected FROM credits c
             WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
             GROUP BY agent_id, currency, local_day) e USING (agent_id, currency, day)
           WHERE coalesce(u.used, 0) <> coalesce(e.expected, 0) LIMIT 5`,
  },
  {
    name: 'agent-month usage matches unreversed credits',
    sql: `SELECT * FROM usage_agent_month u FULL JOIN (
            SELECT agent_id, currency, date_trunc('month', local_day)::date AS month, sum(amount) AS expected
              FROM credits c WHERE NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)
             GROUP BY 1, 2, 3) e USING (agent_id, currency, month)
           WHERE coalesce(u.used, 0) <> coalesce(e.expected, 0) LIMIT 5`,
  },
  {
    name: 'every queued report change names a credit, and a reversal only after its credit',
    sql: `SELECT p.id, p.credit_id, p.sign FROM report_pending p
            LEFT JOIN credits c ON c.id = p.credit_id
           WHERE c.id IS NULL
              OR (p.sign = -1 AND NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = p.credit_id))
              OR EXISTS (SELECT 1 FROM report_pending o WHERE o.credit_id = p.credit_id AND o.sign = p.sign AND o.id <> p.id)
              OR (p.sign = -1 AND EXISTS (SELECT 1 FROM report_pending o WHERE o.credit_id = p.credit_id AND o.sign = 1 AND o.id > p.id))
           LIMIT 5`,
  },
  {
    name: 'report cells match unreversed credits',
    sql: mismatch(
      `SELECT grain, bucket, currency, role_id, team_id, reason_code, kind, channel,
              credits, amount, within_discretion, overrun, credits_with_overrun
         FROM report_cells WHERE credits > 0`,
      RECOMPUTED_CELLS,
    ),
  },
  {
    name: 'report cell members match unreversed credits',
    sql: mismatch(STORED_MEMBERS, RECOMPUTED_MEMBERS),
  },
  {
    name: `report cell agent samples hold min(${AGENT_SAMPLE}, members) distinct members`,
    sql: `(SELECT 'size' AS problem, c.id FROM report_cells c
             LEFT JOIN (SELECT cell_id, count(*) AS members FROM report_cell_agents GROUP BY cell_id) m
               ON m.cell_id = c.id
            WHERE cardinality(c.agents) <> least(${AGENT_SAMPLE}, coalesce(m.members, 0)))
          UNION ALL
          (SELECT 'not a member', s.cell_id FROM (SELECT id AS cell_id, unnest(agents) AS agent_id FROM report_cells) s
             LEFT JOIN report_cell_agents a ON a.cell_id = s.cell_id AND a.agent_id = s.agent_id
            WHERE a.cell_id IS NULL)
          UNION ALL
          (SELECT 'repeated', cell_id FROM (SELECT id AS cell_id, unnest(agents) AS agent_id FROM report_cells) s
            GROUP BY cell_id, agent_id HAVING count(*) > 1)
          LIMIT 5`,
  },
  {
    name: 'report amounts match unreversed credits',
    sql: mismatch(
      `SELECT month, role_id, currency, amount, credits, credits_with_overrun, bound_per_credit,
              bound_per_case, bound_per_agent_day, bound_per_agent_month
         FROM report_amounts WHERE credits > 0`,
      RECOMPUTED_AMOUNTS,
    ),
  },
  {
    name: 'report agent months match unreversed credits',
    sql: mismatch(
      `SELECT month, currency, role_id, team_id, agent_id, credits, amount, within_discretion, overrun,
              credits_with_overrun
         FROM report_agent_months WHERE credits > 0`,
      RECOMPUTED_AGENT_MONTHS,
    ),
  },
  {
    name: 'every stored idempotent response names a credit that exists',
    sql: `SELECT k.user_id, k.key FROM idempotency_keys k
           WHERE k.response IS NOT NULL AND NOT EXISTS (SELECT 1 FROM credits c WHERE c.id = k.credit_id) LIMIT 5`,
  },
];

export async function checkInvariants(db: Querier): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const check of CHECKS) {
    // A TypeORM DataSource/QueryRunner answers with rows, a bare pg Client with a result object.
    const answer: unknown[] | { rows: unknown[] } = await db.query(check.sql);
    const rows = Array.isArray(answer) ? answer : answer.rows;
    results.push({ name: check.name, ok: rows.length === 0, sample: rows.slice(0, 5) });
  }
  return results;
}
