import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { localDay } from '../common/local-day';
import { APP_CONFIG, AppConfig } from '../config/config';
import { LIMIT_KEYS, LimitKey } from '../roles/limits';
import { GroupKey, LimitFitQueryDto, Period, SpendReportQueryDto } from './dto/report-query.dto';
import { RollupFolder } from './rollup-folder';
import { AGENT_SAMPLE } from './rollups';
import { add, Bucket, Cohort, cohortOf, Figures, Group, suppress, union } from './suppression';

const DAY_MS = 24 * 3600 * 1000;
/** Longest range a report covers; `period=day` and `period=week` read day rollups, so they get less. */
const MAX_DAYS = 3660;
const MAX_DAYS_DAILY = 370;

const COLUMN: Record<GroupKey, string> = {
  reason: 'reason_code',
  kind: 'kind',
  role: 'role_id',
  team: 'team_id',
  channel: 'channel',
};

const PERIOD_LABEL: Record<Exclude<Period, 'none'>, string> = {
  day: `to_char(bucket, 'YYYY-MM-DD')`,
  week: `to_char(bucket, 'IYYY-"W"IW')`,
  month: `to_char(bucket, 'YYYY-MM')`,
  quarter: `to_char(bucket, 'YYYY-"Q"Q')`,
};

export interface Named {
  id: string | null;
  name: string | null;
}

export interface SpendRow {
  period?: string;
  reason?: string;
  kind?: string;
  role?: Named;
  team?: Named;
  channel?: string | null;
  currency: string;
  credits: bigint;
  amount: bigint;
  withinDiscretion: bigint;
  overrun: bigint;
  creditsWithOverrun: bigint;
}

export interface SpendReport {
  minCohort: number;
  from: string;
  to: string;
  period: Period;
  groupBy: GroupKey[];
  currency?: string;
  rows: SpendRow[];
  suppressed: Array<{ currency: string; rows: number } & Partial<Record<keyof Figures, bigint | null>>>;
  totals: Array<{ currency: string } & Figures>;
}

type RowKey = Omit<SpendRow, keyof Figures | 'currency'>;

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function parseDay(s: string): Date {
  return new Date(`${s}T00:00:00Z`);
}

/** The agents behind a grouped set of cells: exact below AGENT_SAMPLE, else "at least". */
function cohortFromRow(r: Record<string, any>): Cohort {
  const full = Number(r.sampled ?? r.distinct_agents ?? 0) >= AGENT_SAMPLE;
  return cohortOf(full || !r.agents ? [] : r.agents.split(','), full);
}

function figures(r: Record<string, string>): Figures {
  return {
    credits: BigInt(r.credits),
    amount: BigInt(r.amount),
    withinDiscretion: BigInt(r.within_discretion),
    overrun: BigInt(r.overrun),
    creditsWithOverrun: BigInt(r.credits_with_overrun),
  };
}

@Injectable()
export class ReportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly folder: RollupFolder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async spend(q: SpendReportQueryDto): Promise<SpendReport> {
    const period: Period = q.period ?? 'none';
    const groupBy = q.groupBy ?? [];
    const from = parseDay(q.from);
    const to = parseDay(q.to);
    if (to < from) throw DomainError.validation('to', 'must not be before from');
    const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
    const daily = period === 'day' || period === 'week';
    if (days > (daily ? MAX_DAYS_DAILY : MAX_DAYS)) {
      throw DomainError.validation('to', `a ${period} report covers at most ${daily ? MAX_DAYS_DAILY : MAX_DAYS} days`);
    }

    // Every credit committed before this request is in the rollups once the queue is folded.
    await this.folder.foldAll();

    // Whole months come from month rollups; the days at either edge, and day/week reports, from day rollups.
    const firstFull =
      from.getUTCDate() === 1 ? from : new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
    const afterTo = new Date(to.getTime() + DAY_MS);
    const endFull = new Date(Date.UTC(afterTo.getUTCFullYear(), afterTo.getUTCMonth(), 1));
    const useMonths = !daily && firstFull < endFull;

