import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { APP_CONFIG, AppConfig } from '../config/config';
import { LIMIT_KEYS } from '../roles/limits';
import { combineHistograms, Histogram, percentileEdge } from './limit-fit-buckets';
import { BlockFigures, GroupKey, ROLLUP_ORDER } from './release-rule';
import { addFigures, emptySum, SumRow } from './release-sums';
import { LimitFitShares } from './releases.repository';
import { MonthRows, StoredRow } from './month-rows';
import {
  COMPLETE_BEFORE_DAY,
  GOODWILL_ACCOUNTS,
  GOODWILL_MERGED,
  MonthStatus,
  ReleasesService,
} from './releases.service';
import { DayShare, monthToDateChain } from './month-to-date';

export type ReleasePeriod = 'none' | 'month' | 'quarter' | 'year';

export interface Named {
  id: string | null;
  name: string | null;
}

export type ReleaseFigures = BlockFigures;

export interface ReleaseSpendRow extends ReleaseFigures {
  period?: string;
  role?: Named;
  team?: Named;
  reason?: string | null;
  kind?: string | null;
  channel?: string | null;
  currency: string;
}

export interface ReleaseSpendReport {
  minCohort: number;
  dominancePercent: number;
  from: string | null;
  to: string | null;
  period: ReleasePeriod;
  groupBy: GroupKey[];
  currency?: string;
  rows: ReleaseSpendRow[];
  notShown: Array<{ currency: string } & ReleaseFigures>;
  totals: Array<{ currency: string } & ReleaseFigures>;
  /** Currency-months that exist but could not be published at all. */
  withheld: Array<{ month: string; currency: string }>;
}

const MAX_MONTHS = 120;

