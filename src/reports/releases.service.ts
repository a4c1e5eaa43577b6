import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { minorUnitsOf } from '../common/money';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { Histogram, mergeBuckets } from './limit-fit-buckets';
import { DayShare, monthToDateChain } from './month-to-date';
import {
  Block,
  CellInput,
  passesRules,
  releaseCurrencyMonth,
  ReleaseRules,
  ROLLUP_ORDER,
  TracedBlock,
} from './release-rule';
import { sumBlocks } from './release-sums';
import {
  cellJson,
  DayRow,
  JournalLine,
  LimitFitCounts,
  LimitFitShares,
  MonthStart,
  releasesRepository as repo,
  StoredRow,
} from './releases.repository';

export type MonthState = 'released' | 'due' | 'awaiting_close' | 'open';

export interface MonthStatus {
  month: string;
  state: MonthState;
  releasedAt: Date | null;
}

export const GOODWILL_ACCOUNTS = ['goodwill:within-discretion', 'goodwill:cost-of-doing-business'];
export const GOODWILL_MERGED = 'goodwill:total';
const BACKGROUND_MS = 60_000;

/**
 * The instant before which nothing can still be recorded ($2 grace seconds): the earlier of now
 * minus the grace period and the start of the oldest transaction still running (in another session:
 * a transaction's own snapshot of pg_stat_activity is frozen).
 */
const SETTLED_BEFORE = `least(now() - make_interval(secs => $2),
                              coalesce((SELECT min(xact_start) FROM pg_stat_activity
                                         WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()
                                           AND backend_type = 'client backend'
                                           AND datname = current_database()), now()))`;

/**
 * The first month that is not yet closable ($1 time zone, $2 grace seconds): a month closes once
 * its end lies more than the grace period in the past and no transaction that began before its end
 * still runs.
 */
const CLOSABLE_BEFORE = `to_char(date_trunc('month', ${SETTLED_BEFORE} AT TIME ZONE $1), 'YYYY-MM-DD')`;

/**
 * The first day that is not yet complete, as a local timestamp ($1 time zone, $2 grace seconds):
 * the same test as a month's, for month-to-date's days (an import that began before midnight and
 * commits after it cannot change a day already counted).
 */
export const COMPLETE_BEFORE_DAY = `date_trunc('day', ${SETTLED_BEFORE} AT TIME ZONE $1)`;

/**
 * Closes months and computes their releases: once a month has ended, the grace period has passed,
 * and no transaction that began before its end is still running, its release is computed once,
 * stored, and never changed. Any process may compute it: they take turns on a transaction-scoped
 * advisory lock, and the release's primary key makes a second one impossible.
 */
