import { MigrationInterface, QueryRunner } from 'typeorm';

const FROZEN = [
  'month_releases',
  'release_currencies',
  'release_blocks',
  'release_rows',
  'release_limit_fit',
  'release_journal',
];

/**
 * Closed-month releases: what every report reads. A month's release is computed once, after the
 * month has ended and nothing can still record into it, and never changed (the same triggers as the
 * ledger refuse UPDATE, DELETE and TRUNCATE).
 *
 * - month_releases: one row per released month (the primary key makes a second release impossible),
 *   with the rules it was cut by.
 * - release_currencies: per month and currency, whether anything could be published.
 * - release_blocks: the published blocks; `keys` names the group keys a block carries (its entries
 *   all share them), the key columns hold their values (NULL is a value: no team, no role).
 * - release_rows: the blocks summed once per grouping (`grouping` is a bit mask over role, reason,
 *   kind, channel, team), so a report adds up a few stored rows per month instead of every block;
 *   `not_shown` marks the line of blocks too coarse for that grouping.
 * - release_limit_fit: per month × role × currency (roles with at least minCohort agents that month),
 *   a histogram on 1-2-5 bucket edges whose buckets each cover minCohort agents, and counts from each
 *   credit's own limits snapshot.
 * - release_journal: the books per month × currency × account; net NULL where the currency-month could
 *   not be published (then even its total would be one small group's figure).
 */
export class CreateMonthReleases1764600000000 implements MigrationInterface {
  name = 'CreateMonthReleases1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX credit_reversals_recorded_idx ON credit_reversals (recorded_at)`);
    await q.query(`
      CREATE TABLE month_releases (
        month date NOT NULL,
        timezone text NOT NULL,
        min_cohort integer NOT NULL,
        dominance_percent integer NOT NULL,
        entries bigint NOT NULL,
        released_at timestamptz NOT NULL DEFAULT now(),
        compute_ms integer NOT NULL,
        CONSTRAINT month_releases_pk PRIMARY KEY (month),
        CONSTRAINT month_releases_month_ck CHECK (extract(day FROM month) = 1),
        CONSTRAINT month_releases_cohort_ck CHECK (min_cohort >= 3)
      )`);
    await q.query(`
      CREATE TABLE release_currencies (
        month date NOT NULL,
        currency char(3) NOT NULL,
        published boolean NOT NULL,
        CONSTRAINT release_currencies_pk PRIMARY KEY (month, currency),
        CONSTRAINT release_currencies_month_fk FOREIGN KEY (month) REFERENCES month_releases (month)
      )`);
    await q.query(`
      CREATE TABLE release_blocks (
        month date NOT NULL,
        currency char(3) NOT NULL,
        block integer NOT NULL,
        kind text NOT NULL,
        keys text[] NOT NULL,
        role_id uuid,
        team_id uuid,
        reason_code text,
        credit_kind text,
        channel text,
        credits integer NOT NULL,
        reversals integer NOT NULL,
        amount bigint NOT NULL,
        within_discretion bigint,
        overrun bigint,
        credits_with_overrun integer,
        CONSTRAINT release_blocks_pk PRIMARY KEY (month, currency, block),
        CONSTRAINT release_blocks_currency_fk FOREIGN KEY (month, currency) REFERENCES release_currencies (month, currency),
        CONSTRAINT release_blocks_kind_ck CHECK (kind IN ('cell', 'residual')),
        CONSTRAINT release_blocks_keys_ck CHECK (keys <@ ARRAY['role', 'reason', 'kind', 'channel', 'team']),
        CONSTRAINT release_blocks_split_ck CHECK (
          (within_discretion IS NULL) = (overrun IS NULL) AND (overrun IS NULL) = (credits_with_overrun IS NULL)
          AND (overrun IS NULL OR within_discretion + overrun = amount))
      )`);
    await q.query(`
      CREATE TABLE release_rows (
        grouping smallint NOT NULL,
        month date NOT NULL,
        currency char(3) NOT NULL,
        row integer NOT NULL,
        not_shown boolean NOT NULL,
        role_id uuid,
        team_id uuid,
        reason_code text,
        credit_kind text,
        channel text,
        blocks integer NOT NULL,
        credits integer NOT NULL,
        reversals integer NOT NULL,
        amount bigint NOT NULL,
        within_discretion bigint,
        overrun bigint,
        credits_with_overrun integer,
        CONSTRAINT release_rows_pk PRIMARY KEY (grouping, month, currency, row),
        CONSTRAINT release_rows_currency_fk FOREIGN KEY (month, currency) REFERENCES release_currencies (month, currency),
        CONSTRAINT release_rows_grouping_ck CHECK (grouping BETWEEN 0 AND 31)
      )`);
    await q.query(`
      CREATE TABLE release_limit_fit (
        month date NOT NULL,
        role_id uuid NOT NULL,
        currency char(3) NOT NULL,
        credits integer NOT NULL,
        bucket_edges bigint[] NOT NULL,
        bucket_credits integer[] NOT NULL,
        over_per_credit integer NOT NULL,
        with_overrun integer NOT NULL,
        bound_per_credit integer NOT NULL,
        bound_per_case integer NOT NULL,
        bound_per_agent_day integer NOT NULL,
        bound_per_agent_month integer NOT NULL,
        CONSTRAINT release_limit_fit_pk PRIMARY KEY (month, role_id, currency),
        CONSTRAINT release_limit_fit_month_fk FOREIGN KEY (month) REFERENCES month_releases (month),
        CONSTRAINT release_limit_fit_buckets_ck CHECK (
          cardinality(bucket_edges) = cardinality(bucket_credits) + 1)
      )`);
    await q.query(`
      CREATE TABLE release_journal (
        month date NOT NULL,
        currency char(3) NOT NULL,
        account text NOT NULL,
        net bigint,
        debit bigint,
        credit bigint,
        CONSTRAINT release_journal_pk PRIMARY KEY (month, currency, account),
        CONSTRAINT release_journal_month_fk FOREIGN KEY (month) REFERENCES month_releases (month),
        CONSTRAINT release_journal_gross_ck CHECK (
          (debit IS NULL) = (credit IS NULL) AND (debit IS NULL OR (net IS NOT NULL AND debit - credit = net)))
      )`);
    for (const table of FROZEN) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION leeway_refuse_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION leeway_refuse_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...FROZEN].reverse()) await q.query(`DROP TABLE ${table}`);
    await q.query(`DROP INDEX credit_reversals_recorded_idx`);
  }
}
