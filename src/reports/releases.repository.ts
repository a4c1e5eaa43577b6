import Cursor from 'pg-cursor';
import type { PoolClient } from 'pg';
import { EntityManager } from 'typeorm';
import { ACCOUNTS } from '../credits/credit-kinds';
import { Block, CellInput, KeyValues, ROLLUP_ORDER } from './release-rule';
import { MAX_AMOUNT } from '../common/money';
import { Histogram, ladderEdge } from './limit-fit-buckets';
import { SumRow } from './release-sums';

/** A month as the first day of it, `2026-11-01`; its instants come from LEEWAY_TIMEZONE. */
export type MonthStart = string;

/** The entries of one month (credits and reversals recorded in it), bounded by local midnights. */
const MONTH_ENTRIES = `
  WITH bounds AS (
    SELECT ($1::date::timestamp AT TIME ZONE $2) AS lo,
           (($1::date + interval '1 month')::timestamp AT TIME ZONE $2) AS hi
  ), entries AS (
    SELECT c.currency, c.role_id, c.team_id, c.reason_code, c.kind, c.channel, c.agent_id,
           c.amount, c.within_discretion, c.overrun, c.limits_version, c.binding_limit,
           1 AS sign, c.id AS credit_id, c.recorded_at
      FROM credits c, bounds WHERE c.recorded_at >= bounds.lo AND c.recorded_at < bounds.hi
    UNION ALL
    SELECT c.currency, c.role_id, c.team_id, c.reason_code, c.kind, c.channel, c.agent_id,
           c.amount, c.within_discretion, c.overrun, c.limits_version, c.binding_limit,
           -1 AS sign, c.id, r.recorded_at
      FROM credit_reversals r JOIN credits c ON c.id = r.credit_id, bounds
     WHERE r.recorded_at >= bounds.lo AND r.recorded_at < bounds.hi
  )`;

const BATCH = 5000;

/**
 * Runs a query inside the caller's transaction through a server-side cursor, handing over its rows
 * a batch at a time (the transaction's connection: its SET LOCAL settings and snapshot apply).
 */
async function readInBatches<T>(m: EntityManager, sql: string, params: unknown[], each: (rows: T[]) => void) {
  const client = (m.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)?.databaseConnection;
  if (!client) throw new Error('readInBatches needs a transaction');
  const cursor = client.query(new Cursor<T>(sql, params));
  try {
    for (let rows = await cursor.read(BATCH); rows.length > 0; rows = await cursor.read(BATCH)) each(rows);
  } finally {
    await cursor.close();
  }
}

interface ShareRow {
  currency: string;
  role_id: string | null;
  team_id: string | null;
  reason_code: string;
  kind: string;
  channel: string | null;
  agent_id: string;
  credits: number;
  reversals: number;
  amount: string;
  within: string;
  overrun: string;
  with_overrun: number;
  credit_within: string;
  credit_overrun: string;
  credit_amount: string;
  reversed_within: string;
  reversed_overrun: string;
  reversed_amount: string;
}

export interface MonthEntries {
  byCurrency: Map<string, CellInput[]>;
  /** Per currency, account and agent: what the month's entries debited and credited. */
  journal: JournalLine[];
  entries: number;
}

export interface BucketRow {
  role_id: string;
  bucket: number;
  credits: number;
  agents: string[];
}

/** What limit fit counts per cell and agent: credits, and net counts from each credit's own snapshot. */
export interface LimitFitShareRow extends LimitFitShares {
  role_id: string;
  team_id: string | null;
  reason_code: string;
  kind: string;
  channel: string | null;
  agent_id: string;
  credits: number;
  /** Net (credits minus reversals of the month), as spend's creditsWithOverrun. */
  overrun: string;
}

/** The counts behind limit fit's shares and binding limit, or null where they are withheld. */
export interface LimitFitShares {
  over_per_credit: number;
  with_overrun: number;
  bound_per_credit: number;
  bound_per_case: number;
  bound_per_agent_day: number;
  bound_per_agent_month: number;
}

export interface LimitFitCounts {
  role_id: string;
  credits: number;
  shares: LimitFitShares | null;
}

/** One entry's cell (role, team, reason, kind, channel) as jsonb: how limit fit leaves out cells. */
const CELL_OF_ENTRY = `jsonb_build_array(e.role_id, e.team_id, e.reason_code, e.kind, e.channel)`;

/** One agent's entries of one day and currency: credits (reversals not counted) and net amount. */
export interface DayRow {
  currency: string;
  day: string;
  agent_id: string;
  credits: number;
  amount: string;
}