@Injectable()
export class ReleasesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(ReleasesService.name);
  private timer: NodeJS.Timeout | null = null;
  /** Months seen released ('2026-11'): a release is never changed or removed, so this never goes stale. */
  private readonly releasedMonths = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.checkTimezone();
    this.timer = setInterval(() => {
      this.releaseDue('background').catch((error: unknown) =>
        this.log.warn(`release job: ${(error as Error).message}`),
      );
    }, BACKGROUND_MS);
    this.timer.unref();
  }

  /**
   * Months are cut at midnights of LEEWAY_TIMEZONE. Changing it once releases exist would make the
   * next month overlap the last release or leave a gap after it (entries in two releases, or in
   * none), and then one release could be subtracted from another: refuse to start instead.
   */
  private async checkTimezone(): Promise<void> {
    const [latest]: Array<{ month: string; timezone: string }> = await this.dataSource.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, timezone FROM month_releases ORDER BY month DESC LIMIT 1`,
    );
    if (latest && latest.timezone !== this.config.timezone) {
      throw new Error(
        `LEEWAY_TIMEZONE is "${this.config.timezone}", but the month releases were cut in "${latest.timezone}" ` +
          `(the latest, ${latest.month}); months would overlap or leave gaps between releases, so set ` +
          `LEEWAY_TIMEZONE=${latest.timezone}`,
      );
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private get rules(): ReleaseRules {
    return { minCohort: this.config.minCohort, dominancePercent: this.config.dominancePercent };
  }

  /** Every month from the first entry to the current one, with its state: one statement. */
  async months(): Promise<MonthStatus[]> {
    const [row]: Array<{ first: string | null; current: string; closable: string; released: Array<[string, string]> }> =
      await this.dataSource.query(
        `SELECT to_char(date_trunc('month', (SELECT min(recorded_at) FROM credits) AT TIME ZONE $1), 'YYYY-MM-DD') AS first,
                to_char(date_trunc('month', now() AT TIME ZONE $1), 'YYYY-MM-DD') AS current,
                (${CLOSABLE_BEFORE}) AS closable,
                coalesce((SELECT json_agg(json_build_array(month::text, released_at) ORDER BY month) FROM month_releases),
                         '[]') AS released`,
        [this.config.timezone, this.config.releaseGraceSeconds],
      );
    const released = new Map(row.released.map(([month, at]) => [month, new Date(at)]));
    for (const month of released.keys()) this.releasedMonths.add(month.slice(0, 7));
    const first = [row.first, ...released.keys()].filter((m): m is string => m !== null).sort()[0] ?? row.current;
    const out: MonthStatus[] = [];
    for (let month = first; month <= row.current; month = nextMonth(month)) {
      const at = released.get(month) ?? null;
      const state: MonthState = at
        ? 'released'
        : month === row.current
          ? 'open'
          : month < row.closable
            ? 'due'
            : 'awaiting_close';
      out.push({ month: month.slice(0, 7), state, releasedAt: at });
    }
    return out;
  }

  /** Whether every month in from..to ('2026-11') is known to be released, without asking the database. */
  knownReleased(from: string, to: string): boolean {
    for (let month = `${from}-01`; month <= `${to}-01`; month = nextMonth(month))
      if (!this.releasedMonths.has(month.slice(0, 7))) return false;
    return true;
  }

  /** Releases every due month; returns the months released by this call. */
  async releaseDue(trigger: 'background' | 'report' = 'background'): Promise<string[]> {
    const due = (await this.months()).filter((m) => m.state === 'due');
    const done: string[] = [];
    for (const m of due) if (await this.release(`${m.month}-01`, trigger)) done.push(m.month);
    return done;
  }

  /**
   * Makes sure every month in the list is released (computing due ones now), given their states as
   * months() just read them; returns the unreleased.
   */
  async ensureReleased(months: string[], known?: MonthStatus[]): Promise<string[]> {
    const states = new Map((known ?? (await this.months())).map((m) => [m.month, m.state]));
    const missing: string[] = [];
    for (const month of months) {
      const state = states.get(month);
      if (state === 'due') await this.release(`${month}-01`, 'report');
      else if (state === 'open' || state === 'awaiting_close') missing.push(month);
      else if (state === undefined && month > [...states.keys()].pop()!) missing.push(month);
    }
    return missing;
  }

  /**
   * The first month that is not yet closable: a month closes once its end lies more than the grace
   * period in the past and no transaction that began before its end still runs.
   */
  private async closableBefore(db: { query: DataSource['query'] } = this.dataSource): Promise<string> {
    const [row]: Array<{ month: string }> = await db.query(`SELECT (${CLOSABLE_BEFORE}) AS month`, [
      this.config.timezone,
      this.config.releaseGraceSeconds,
    ]);
    return row.month;
  }

  /** Computes and stores one month's release unless it exists; true when this call made it. */
  async release(month: MonthStart, trigger: 'background' | 'report' = 'report'): Promise<boolean> {
    const started = Date.now();
    try {
      const made = await this.releaseOnce(month);
      this.metrics?.releaseJob(trigger, made ? 'released' : 'already', (Date.now() - started) / 1000);
      return made;
    } catch (error) {
      this.metrics?.releaseJob(trigger, 'error', (Date.now() - started) / 1000);
      throw error;
    }
  }

  private releaseOnce(month: MonthStart): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      // A month is grouped in one pass of hash aggregation: let it stay in memory.
      await m.query(`SET LOCAL statement_timeout = '10min'; SET LOCAL work_mem = '256MB'`);
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.release'), $1)`, [monthNumber(month)]);
      const exists: unknown[] = await m.query(`SELECT 1 FROM month_releases WHERE month = $1`, [month]);
      if (exists.length > 0) return false;
      // Checked again under the lock: never release a month something could still record into.
      if (month >= (await this.closableBefore(m))) return false;
      const started = Date.now();
      const tz = this.config.timezone;
      const { byCurrency, journal: lines, entries } = await repo.month(m, month, tz);
      const tails = this.monthToDateTails(await repo.monthDays(m, month, tz));
      const read = Date.now();
      const currencies = [];
      for (const [currency, cells] of byCurrency) {
        const withheld = tails.has(currency);
        currencies.push({ currency, ...(await this.computeCurrency(m, month, currency, cells, withheld)) });
      }
      const computed = Date.now();
      const journal = this.computeJournal(
        lines,
        new Map(currencies.map((c) => [c.currency, { published: c.release.published, splitShown: c.splitShown }])),
      );
      await repo.insertRelease(m, { month, timezone: tz, ...this.rules, entries, ms: Date.now() - started });
      for (const c of currencies) {
        await repo.insertCurrency(m, month, c.currency, c.release.published);
        await repo.insertBlocks(m, month, c.currency, c.release.blocks);
        await repo.insertRows(m, month, c.currency, rowsOf(c.release.blocks, c.currency));
        for (const f of c.limitFit) await repo.insertLimitFit(m, month, c.currency, f.counts, f.histogram);
      }
      for (const line of journal) await repo.insertJournal(m, month, line);
      const done = Date.now();
      this.log.log(
        `released ${month.slice(0, 7)}: ${entries} entries in ${done - started} ms ` +
          `(read ${read - started} ms, rule and limit fit ${computed - read} ms, store ${done - computed} ms)`,
      );
      return true;
    });
  }

  /**
   * Currencies whose month-to-date chain, recomputed from the month's entries, ends in a tail that
   * never passed the rules: the month's total minus month-to-date's last figure would be that tail
   * (a quiet last day of one or two agents), so such a currency-month is withheld as a whole.
   */
  private monthToDateTails(days: DayRow[]): Set<string> {
    const byCurrency = new Map<string, DayShare[]>();
    for (const d of days) {
      const share = { day: d.day, agent: d.agent_id, credits: d.credits, amount: BigInt(d.amount) };
      const list = byCurrency.get(d.currency);
      if (list) list.push(share);
      else byCurrency.set(d.currency, [share]);
    }
    return new Set([...byCurrency].filter(([, list]) => monthToDateChain(list, this.rules).tail).map(([c]) => c));
  }

  /**
   * Blocks and limit fit of one currency-month, and whether every published block shows its split.
   * A withheld currency-month (it cannot be made safe, or month-to-date's tail would show) publishes
   * nothing but its existence: no blocks, no limit fit.
   */
  private async computeCurrency(
    m: EntityManager,
    month: MonthStart,
    currency: string,
    cells: CellInput[],
    withheld: boolean,
  ) {
    const release = withheld ? { published: false, blocks: [] } : releaseCurrencyMonth(cells, this.rules);
    const limitFit = release.published ? await this.limitFit(m, month, currency, cells, release.blocks) : [];
    const splitShown = release.published && release.blocks.every((b) => b.overrun !== null);
    return { release, limitFit, splitShown };
  }

  /**
   * Limit fit of one published currency-month, per role: only the cells whose release block carries
   * that role count (so a role's credits are exactly its spend row for the month, and no difference
   * of the two isolates the cells rolled into an unlabelled residual). The shares and binding limit
   * show only if the agents with an overrun in the role pass both rules and every block of the role
   * shows its split; otherwise they are withheld (null), as a block's split is.
   */
  private async limitFit(
    m: EntityManager,
    month: MonthStart,
    currency: string,
    cells: CellInput[],
    blocks: TracedBlock[],
  ): Promise<Array<{ counts: LimitFitCounts; histogram: Histogram }>> {
    const tz = this.config.timezone;
    const labelled = new Set<number>();
    const splitWithheld = new Set<string>();
    for (const b of blocks) {
      if (!('role' in b.keys) || b.keys.role === null || b.keys.role === undefined) continue;
      for (const i of b.members) labelled.add(i);
      if (b.overrun === null) splitWithheld.add(b.keys.role);
    }
    const without = cells.flatMap((c, i) => (c.keys.role !== null && !labelled.has(i) ? [cellJson(c.keys)] : []));
    const left = new Set(without);
    const byRole = new Map<
      string,
      {
        credits: number;
        agents: Set<string>;
        overruns: Map<string, bigint>;
        overPerCredit: Map<string, bigint>;
        otherOverruns: Map<string, bigint>;
        shares: LimitFitShares;
      }
    >();
    for (const r of await repo.limitFitShares(m, month, tz, currency)) {
      const keys = { role: r.role_id, team: r.team_id, reason: r.reason_code, kind: r.kind, channel: r.channel };
      if (left.has(cellJson(keys))) continue;
      let role = byRole.get(r.role_id);
      if (!role) {
        role = {
          credits: 0,
          agents: new Set(),
          overruns: new Map(),
          overPerCredit: new Map(),
          otherOverruns: new Map(),
          shares: { ...NO_SHARES },
        };
        byRole.set(r.role_id, role);
      }
      role.credits += r.credits;
      if (r.credits > 0) role.agents.add(r.agent_id);
      let flagged = BigInt(r.overrun) !== 0n;
      for (const k of SHARE_COUNTS) {
        role.shares[k] += r[k];
        if (r[k] !== 0) flagged = true;
      }
      if (flagged) add(role.overruns, r.agent_id, BigInt(r.overrun));
      // The credits over the per-credit limit are a subset of those with an overrun: each side of
      // that split is a count of its own agents (the difference of the two shares is the other).
      add(role.overPerCredit, r.agent_id, BigInt(r.over_per_credit));
      add(role.otherOverruns, r.agent_id, BigInt(r.with_overrun - r.over_per_credit));
    }
    const digits = minorUnitsOf(currency);
    const buckets = await repo.buckets(m, month, tz, currency, 10n ** BigInt(digits), without);
    const out: Array<{ counts: LimitFitCounts; histogram: Histogram }> = [];
    for (const [roleId, role] of [...byRole].sort(([a], [b]) => (a < b ? -1 : 1))) {
      // A role shows in limit fit for a month only if that month's credits come from minCohort agents.
      if (role.agents.size < this.config.minCohort) continue;
      const histogram = mergeBuckets(
        buckets
          .filter((b) => b.role_id === roleId)
          .map((b) => ({ index: b.bucket, credits: b.credits, agents: new Set(b.agents) })),
        digits,
        this.config.minCohort,
      );
      if (!histogram) continue;
      const fair = (side: Map<string, bigint>) => nonZero(side).size === 0 || passesRules(nonZero(side), this.rules);
      const shown =
        role.overruns.size === 0 ||
        (passesRules(role.overruns, this.rules) &&
          !splitWithheld.has(roleId) &&
          fair(role.overPerCredit) &&
          fair(role.otherOverruns));
      out.push({ counts: { role_id: roleId, credits: role.credits, shares: shown ? role.shares : null }, histogram });
    }
    return out;
  }

  /**
   * The books of the month: net per account and currency; gross columns only where each side
   * covers minCohort agents; the two goodwill accounts as one line unless the spend release shows
   * every split (otherwise their difference would reveal a withheld split).
   */
  private computeJournal(lines: JournalLine[], shown: Map<string, CurrencyOutcome>) {
    const sides = new Map<
      string,
      { currency: string; account: string; debit: Map<string, bigint>; credit: Map<string, bigint> }
    >();
    for (const r of lines) {
      const outcome = shown.get(r.currency);
      const account = outcome?.splitShown
        ? r.account
        : GOODWILL_ACCOUNTS.includes(r.account)
          ? GOODWILL_MERGED
          : r.account;
      const id = `${r.currency} ${account}`;
      let side = sides.get(id);
      if (!side) sides.set(id, (side = { currency: r.currency, account, debit: new Map(), credit: new Map() }));
      add(side.debit, r.agent_id, BigInt(r.debit));
      add(side.credit, r.agent_id, BigInt(r.credit));
    }
    return [...sides.values()].map((s) => {
      const debit = total(s.debit);
      const credit = total(s.credit);
      // A side shows its gross when it is zero or its agents pass both rules.
      const fair = (side: Map<string, bigint>, sum: bigint) => sum === 0n || passesRules(nonZero(side), this.rules);
      const published = shown.get(s.currency)?.published ?? false;
      const gross = published && fair(s.debit, debit) && fair(s.credit, credit);
      return {
        currency: s.currency,
        account: s.account,
        net: published ? debit - credit : null,
        debit: gross ? debit : null,
        credit: gross ? credit : null,
      };
    });
  }
}