/** Every report, read from closed-month releases only. */
@Injectable()
export class ReleaseReader {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly releases: ReleasesService,
    private readonly monthRows: MonthRows,
  ) {}

  /** The open month's complete days read so far, per currency (see monthToDate). */
  private monthToDateSeen?: { month: string; until: string; shares: Map<string, DayShare[]> };

  months(): Promise<MonthStatus[]> {
    return this.releases.months();
  }

  /**
   * The closed months from..to (`2026-11`), released now where due. Without a range: the last
   * twelve closed months. A month that is open or not yet closable is refused with the reason.
   */
  async closedRange(from?: string, to?: string): Promise<{ from: string; to: string } | null> {
    // A range of months already seen released needs no look at the database: releases never change.
    if (
      to &&
      (from ?? to) <= to &&
      monthsBetween(from ?? to, to) <= MAX_MONTHS &&
      this.releases.knownReleased(from ?? to, to)
    )
      return { from: from ?? to, to };
    const months = await this.releases.months();
    const closed = months.filter((m) => m.state === 'released' || m.state === 'due');
    const last = closed[closed.length - 1]?.month;
    if (!to && !last) return null;
    const end = to ?? last!;
    const start = from ?? (to ? end : shiftMonth(end, -11));
    if (start > end) throw DomainError.validation('from', 'must not be after to');
    if (monthsBetween(start, end) > MAX_MONTHS) throw DomainError.validation('to', `at most ${MAX_MONTHS} months`);
    const open = months.find((m) => m.month >= start && m.month <= end && m.state !== 'released' && m.state !== 'due');
    const current = months[months.length - 1]?.month;
    if (open || (current && end > current)) {
      const which = open?.month ?? end;
      throw DomainError.validation(
        'to',
        `${which} is not closed yet: reports read closed months only, released once a month has ended, so that no ` +
          'two reports can be subtracted to single anyone out; the running total of the open month is at /v1/reports/month-to-date',
      );
    }
    const missing = await this.releases.ensureReleased(
      closed.filter((m) => m.month >= start && m.month <= end).map((m) => m.month),
      months,
    );
    if (missing.length > 0) throw DomainError.validation('to', `${missing[0]} is not closed yet`);
    return { from: start, to: end };
  }

  async spend(q: {
    from?: string;
    to?: string;
    period: ReleasePeriod;
    groupBy: GroupKey[];
    currency?: string;
  }): Promise<ReleaseSpendReport> {
    const range = await this.closedRange(q.from, q.to);
    const base = {
      minCohort: this.config.minCohort,
      dominancePercent: this.config.dominancePercent,
      period: q.period,
      groupBy: q.groupBy,
      ...(q.currency ? { currency: q.currency } : {}),
    };
    if (!range) return { ...base, from: null, to: null, rows: [], notShown: [], totals: [], withheld: [] };
    const sums = await this.sums(range.from, range.to, q.period, q.groupBy, q.currency);
    return {
      ...base,
      from: range.from,
      to: range.to,
      rows: sums.rows.map((r) => this.row(r, q.period, q.groupBy, sums.names)),
      notShown: sums.notShown.map((r) => ({ currency: r.currency, ...figures(r) })),
      totals: sums.totals.map((r) => ({ currency: r.currency, ...figures(r) })),
      withheld: sums.withheld,
    };
  }

  private row(r: SumRow, period: ReleasePeriod, groupBy: GroupKey[], names: Map<string, string>): ReleaseSpendRow {
    const out: Partial<ReleaseSpendRow> = {};
    if (period !== 'none') out.period = r.period!;
    for (const key of GROUP_KEY_ORDER) {
      if (!groupBy.includes(key)) continue;
      const value = r.keys[key] ?? null;
      if (key === 'role') out.role = { id: value, name: (value && names.get(`role/${value}`)) ?? null };
      else if (key === 'team') out.team = { id: value, name: (value && names.get(`team/${value}`)) ?? null };
      else out[key] = value;
    }
    out.currency = r.currency;
    return Object.assign(out, figures(r)) as ReleaseSpendRow;
  }

  /**
   * Rows, notShown lines, totals and withheld currency-months over the months. Each month stored
   * its rows per grouping once (sums of whole blocks, see ReleasesService), so a report adds a few
   * rows per month; a withheld split in any part withholds the sum's split. A released month's rows
   * never change, so they are kept in memory once read (see MonthRows).
   */
  private async sums(from: string, to: string, period: ReleasePeriod, groupBy: GroupKey[], currency?: string) {
    const grouping = ROLLUP_ORDER.reduce((mask, key, i) => (groupBy.includes(key) ? mask | (1 << i) : mask), 0);
    const months: string[] = [];
    for (let m = from; m <= to; m = shiftMonth(m, 1)) months.push(m);
    const [rowsByMonth, totalsByMonth, withheldByMonth] = await Promise.all([
      this.monthRows.read(grouping, months),
      grouping === 0 ? null : this.monthRows.read(0, months),
      this.monthRows.withheld(months),
    ]);
    const rows = new Map<string, SumRow>();
    const notShown = new Map<string, SumRow>();
    const totals = new Map<string, SumRow>();
    const withheld: Array<{ month: string; currency: string }> = [];
    months.forEach((month, i) => {
      const label = periodLabel(month, period);
      for (const r of rowsByMonth[i]) {
        if (currency && r.currency !== currency) continue;
        if (r.notShown) addTo(notShown, r.currency, null, [], r);
        else {
          // Keys never hold control characters (validated on the way in), so these separate them.
          let id = `${label}\u0000${r.currency}`;
          for (const key of groupBy) id += `\u0000${r.keys[key] ?? '\u0001'}`;
          addTo(rows, id, label, groupBy, r);
        }
      }
      for (const r of (totalsByMonth ?? rowsByMonth)[i]) {
        if ((currency && r.currency !== currency) || r.notShown) continue;
        addTo(totals, r.currency, null, [], r);
      }
      for (const c of withheldByMonth[i]) if (!currency || c === currency) withheld.push({ month, currency: c });
    });
    const named = [...rows.values()].sort(byPeriodCurrencyKeys);
    const names = await this.names(named, groupBy);
    const byCurrency = (a: SumRow, b: SumRow) => compare(a.currency, b.currency);
    return {
      names,
      rows: named,
      notShown: [...notShown.values()].sort(byCurrency),
      totals: [...totals.values()].sort(byCurrency),
      withheld,
    };
  }

  /** Today's names of the roles and teams the rows carry (`role/<id>`): names may change, releases keep ids. */
  private async names(rows: SumRow[], groupBy: GroupKey[]): Promise<Map<string, string>> {
    const ids = (key: 'role' | 'team') =>
      groupBy.includes(key) ? [...new Set(rows.map((r) => r.keys[key]).filter((v): v is string => !!v))] : [];
    const [roles, teams] = [ids('role'), ids('team')];
    if (roles.length + teams.length === 0) return new Map();
    const found: Array<{ kind: 'role' | 'team'; id: string; name: string }> = await this.dataSource.query(
      `SELECT 'role' AS kind, id, name FROM roles WHERE id = ANY($1::uuid[])
       UNION ALL SELECT 'team', id, name FROM teams WHERE id = ANY($2::uuid[])`,
      [roles, teams],
    );
    return new Map(found.map((f) => [`${f.kind}/${f.id}`, f.name]));
  }

  async limitFit(q: { from?: string; to?: string; currency?: string }) {
    const range = await this.closedRange(q.from, q.to);
    if (!range) return { minCohort: this.config.minCohort, from: null, to: null, rows: [] };
    const stored: Array<
      { [K in keyof LimitFitShares]: number | null } & {
        role_id: string;
        credits: number;
        currency: string;
        bucket_edges: string[];
        bucket_credits: number[];
      }
    > = await this.dataSource.query(
      `SELECT role_id, currency, credits, bucket_edges::text[], bucket_credits, over_per_credit, with_overrun,
              bound_per_credit, bound_per_case, bound_per_agent_day, bound_per_agent_month
         FROM release_limit_fit
        WHERE month BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR currency = $3)`,
      [`${range.from}-01`, `${range.to}-01`, q.currency ?? null],
    );
    const { roles, limits } = await this.currentLimits();
    const groups = new Map<string, typeof stored>();
    for (const s of stored) {
      const id = `${s.role_id}/${s.currency}`;
      groups.set(id, [...(groups.get(id) ?? []), s]);
    }
    const rows = [];
    for (const role of roles) {
      const currencies = new Set([
        ...stored.filter((s) => s.role_id === role.id).map((s) => s.currency),
        ...[...limits.keys()].filter((k) => k.startsWith(`${role.id}/`)).map((k) => k.split('/')[1]),
      ]);
      for (const currency of [...currencies].sort()) {
        if (q.currency && currency !== q.currency) continue;
        const months = groups.get(`${role.id}/${currency}`);
        const named = { id: role.id, name: role.name };
        if (!months) {
          rows.push({ role: named, currency, suppressed: true as const });
          continue;
        }
        const histogram = combineHistograms(
          months.map((m): Histogram => ({ edges: m.bucket_edges.map((e) => BigInt(e)), credits: m.bucket_credits })),
        )!;
        const credits = months.reduce((s, m) => s + m.credits, 0);
        // A month that withheld its shares withholds them for any range holding it (else the range
        // minus the other months would show them).
        const withheld = months.some((m) => m.with_overrun === null);
        const bound = {
          perCredit: sumOf(months, 'bound_per_credit'),
          perCase: sumOf(months, 'bound_per_case'),
          perAgentDay: sumOf(months, 'bound_per_agent_day'),
          perAgentMonth: sumOf(months, 'bound_per_agent_month'),
        };
        const top = LIMIT_KEYS.reduce((best, k) => (bound[k] > bound[best] ? k : best), LIMIT_KEYS[0]);
        rows.push({
          role: named,
          currency,
          credits,
          limits: limits.get(`${role.id}/${currency}`) ?? null,
          p50: percentileEdge(histogram, 50),
          p90: percentileEdge(histogram, 90),
          p95: percentileEdge(histogram, 95),
          p99: percentileEdge(histogram, 99),
          shareOverPerCredit: withheld ? null : share(sumOf(months, 'over_per_credit'), credits),
          shareWithOverrun: withheld ? null : share(sumOf(months, 'with_overrun'), credits),
          bindingLimit: withheld ? null : bound[top] > 0 ? top : 'none',
          suggestedPerCredit: percentileEdge(histogram, 95),
        });
      }
    }
    return { minCohort: this.config.minCohort, from: range.from, to: range.to, rows };
  }

  /** Every job role (by name) and its current limits per currency, in one statement. */
  private async currentLimits() {
    const rows: Array<Record<string, string | null>> = await this.dataSource.query(
      `SELECT r.id AS role_id, r.name, l.currency, l.per_credit::text, l.per_case::text, l.per_agent_day::text,
              l.per_agent_month::text
         FROM roles r LEFT JOIN role_limits l ON l.role_id = r.id AND l.version = r.current_limits_version
        ORDER BY r.name, r.id`,
    );
    const big = (v: string | null) => (v === null ? null : BigInt(v));
    const roles = [...new Map(rows.map((r) => [r.role_id!, { id: r.role_id!, name: r.name! }])).values()];
    const limits = new Map(
      rows
        .filter((r) => r.currency !== null)
        .map((r) => [
          `${r.role_id}/${r.currency}`,
          {
            perCredit: big(r.per_credit),
            perCase: big(r.per_case),
            perAgentDay: big(r.per_agent_day),
            perAgentMonth: big(r.per_agent_month),
          },
        ]),
    );
    return { roles, limits };
  }

  /**
   * The open month's running total per currency: it advances by whole complete days (ended, past
   * the grace period, and no transaction that began before the day's end still running), and only
   * once the increment since the last published figure covers minCohort agents and passes the p%
   * rule; other days carry forward (see monthToDateChain, which the month's release reruns).
   */
  async monthToDate() {
    const tz = this.config.timezone;
    const [bounds]: Array<{ month: string; lo: string; hi: string }> = await this.dataSource.query(
      `SELECT to_char(lo, 'YYYY-MM') AS month, lo::text, greatest(lo, hi)::text AS hi
         FROM (SELECT date_trunc('month', now() AT TIME ZONE $1) AS lo, ${COMPLETE_BEFORE_DAY} AS hi) b`,
      [tz, this.config.releaseGraceSeconds],
    );
    // Complete days never change (nothing can still record into them), so each is read once: a
    // later call reads only the days completed since, and a new month starts afresh.
    let seen = this.monthToDateSeen;
    if (!seen || seen.month !== bounds.month) seen = { month: bounds.month, until: bounds.lo, shares: new Map() };
    if (seen.until < bounds.hi) {
      const rows: Array<{ currency: string; day: string; agent_id: string; credits: number; amount: string }> =
        await this.dataSource.query(
          `WITH entries AS (
               SELECT c.currency, c.recorded_at, c.agent_id, 1 AS credits, c.amount FROM credits c
               UNION ALL
               SELECT c.currency, r.recorded_at, c.agent_id, 0, -c.amount
                 FROM credit_reversals r JOIN credits c ON c.id = r.credit_id
             )
             SELECT e.currency, to_char(e.recorded_at AT TIME ZONE $1, 'YYYY-MM-DD') AS day, e.agent_id,
                    sum(e.credits)::int AS credits, sum(e.amount)::text AS amount
               FROM entries e
              WHERE e.recorded_at >= ($2::timestamp AT TIME ZONE $1) AND e.recorded_at < ($3::timestamp AT TIME ZONE $1)
              GROUP BY 1, 2, 3`,
          [tz, seen.until, bounds.hi],
        );
      // Each currency's list is copied once (a request still reading the old one keeps it whole).
      const shares = new Map([...seen.shares].map(([currency, list]) => [currency, [...list]]));
      for (const r of rows) {
        const share = { day: r.day, agent: r.agent_id, credits: r.credits, amount: BigInt(r.amount) };
        const list = shares.get(r.currency);
        if (list) list.push(share);
        else shares.set(r.currency, [share]);
      }
      seen = { month: bounds.month, until: bounds.hi, shares };
      this.monthToDateSeen = seen;
    }
    const data = [...seen.shares]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, list]) => ({ currency, ...monthToDateChain(list, this.rules).published }));
    return { month: bounds.month, minCohort: this.config.minCohort, data };
  }

  private get rules() {
    return { minCohort: this.config.minCohort, dominancePercent: this.config.dominancePercent };
  }

  /** Finance's books: net movement per closed month × account × currency. */
  async journal(q: { from?: string; to?: string; currency?: string }) {
    const range = await this.closedRange(q.from, q.to);
    if (!range) return { from: null, to: null, data: [] };
    const rows: Array<{
      month: string;
      currency: string;
      account: string;
      net: string | null;
      debit: string | null;
      credit: string | null;
    }> = await this.dataSource.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, currency, account, net::text, debit::text, credit::text
           FROM release_journal
          WHERE month BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR currency = $3)
          ORDER BY month, currency, account`,
      [`${range.from}-01`, `${range.to}-01`, q.currency ?? null],
    );
    const big = (v: string | null) => (v === null ? null : BigInt(v));
    return {
      from: range.from,
      to: range.to,
      data: rows.map((r) => ({
        month: r.month,
        account: r.account,
        currency: r.currency,
        debits: big(r.debit),
        credits: big(r.credit),
        net: big(r.net),
      })),
    };
  }

  /** Balances as at the end of the last closed month; withheld for a currency with a withheld month. */
  async balances(currency?: string) {
    const range = await this.closedRange();
    if (!range) return { asOf: null, data: [] };
    // Where any month of a currency showed its goodwill as one line, so do its balances: the two
    // accounts' balances would give that month's withheld split by subtraction (and, summed without
    // that month, would be wrong).
    const rows: Array<{ account: string; currency: string; balance: string | null }> = await this.dataSource.query(
      `WITH lines AS (
         SELECT j.currency, j.net,
                CASE WHEN j.account = ANY ($3::text[])
                      AND EXISTS (SELECT 1 FROM release_journal g
                                   WHERE g.currency = j.currency AND g.account = $4 AND g.month <= $1::date)
                     THEN $4 ELSE j.account END AS account
           FROM release_journal j WHERE j.month <= $1::date AND ($2::text IS NULL OR j.currency = $2)
       )
       SELECT account, currency, CASE WHEN bool_and(net IS NOT NULL) THEN sum(net)::text END AS balance
         FROM lines GROUP BY account, currency ORDER BY currency, account`,
      [`${range.to}-01`, currency ?? null, [...GOODWILL_ACCOUNTS, GOODWILL_MERGED], GOODWILL_MERGED],
    );
    const [{ as_of }]: Array<{ as_of: Date }> = await this.dataSource.query(
      `SELECT (($1::date + interval '1 month')::timestamp AT TIME ZONE $2) AS as_of`,
      [`${range.to}-01`, this.config.timezone],
    );
    return {
      asOf: as_of,
      data: rows.map((r) => ({
        account: r.account,
        currency: r.currency,
        balance: r.balance === null ? null : BigInt(r.balance),
      })),
    };
  }
}

const GROUP_KEY_ORDER: GroupKey[] = ['reason', 'kind', 'role', 'team', 'channel'];

const SORT_KEYS: GroupKey[] = ['role', 'team', 'reason', 'kind', 'channel'];

function periodLabel(month: string, period: ReleasePeriod): string | null {
  if (period === 'none') return null;
  if (period === 'month') return month;
  if (period === 'year') return month.slice(0, 4);
  return `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5, 7)) / 3)}`;
}

/** Adds a stored row (a sum of whole blocks) to the sum `id`, which carries the row's `groupBy` keys. */
function addTo(sums: Map<string, SumRow>, id: string, period: string | null, groupBy: GroupKey[], r: StoredRow): void {
  let sum = sums.get(id);
  if (!sum) {
    const keys: Partial<Record<GroupKey, string | null>> = {};
    for (const key of groupBy) keys[key] = r.keys[key];
    sum = emptySum(period, r.currency, keys);
    sums.set(id, sum);
  }
  addFigures(sum, r, r.blocks);
}

/** Plain code-point order, nulls last (as PostgreSQL sorts them ascending). */
function compare(a: string | null | undefined, b: string | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

function byPeriodCurrencyKeys(a: SumRow, b: SumRow): number {
  return (
    compare(a.period, b.period) ||
    compare(a.currency, b.currency) ||
    SORT_KEYS.reduce((order, key) => order || compare(a.keys[key], b.keys[key]), 0)
  );
}

function figures(r: SumRow): ReleaseFigures {
  return {
    credits: r.credits,
    reversals: r.reversals,
    amount: r.amount,
    withinDiscretion: r.withinDiscretion,
    overrun: r.overrun,
    creditsWithOverrun: r.creditsWithOverrun,
  };
}

function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number);
  const total = y * 12 + (m - 1) + by;
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
}

function monthsBetween(from: string, to: string): number {
  const [a, b] = [from, to].map((s) => s.split('-').map(Number));
  return (b[0] - a[0]) * 12 + (b[1] - a[1]) + 1;
}

function sumOf<T extends Record<K, number | null>, K extends string>(rows: T[], key: K): number {
  return rows.reduce((s, r) => s + (r[key] ?? 0), 0);
}

/** A share of credits (a ratio of counts, not money), clamped to [0, 1]: net counts can dip below zero. */
function share(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.min(1, Math.max(0, Math.round((part / whole) * 10_000) / 10_000));
}