/** The same cell from TypeScript, for the `$n::jsonb[]` of cells limit fit leaves out. */
export function cellJson(keys: KeyValues): string {
  return JSON.stringify([keys.role, keys.team, keys.reason, keys.kind, keys.channel]);
}

export interface JournalLine {
  currency: string;
  account: string;
  agent_id: string;
  debit: string;
  credit: string;
}

/** One grouping's row (or notShown line) of one currency-month: a sum of whole blocks. */
export interface StoredRow extends SumRow {
  grouping: number;
  row: number;
  notShown: boolean;
}

/** The statements behind releases; no business rule lives here. */
export const releasesRepository = {
  /**
   * One pass over the month's entries: each agent's net contribution to each cell of each currency,
   * and the gross amounts their postings moved (credits post within, overrun and amount one way,
   * reversals the other way; the invariant checks hold the postings to exactly that).
   */
  /**
   * The month's entries summed per cell and agent, read through a cursor in batches so that the
   * process never holds the raw result: what stays in memory is one share per (cell, agent) and
   * one journal line per (currency, account, agent).
   */
  async month(m: EntityManager, month: MonthStart, timezone: string): Promise<MonthEntries> {
    const cells = new Map<string, Map<string, CellInput>>();
    const sides = new Map<
      string,
      { currency: string; account: string; agent_id: string; debit: bigint; credit: bigint }
    >();
    let entries = 0;
    const take = (r: ShareRow) => {
      entries += r.credits + r.reversals;
      const keys: KeyValues = {
        role: r.role_id,
        reason: r.reason_code,
        kind: r.kind,
        channel: r.channel,
        team: r.team_id,
      };
      const id = ROLLUP_ORDER.map((k) => keys[k] ?? '\u0000').join('\u0001');
      let byCell = cells.get(r.currency);
      if (!byCell) cells.set(r.currency, (byCell = new Map()));
      let cell = byCell.get(id);
      if (!cell) byCell.set(id, (cell = { keys, shares: [] }));
      cell.shares.push({
        agent: r.agent_id,
        credits: r.credits,
        reversals: r.reversals,
        amount: BigInt(r.amount),
        within: BigInt(r.within),
        overrun: BigInt(r.overrun),
        creditsWithOverrun: r.with_overrun,
      });
      const line = (account: string, debit: string, credit: string) => {
        const key = `${r.currency}\u0001${account}\u0001${r.agent_id}`;
        let side = sides.get(key);
        if (!side)
          sides.set(key, (side = { currency: r.currency, account, agent_id: r.agent_id, debit: 0n, credit: 0n }));
        side.debit += BigInt(debit);
        side.credit += BigInt(credit);
      };
      line(ACCOUNTS.within, r.credit_within, r.reversed_within);
      line(ACCOUNTS.overrun, r.credit_overrun, r.reversed_overrun);
      line(ACCOUNTS.owed, r.reversed_amount, r.credit_amount);
    };
    await readInBatches<ShareRow>(
      m,
      `${MONTH_ENTRIES}
       SELECT currency, role_id, team_id, reason_code, kind, channel, agent_id,
              count(*) FILTER (WHERE sign > 0)::int AS credits,
              count(*) FILTER (WHERE sign < 0)::int AS reversals,
              sum(sign * amount)::text AS amount,
              sum(sign * within_discretion)::text AS within,
              sum(sign * overrun)::text AS overrun,
              sum(sign * (overrun > 0)::int)::int AS with_overrun,
              coalesce(sum(within_discretion) FILTER (WHERE sign > 0), 0)::text AS credit_within,
              coalesce(sum(overrun) FILTER (WHERE sign > 0), 0)::text AS credit_overrun,
              coalesce(sum(amount) FILTER (WHERE sign > 0), 0)::text AS credit_amount,
              coalesce(sum(within_discretion) FILTER (WHERE sign < 0), 0)::text AS reversed_within,
              coalesce(sum(overrun) FILTER (WHERE sign < 0), 0)::text AS reversed_overrun,
              coalesce(sum(amount) FILTER (WHERE sign < 0), 0)::text AS reversed_amount
         FROM entries
        GROUP BY currency, role_id, team_id, reason_code, kind, channel, agent_id`,
      [month, timezone],
      (batch) => batch.forEach(take),
    );
    const byCurrency = new Map(
      [...cells].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, byCell]) => [c, [...byCell.values()]]),
    );
    const journal: JournalLine[] = [...sides.values()].map((side) => ({
      ...side,
      debit: side.debit.toString(),
      credit: side.credit.toString(),
    }));
    return { byCurrency, journal, entries };
  },

  /**
   * Credits (not reversals) of the month per role, ladder bucket and agent, for limit fit, leaving
   * out the cells in `without` (cells whose release block does not carry their role).
   */
  async buckets(
    m: EntityManager,
    month: MonthStart,
    timezone: string,
    currency: string,
    unit: bigint,
    without: string[],
  ): Promise<BucketRow[]> {
    // Bucket 0 is below one major unit; then 1, 2, 5, 10, 20, 50, … major units: width_bucket
    // counts the ladder edges at or below the amount (a binary search, exact in integers).
    const edges: string[] = [];
    for (let i = 1; ladderEdge(i, unit) <= MAX_AMOUNT; i++) edges.push(ladderEdge(i, unit).toString());
    return m.query(
      `${MONTH_ENTRIES}, laddered AS (
         SELECT e.role_id, e.agent_id, width_bucket(e.amount, $4::bigint[]) AS bucket
           FROM entries e
          WHERE e.currency = $3 AND e.sign > 0 AND e.role_id IS NOT NULL
            AND ${CELL_OF_ENTRY} NOT IN (SELECT unnest($5::jsonb[]))
       )
       SELECT role_id, bucket, count(*)::int AS credits, array_agg(DISTINCT agent_id::text) AS agents
         FROM laddered GROUP BY role_id, bucket ORDER BY role_id, bucket`,
      [month, timezone, currency, edges, without],
    );
  },

  /**
   * Per cell with a role and agent: credits, and the net overrun and net counts limit fit reads from
   * each credit's own limits snapshot (a reversal counts against its credit, as in spend).
   */
  async limitFitShares(
    m: EntityManager,
    month: MonthStart,
    timezone: string,
    currency: string,
  ): Promise<LimitFitShareRow[]> {
    return m.query(
      `${MONTH_ENTRIES}
       SELECT e.role_id, e.team_id, e.reason_code, e.kind, e.channel, e.agent_id,
              count(*) FILTER (WHERE e.sign > 0)::int AS credits,
              sum(e.sign * e.overrun)::text AS overrun,
              sum(e.sign * (l.per_credit IS NOT NULL AND e.amount > l.per_credit)::int)::int AS over_per_credit,
              sum(e.sign * (e.overrun > 0)::int)::int AS with_overrun,
              sum(e.sign * (e.binding_limit = 'perCredit')::int)::int AS bound_per_credit,
              sum(e.sign * (e.binding_limit = 'perCase')::int)::int AS bound_per_case,
              sum(e.sign * (e.binding_limit = 'perAgentDay')::int)::int AS bound_per_agent_day,
              sum(e.sign * (e.binding_limit = 'perAgentMonth')::int)::int AS bound_per_agent_month
         FROM entries e
         LEFT JOIN role_limits l ON l.role_id = e.role_id AND l.version = e.limits_version AND l.currency = e.currency
        WHERE e.currency = $3 AND e.role_id IS NOT NULL
        GROUP BY e.role_id, e.team_id, e.reason_code, e.kind, e.channel, e.agent_id`,
      [month, timezone, currency],
    );
  },

  /** Per currency, day (in the time zone) and agent: credits and net amount, for month-to-date's chain. */
  async monthDays(m: EntityManager, month: MonthStart, timezone: string): Promise<DayRow[]> {
    return m.query(
      `${MONTH_ENTRIES}
       SELECT e.currency, to_char(e.recorded_at AT TIME ZONE $2, 'YYYY-MM-DD') AS day, e.agent_id,
              count(*) FILTER (WHERE e.sign > 0)::int AS credits, sum(e.sign * e.amount)::text AS amount
         FROM entries e
        GROUP BY 1, 2, 3 ORDER BY 1, 2`,
      [month, timezone],
    );
  },

  async insertRelease(
    m: EntityManager,
    r: {
      month: MonthStart;
      timezone: string;
      minCohort: number;
      dominancePercent: number;
      entries: number;
      ms: number;
    },
  ): Promise<void> {
    await m.query(
      `INSERT INTO month_releases (month, timezone, min_cohort, dominance_percent, entries, compute_ms)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [r.month, r.timezone, r.minCohort, r.dominancePercent, r.entries, r.ms],
    );
  },

  async insertCurrency(m: EntityManager, month: MonthStart, currency: string, published: boolean): Promise<void> {
    await m.query(`INSERT INTO release_currencies (month, currency, published) VALUES ($1, $2, $3)`, [
      month,
      currency,
      published,
    ]);
  },

  async insertBlocks(m: EntityManager, month: MonthStart, currency: string, blocks: Block[]): Promise<void> {
    // In slices, so a month of many blocks stays within the protocol's parameter limit.
    for (let start = 0; start < blocks.length; start += 1000) {
      const slice = blocks.slice(start, start + 1000);
      await m.query(
        `INSERT INTO release_blocks (month, currency, block, kind, keys, role_id, team_id, reason_code, credit_kind,
                                     channel, credits, reversals, amount, within_discretion, overrun, credits_with_overrun)
         SELECT $1, $2, b.*
           FROM jsonb_to_recordset($3::jsonb) AS b(block int, kind text, keys text[], role_id uuid, team_id uuid,
                reason_code text, credit_kind text, channel text, credits int, reversals int, amount bigint,
                within_discretion bigint, overrun bigint, credits_with_overrun int)`,
        [
          month,
          currency,
          JSON.stringify(
            slice.map((b, i) => ({
              block: start + i,
              kind: b.kind,
              keys: ROLLUP_ORDER.filter((k) => k in b.keys),
              role_id: b.keys.role ?? null,
              team_id: b.keys.team ?? null,
              reason_code: b.keys.reason ?? null,
              credit_kind: b.keys.kind ?? null,
              channel: b.keys.channel ?? null,
              credits: b.credits,
              reversals: b.reversals,
              amount: b.amount.toString(),
              within_discretion: b.withinDiscretion?.toString() ?? null,
              overrun: b.overrun?.toString() ?? null,
              credits_with_overrun: b.creditsWithOverrun,
            })),
          ),
        ],
      );
    }
  },

  async insertRows(m: EntityManager, month: MonthStart, currency: string, rows: StoredRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += 5000) {
      const slice = rows.slice(start, start + 5000);
      await m.query(
        `INSERT INTO release_rows (grouping, month, currency, row, not_shown, role_id, team_id, reason_code, credit_kind,
                                   channel, blocks, credits, reversals, amount, within_discretion, overrun,
                                   credits_with_overrun)
         SELECT r.grouping, $1, $2, r.row, r.not_shown, r.role_id, r.team_id, r.reason_code, r.credit_kind, r.channel,
                r.blocks, r.credits, r.reversals, r.amount, r.within_discretion, r.overrun, r.credits_with_overrun
           FROM jsonb_to_recordset($3::jsonb) AS r(grouping smallint, row int, not_shown boolean, role_id uuid,
                team_id uuid, reason_code text, credit_kind text, channel text, blocks int, credits int, reversals int,
                amount bigint, within_discretion bigint, overrun bigint, credits_with_overrun int)`,
        [
          month,
          currency,
          JSON.stringify(
            slice.map((r) => ({
              grouping: r.grouping,
              row: r.row,
              not_shown: r.notShown,
              role_id: r.keys.role ?? null,
              team_id: r.keys.team ?? null,
              reason_code: r.keys.reason ?? null,
              credit_kind: r.keys.kind ?? null,
              channel: r.keys.channel ?? null,
              blocks: r.blocks,
              credits: r.credits,
              reversals: r.reversals,
              amount: r.amount.toString(),
              within_discretion: r.withinDiscretion?.toString() ?? null,
              overrun: r.overrun?.toString() ?? null,
              credits_with_overrun: r.creditsWithOverrun,
            })),
          ),
        ],
      );
    }
  },

  async insertLimitFit(
    m: EntityManager,
    month: MonthStart,
    currency: string,
    row: LimitFitCounts,
    histogram: Histogram,
  ): Promise<void> {
    const shares = row.shares;
    await m.query(
      `INSERT INTO release_limit_fit (month, role_id, currency, credits, bucket_edges, bucket_credits, over_per_credit,
                                      with_overrun, bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month)
       VALUES ($1, $2, $3, $4, $5::bigint[], $6::int[], $7, $8, $9, $10, $11, $12)`,
      [
        month,
        row.role_id,
        currency,
        row.credits,
        histogram.edges.map(String),
        histogram.credits,
        shares?.over_per_credit ?? null,
        shares?.with_overrun ?? null,
        shares?.bound_per_credit ?? null,
        shares?.bound_per_case ?? null,
        shares?.bound_per_agent_day ?? null,
        shares?.bound_per_agent_month ?? null,
      ],
    );
  },

  async insertJournal(
    m: EntityManager,
    month: MonthStart,
    line: { currency: string; account: string; net: bigint | null; debit: bigint | null; credit: bigint | null },
  ): Promise<void> {
    await m.query(
      `INSERT INTO release_journal (month, currency, account, net, debit, credit) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        month,
        line.currency,
        line.account,
        line.net?.toString() ?? null,
        line.debit?.toString() ?? null,
        line.credit?.toString() ?? null,
      ],
    );
  },
};