    const parts: Array<Array<Record<string, any>>> = [];
    const currency = q.currency ?? null;
    if (useMonths) {
      const months = [currency, isoDay(firstFull), isoDay(endFull)];
      const shape = monthShape(groupBy);
      parts.push(
        await this.dataSource.query(
          shape === 'agents'
            ? agentMonthsSql(period, groupBy, `month >= $2::date AND month < $3::date`)
            : cellsSql(shape, period, groupBy, `bucket >= $2::date AND bucket < $3::date`),
          months,
        ),
      );
      if (from < firstFull || afterTo > endFull) {
        parts.push(
          await this.dataSource.query(
            cellsSql(
              'd',
              period,
              groupBy,
              `bucket BETWEEN $4::date AND $5::date AND NOT (bucket >= $2::date AND bucket < $3::date)`,
            ),
            [...months, q.from, q.to],
          ),
        );
      }
    } else {
      parts.push(
        await this.dataSource.query(cellsSql('d', period, groupBy, `bucket BETWEEN $2::date AND $3::date`), [
          currency,
          q.from,
          q.to,
        ]),
      );
    }

    // The same group can come from two sources (whole months and edge days): add them up.
    const merged = new Map<string, Group<RowKey>>();
    for (const r of parts.flat()) {
      const key: RowKey = {};
      if (period !== 'none') key.period = r.period;
      if (groupBy.includes('reason')) key.reason = r.reason_code;
      if (groupBy.includes('kind')) key.kind = r.kind;
      if (groupBy.includes('role')) key.role = { id: r.role_id, name: null };
      if (groupBy.includes('team')) key.team = { id: r.team_id, name: null };
      if (groupBy.includes('channel')) key.channel = r.channel;
      const id = JSON.stringify([key, r.currency]);
      const seen = merged.get(id);
      const cohort = cohortFromRow(r);
      if (seen) {
        seen.figures = add(seen.figures, figures(r));
        seen.cohort = union(seen.cohort, cohort);
      } else {
        merged.set(id, { key, sortKey: '', currency: r.currency, figures: figures(r), cohort });
      }
    }
    const groups = [...merged.values()];
    await this.name(groups, groupBy);
    for (const g of groups) g.sortKey = sortKeyOf(g.key, g.currency);
    const result = suppress(groups, this.config.minCohort);
    const visible = result.visible.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    return {
      minCohort: this.config.minCohort,
      from: q.from,
      to: q.to,
      period,
      groupBy,
      ...(q.currency ? { currency: q.currency } : {}),
      rows: visible.map((g) => ({ ...g.key, currency: g.currency, ...g.figures })),
      suppressed: result.suppressed.map(bucketView),
      totals: result.totals.map((t) => ({ currency: t.currency, ...t.figures })),
    };
  }

  /** Fills in role and team names for the ids present. */
  private async name(groups: Group<RowKey>[], groupBy: GroupKey[]): Promise<void> {
    for (const [dim, table] of [
      ['role', 'roles'],
      ['team', 'teams'],
    ] as const) {
      if (!groupBy.includes(dim)) continue;
      const ids = [...new Set(groups.map((g) => g.key[dim]?.id).filter((id): id is string => !!id))];
      const rows: Array<{ id: string; name: string }> = ids.length
        ? await this.dataSource.query(`SELECT id, name FROM ${table} WHERE id = ANY($1::uuid[])`, [ids])
        : [];
      const names = new Map(rows.map((r) => [r.id, r.name]));
      for (const g of groups) {
        const named = g.key[dim];
        if (named?.id) named.name = names.get(named.id) ?? null;
      }
    }
  }

  async limitFit(q: LimitFitQueryDto) {
    // Without `to`, the month that has begun where the ledger keeps its days (LEEWAY_TIMEZONE).
    const today = parseDay(localDay(this.config.timezone));
    const to = q.to ? parseDay(q.to) : today;
    const from = q.from ? parseDay(q.from) : new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - 11, 1));
    if (to < from) throw DomainError.validation('to', 'must not be before from');
    if ((to.getTime() - from.getTime()) / DAY_MS > MAX_DAYS) {
      throw DomainError.validation('to', `limit-fit covers at most ${MAX_DAYS} days`);
    }
    const fromMonth = isoDay(new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)));
    const toMonth = isoDay(new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), 1)));
    const params = [fromMonth, toMonth, q.currency ?? null];

    await this.folder.foldAll();
    const [histogram, cohorts, limits]: Array<Array<Record<string, any>>> = await Promise.all([
      this.dataSource.query(
        `SELECT role_id, currency, amount, sum(credits) AS credits, sum(credits_with_overrun) AS credits_with_overrun,
                sum(bound_per_credit) AS per_credit, sum(bound_per_case) AS per_case,
                sum(bound_per_agent_day) AS per_agent_day, sum(bound_per_agent_month) AS per_agent_month
           FROM report_amounts
          WHERE month BETWEEN $1::date AND $2::date AND role_id IS NOT NULL AND credits > 0
            AND ($3::text IS NULL OR currency = $3)
          GROUP BY role_id, currency, amount
          ORDER BY role_id, currency, amount`,
        params,
      ),
      this.dataSource.query(
        `SELECT role_id, currency, count(*) AS distinct_agents
           FROM (SELECT role_id, currency, agent_id FROM report_agent_months
                  WHERE month BETWEEN $1::date AND $2::date AND role_id IS NOT NULL AND credits > 0
                    AND ($3::text IS NULL OR currency = $3)
                  GROUP BY role_id, currency, agent_id) a
          GROUP BY role_id, currency`,
        params,
      ),
      this.dataSource.query(
        `SELECT r.id AS role_id, r.name, l.currency, l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month
           FROM roles r LEFT JOIN role_limits l ON l.role_id = r.id AND l.version = r.current_limits_version`,
      ),
    ]);

    const names = new Map<string, string>();
    const current = new Map<string, Record<string, any>>();
    for (const l of limits) {
      names.set(l.role_id, l.name);
      if (l.currency) current.set(`${l.role_id}/${l.currency}`, l);
    }
    const buckets = new Map<string, Array<Record<string, any>>>();
    for (const h of histogram) {
      const id = `${h.role_id}/${h.currency}`;
      const list = buckets.get(id) ?? [];
      list.push(h);
      buckets.set(id, list);
    }
    const minCohort = this.config.minCohort;
    const rows = cohorts
      .map((c) => {
        const id = `${c.role_id}/${c.currency}`;
        const role = { id: c.role_id as string, name: names.get(c.role_id) ?? null };
        if (Number(c.distinct_agents) < minCohort)
          return { role, currency: c.currency as string, suppressed: true as const };
        return { role, currency: c.currency as string, ...fitOf(buckets.get(id) ?? [], current.get(id)) };
      })
      .sort((a, b) => `${a.role.name}/${a.currency}`.localeCompare(`${b.role.name}/${b.currency}`));
    return {
      minCohort,
      from: fromMonth,
      to: isoDay(new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() + 1, 0))),
      rows,
    };
  }
}