const NO_SHARES: LimitFitShares = {
  over_per_credit: 0,
  with_overrun: 0,
  bound_per_credit: 0,
  bound_per_case: 0,
  bound_per_agent_day: 0,
  bound_per_agent_month: 0,
};
const SHARE_COUNTS = Object.keys(NO_SHARES) as Array<keyof LimitFitShares>;

interface CurrencyOutcome {
  published: boolean;
  splitShown: boolean;
}

function add(map: Map<string, bigint>, key: string, value: bigint): void {
  map.set(key, (map.get(key) ?? 0n) + value);
}

function total(map: Map<string, bigint>): bigint {
  let sum = 0n;
  for (const v of map.values()) sum += v;
  return sum;
}

function nonZero(map: Map<string, bigint>): Map<string, bigint> {
  return new Map([...map].filter(([, v]) => v !== 0n));
}

/** Every grouping's rows and notShown line of one currency-month, summed once from its blocks. */
function rowsOf(blocks: Block[], currency: string): StoredRow[] {
  const out: StoredRow[] = [];
  for (let grouping = 0; grouping < 1 << ROLLUP_ORDER.length; grouping++) {
    const keys = ROLLUP_ORDER.filter((_, i) => grouping & (1 << i));
    const sums = sumBlocks(
      blocks.map((b) => ({ ...b, period: null, currency })),
      keys,
    );
    sums.rows.forEach((r, i) => out.push({ ...r, grouping, row: i, notShown: false }));
    sums.notShown.forEach((r, i) => out.push({ ...r, grouping, row: sums.rows.length + i, notShown: true }));
  }
  return out;
}

export function nextMonth(month: MonthStart): MonthStart {
  const [y, mo] = month.split('-').map(Number);
  return mo === 12 ? `${y + 1}-01-01` : `${y}-${String(mo + 1).padStart(2, '0')}-01`;
}

function monthNumber(month: MonthStart): number {
  const [y, mo] = month.split('-').map(Number);
  return y * 12 + mo;
}
