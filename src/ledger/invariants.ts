import { ACCOUNTS } from '../credits/credit-kinds';

/** A TypeORM DataSource or QueryRunner, or a bare pg Client. */
export interface Querier {
  query(sql: string, params?: unknown[]): Promise<any>;
}

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** Up to a few offending rows, for the message. */
  sample: unknown[];
}

/**
 * Everything the ledger promises about itself, checked against a recomputation from credits and
 * reversals alone. Each check is one statement, so it is exact even while credits are being
 * written. Used by the seed, the benchmarks and the tests.
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
    name: 'every published release covers exactly its month’s entries (blocks sum to the recomputed month)',
    sql: `WITH released AS (
            SELECT rc.month, rc.currency, mr.timezone,
                   coalesce((SELECT sum(b.amount) FROM release_blocks b
                              WHERE b.month = rc.month AND b.currency = rc.currency), 0) AS amount,
                   coalesce((SELECT sum(b.credits) FROM release_blocks b
                              WHERE b.month = rc.month AND b.currency = rc.currency), 0) AS credits
              FROM release_currencies rc JOIN month_releases mr USING (month)
             WHERE rc.published),
          entries AS (
            SELECT r.month, r.currency,
                   (SELECT coalesce(sum(c.amount), 0) FROM credits c
                     WHERE c.currency = r.currency
                       AND c.recorded_at >= (r.month::timestamp AT TIME ZONE r.timezone)
                       AND c.recorded_at < ((r.month + interval '1 month')::timestamp AT TIME ZONE r.timezone))
                   - (SELECT coalesce(sum(c.amount), 0) FROM credit_reversals v JOIN credits c ON c.id = v.credit_id
                       WHERE c.currency = r.currency
                         AND v.recorded_at >= (r.month::timestamp AT TIME ZONE r.timezone)
                         AND v.recorded_at < ((r.month + interval '1 month')::timestamp AT TIME ZONE r.timezone))
                     AS amount,
                   (SELECT count(*) FROM credits c
                     WHERE c.currency = r.currency
                       AND c.recorded_at >= (r.month::timestamp AT TIME ZONE r.timezone)
                       AND c.recorded_at < ((r.month + interval '1 month')::timestamp AT TIME ZONE r.timezone))
                     AS credits
              FROM released r)
          SELECT r.month, r.currency, r.amount, e.amount AS expected_amount, r.credits, e.credits AS expected_credits
            FROM released r JOIN entries e USING (month, currency)
           WHERE r.amount <> e.amount OR r.credits <> e.credits LIMIT 5`,
  },
  {
    name: 'an unpublished currency-month publishes no block',
    sql: `SELECT b.month, b.currency FROM release_blocks b
            JOIN release_currencies rc USING (month, currency) WHERE NOT rc.published LIMIT 5`,
  },
  {
    name: 'every idempotency key names a credit that exists (a key is settled with its credit or not kept)',
    sql: `SELECT k.user_id, k.key FROM idempotency_keys k
           WHERE NOT EXISTS (SELECT 1 FROM credits c WHERE c.id = k.credit_id) LIMIT 5`,
  },
  {
    name: 'every credit from an integration is the one its externalId names (one credit per externalId)',
    sql: `SELECT id FROM (
            SELECT c.id FROM credits c WHERE c.source_external_id IS NOT NULL
            EXCEPT
            SELECT c.id FROM idempotency_keys k
              JOIN users u ON u.id = k.user_id AND u.access = ARRAY['integration']
              JOIN credits c ON c.id = k.credit_id AND c.source_external_id = k.key
          ) missing LIMIT 5`,
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