/** Which month rollup answers a grouping with the fewest rows. */
function monthShape(groupBy: GroupKey[]): 'r' | 'm' | 'agents' {
  if (groupBy.every((k) => k === 'role' || k === 'team')) return 'agents';
  if (groupBy.every((k) => k === 'reason' || k === 'kind' || k === 'channel')) return 'r';
  return 'm';
}

/** The start of the period holding `column` (cheap to group by); labelled only after grouping. */
const PERIOD_START: Record<Exclude<Period, 'none'>, (column: string) => string> = {
  day: (c) => c,
  week: (c) => `date_trunc('week', ${c})::date`,
  month: (c) => `date_trunc('month', ${c})::date`,
  quarter: (c) => `date_trunc('quarter', ${c})::date`,
};

function innerKeys(period: Period, groupBy: GroupKey[], column: string): string[] {
  return [
    ...(period === 'none' ? [] : [`${PERIOD_START[period](column)} AS bucket`]),
    ...groupBy.map((k) => COLUMN[k]),
    'currency',
  ];
}

function outerKeys(period: Period, groupBy: GroupKey[]): string[] {
  return [
    ...(period === 'none' ? [] : [`${PERIOD_LABEL[period]} AS period`]),
    ...groupBy.map((k) => COLUMN[k]),
    'currency',
  ];
}

const positions = (keys: string[]) => keys.map((_, i) => i + 1).join(', ');

const SUMS = `sum(credits) AS credits, sum(amount) AS amount, sum(within_discretion) AS within_discretion,
              sum(overrun) AS overrun, sum(credits_with_overrun) AS credits_with_overrun`;

/** Groups of rollup cells of one grain; $1 is the optional currency. Hash-grouped, labelled last. */
function cellsSql(grain: 'd' | 'm' | 'r', period: Period, groupBy: GroupKey[], range: string): string {
  const inner = innerKeys(period, groupBy, 'bucket');
  const outer = outerKeys(period, groupBy);
  return `SELECT ${outer.join(', ')}, credits, amount, within_discretion, overrun, credits_with_overrun, sampled, agents
            FROM (SELECT ${inner.join(', ')}, ${SUMS},
                         max(cardinality(agents)) AS sampled,
                         string_agg(array_to_string(agents, ','), ',')
                           FILTER (WHERE cardinality(agents) < ${AGENT_SAMPLE}) AS agents
                    FROM report_cells
                   WHERE grain = '${grain}' AND ${range} AND credits > 0 AND ($1::text IS NULL OR currency = $1)
                   GROUP BY ${positions(inner)}) g`;
}

