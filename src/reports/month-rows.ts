import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BlockFigures, KeyValues } from './release-rule';
import { ReleasesService } from './releases.service';

/** One stored row of a month's release (`release_rows`): the sum of whole blocks for one grouping. */
export interface StoredRow extends BlockFigures {
  currency: string;
  keys: KeyValues;
  notShown: boolean;
  blocks: number;
}

/**
 * Rows kept at most, a few hundred bytes each (some tens of MiB in all): the finest grouping of a
 * 1,000-agent year is about 80,000 rows, so a year of any grouping fits.
 */
const MAX_ROWS = 100_000;

/**
 * The stored rows of released months, read once and then kept: a release is stored once and never
 * changed (the tables refuse updates), so what was read for a released month stays true. Only
 * months this process knows to be released are kept; the least recently read go first once more
 * than MAX_ROWS are held. Each process keeps its own.
 */
@Injectable()
export class MonthRows {
  private readonly kept = new Map<string, StoredRow[]>();
  private readonly withheldKept = new Map<string, string[]>();
  private size = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly releases: ReleasesService,
  ) {}

  /** The rows of `grouping` for each month (`2026-11`), in the order given. */
  async read(grouping: number, months: string[]): Promise<StoredRow[][]> {
    const have = months.map((m) => this.touch(`${grouping}/${m}`));
    const missing = months.filter((_, i) => !have[i]);
    const loaded = new Map<string, StoredRow[]>(missing.map((m) => [m, []]));
    if (missing.length > 0) {
      const stored: Array<{
        month: string;
        currency: string;
        role_id: string | null;
        team_id: string | null;
        reason_code: string | null;
        credit_kind: string | null;
        channel: string | null;
        not_shown: boolean;
        blocks: number;
        credits: number;
        reversals: number;
        amount: string;
        within_discretion: string | null;
        overrun: string | null;
        credits_with_overrun: number | null;
      }> = await this.dataSource.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, currency, role_id, team_id, reason_code, credit_kind, channel,
                not_shown, blocks, credits, reversals, amount::text, within_discretion::text, overrun::text,
                credits_with_overrun
           FROM release_rows WHERE grouping = $1 AND month = ANY($2::date[])`,
        [grouping, missing.map((m) => `${m}-01`)],
      );
      const big = (v: string | null) => (v === null ? null : BigInt(v));
      for (const r of stored) {
        loaded.get(r.month)!.push({
          currency: r.currency,
          keys: { role: r.role_id, team: r.team_id, reason: r.reason_code, kind: r.credit_kind, channel: r.channel },
          notShown: r.not_shown,
          blocks: r.blocks,
          credits: r.credits,
          reversals: r.reversals,
          amount: BigInt(r.amount),
          withinDiscretion: big(r.within_discretion),
          overrun: big(r.overrun),
          creditsWithOverrun: r.credits_with_overrun,
        });
      }
      for (const [month, rows] of loaded)
        if (this.releases.knownReleased(month, month)) this.keep(grouping, month, rows);
    }
    return months.map((m, i) => have[i] ?? loaded.get(m)!);
  }

  /** The currencies of each month that could not be published at all. */
  async withheld(months: string[]): Promise<string[][]> {
    const missing = months.filter((m) => !this.withheldKept.has(m));
    const loaded = new Map<string, string[]>(missing.map((m) => [m, []]));
    if (missing.length > 0) {
      const stored: Array<{ month: string; currency: string }> = await this.dataSource.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, currency FROM release_currencies
          WHERE NOT published AND month = ANY($1::date[]) ORDER BY currency`,
        [missing.map((m) => `${m}-01`)],
      );
      for (const r of stored) loaded.get(r.month)!.push(r.currency);
      for (const [month, currencies] of loaded)
        if (this.releases.knownReleased(month, month)) this.withheldKept.set(month, currencies);
    }
    return months.map((m) => loaded.get(m) ?? this.withheldKept.get(m)!);
  }

  private keep(grouping: number, month: string, rows: StoredRow[]): void {
    if (rows.length > MAX_ROWS) return;
    this.kept.set(`${grouping}/${month}`, rows);
    this.size += rows.length;
    for (const [key, old] of this.kept) {
      if (this.size <= MAX_ROWS) break;
      this.kept.delete(key);
      this.size -= old.length;
    }
  }

  /** The kept rows, marked as most recently read. */
  private touch(key: string): StoredRow[] | undefined {
    const rows = this.kept.get(key);
    if (rows) {
      this.kept.delete(key);
      this.kept.set(key, rows);
    }
    return rows;
  }
}