/** Groups by role and team from the per-agent month rollup, counting distinct agents exactly. */
function agentMonthsSql(period: Period, groupBy: GroupKey[], range: string): string {
  const inner = innerKeys(period, groupBy, 'month');
  const outer = outerKeys(period, groupBy);
  // First one row per agent and group, then the group: distinct agents without a sort.
  return `SELECT ${outer.join(', ')}, ${SUMS}, count(*) AS distinct_agents,
                 CASE WHEN count(*) < ${AGENT_SAMPLE} THEN string_agg(agent_id::text, ',') END AS agents
            FROM (SELECT ${inner.join(', ')}, agent_id, ${SUMS}
                    FROM report_agent_months
                   WHERE ${range} AND credits > 0 AND ($1::text IS NULL OR currency = $1)
                   GROUP BY ${positions(inner)}, agent_id) a
           GROUP BY ${positions(outer)}`;
}

function bucketView(b: Bucket) {
  const f = b.figures;
  return {
    currency: b.currency,
    rows: b.rows,
    credits: f?.credits ?? null,
    amount: f?.amount ?? null,
    withinDiscretion: f?.withinDiscretion ?? null,
    overrun: f?.overrun ?? null,
    creditsWithOverrun: f?.creditsWithOverrun ?? null,
  };
}

function sortKeyOf(key: RowKey, currency: string): string {
  return JSON.stringify([
    key.period ?? '',
    key.reason ?? '',
    key.kind ?? '',
    key.role?.name ?? '',
    key.role?.id ?? '',
    key.team?.name ?? '',
    key.team?.id ?? '',
    key.channel ?? '',
    currency,
  ]);
}

const BOUND_COLUMN: Record<LimitKey, string> = {
  perCredit: 'per_credit',
  perCase: 'per_case',
  perAgentDay: 'per_agent_day',
  perAgentMonth: 'per_agent_month',
};

/** Exact percentiles and limit signals from a histogram of credit amounts (sorted by amount). */
export function fitOf(histogram: Array<Record<string, any>>, limitsRow: Record<string, any> | undefined) {
  const total = histogram.reduce((n, h) => n + BigInt(h.credits), 0n);
  const limits = {
    perCredit: limitsRow?.per_credit != null ? BigInt(limitsRow.per_credit) : null,
    perCase: limitsRow?.per_case != null ? BigInt(limitsRow.per_case) : null,
    perAgentDay: limitsRow?.per_agent_day != null ? BigInt(limitsRow.per_agent_day) : null,
    perAgentMonth: limitsRow?.per_agent_month != null ? BigInt(limitsRow.per_agent_month) : null,
  };
  /** Nearest-rank percentile: the smallest amount that at least p% of credits do not exceed. */
  const percentile = (p: number): bigint | null => {
    if (total === 0n) return null;
    const rank = (total * BigInt(p) + 99n) / 100n;
    let seen = 0n;
    for (const h of histogram) {
      seen += BigInt(h.credits);
      if (seen >= rank) return BigInt(h.amount);
    }
    return null;
  };
  // Rounded half up to four decimals, in integers so no float enters before the final division.
  const share = (n: bigint): number | null =>
    total === 0n ? null : Number((n * 20000n + total) / (2n * total)) / 10000;
  const overPerCredit =
    limits.perCredit === null
      ? null
      : histogram.filter((h) => BigInt(h.amount) > limits.perCredit!).reduce((n, h) => n + BigInt(h.credits), 0n);
  const withOverrun = histogram.reduce((n, h) => n + BigInt(h.credits_with_overrun), 0n);
  let bindingLimit: LimitKey | null = null;
  let most = 0n;
  for (const key of LIMIT_KEYS) {
    const n = histogram.reduce((s, h) => s + BigInt(h[BOUND_COLUMN[key]]), 0n);
    if (n > most) {
      most = n;
      bindingLimit = key;
    }
  }
  return {
    credits: total,
    limits: limitsRow ? limits : null,
    p50: percentile(50),
    p90: percentile(90),
    p95: percentile(95),
    p99: percentile(99),
    shareOverPerCredit: overPerCredit === null ? null : share(overPerCredit),
    shareWithOverrun: share(withOverrun),
    bindingLimit,
    suggestedPerCredit: percentile(95),
  };
}
