import { AGENT_SAMPLE } from './rollups';

/**
 * The agents behind a number, as far as cohort suppression needs to know them: either exactly
 * which agents (fewer than AGENT_SAMPLE), or "at least AGENT_SAMPLE", which is always enough.
 */
export type Cohort = { atLeastSample: true } | { atLeastSample: false; agents: ReadonlySet<string> };

export const LARGE: Cohort = { atLeastSample: true };

export function cohortOf(agents: Iterable<string>, sampleFull = false): Cohort {
  const set = new Set(agents);
  return sampleFull || set.size >= AGENT_SAMPLE ? LARGE : { atLeastSample: false, agents: set };
}

export function cohortSize(c: Cohort): number {
  return c.atLeastSample ? AGENT_SAMPLE : c.agents.size;
}

export function union(a: Cohort, b: Cohort): Cohort {
  if (a.atLeastSample || b.atLeastSample) return LARGE;
  return cohortOf([...a.agents, ...b.agents]);
}

export interface Figures {
  credits: bigint;
  amount: bigint;
  withinDiscretion: bigint;
  overrun: bigint;
  creditsWithOverrun: bigint;
}

export const NO_FIGURES: Figures = {
  credits: 0n,
  amount: 0n,
  withinDiscretion: 0n,
  overrun: 0n,
  creditsWithOverrun: 0n,
};

export function add(a: Figures, b: Figures): Figures {
  return {
    credits: a.credits + b.credits,
    amount: a.amount + b.amount,
    withinDiscretion: a.withinDiscretion + b.withinDiscretion,
    overrun: a.overrun + b.overrun,
    creditsWithOverrun: a.creditsWithOverrun + b.creditsWithOverrun,
  };
}

export interface Group<K> {
  key: K;
  /** A stable text form of the key, to order ties deterministically. */
  sortKey: string;
  currency: string;
  figures: Figures;
  cohort: Cohort;
}

export interface Bucket {
  currency: string;
  rows: number;
  /** Null when the bucket, and so the whole currency, covers fewer than minCohort agents. */
  figures: Figures | null;
}

export interface Suppressed<K> {
  visible: Group<K>[];
  /** One bucket per currency that has suppressed rows. */
  suppressed: Bucket[];
  /** Per currency; a currency whose credits cover fewer than minCohort agents has no total. */
  totals: Array<{ currency: string; figures: Figures }>;
}

/**
 * DESIGN.md's cohort rule, applied per currency (amounts in different currencies never mix):
 * every published number covers at least `minCohort` distinct agents. Rows below it go into the
 * suppressed bucket; while that bucket is non-empty but covers fewer than `minCohort` agents, the
 * smallest visible rows join it (complementary suppression), so totals − visible rows never
 * isolates a small group. Totals obey the same rule.
 */
export function suppress<K>(groups: Group<K>[], minCohort: number): Suppressed<K> {
  if (minCohort > AGENT_SAMPLE) throw new Error(`minCohort may not exceed ${AGENT_SAMPLE}`);
  const byCurrency = new Map<string, Group<K>[]>();
  for (const g of groups) {
    if (g.figures.credits === 0n) continue;
    const list = byCurrency.get(g.currency) ?? [];
    list.push(g);
    byCurrency.set(g.currency, list);
  }
  const visible: Group<K>[] = [];
  const suppressed: Bucket[] = [];
  const totals: Suppressed<K>['totals'] = [];
  for (const currency of [...byCurrency.keys()].sort()) {
    const rows = byCurrency.get(currency)!;
    const shown: Group<K>[] = [];
    const hidden: Group<K>[] = [];
    for (const g of rows) (cohortSize(g.cohort) >= minCohort ? shown : hidden).push(g);
    let bucket: Cohort = hidden.reduce<Cohort>((c, g) => union(c, g.cohort), cohortOf([]));
    if (hidden.length > 0 && cohortSize(bucket) < minCohort) {
      shown.sort(smallestFirst);
      while (shown.length > 0 && cohortSize(bucket) < minCohort) {
        const g = shown.shift()!;
        hidden.push(g);
        bucket = union(bucket, g.cohort);
      }
    }
    const all = rows.reduce<Cohort>((c, g) => union(c, g.cohort), cohortOf([]));
    if (cohortSize(all) >= minCohort) {
      totals.push({ currency, figures: rows.reduce((f, g) => add(f, g.figures), NO_FIGURES) });
    }
    if (hidden.length > 0) {
      suppressed.push({
        currency,
        rows: hidden.length,
        figures: cohortSize(bucket) >= minCohort ? hidden.reduce((f, g) => add(f, g.figures), NO_FIGURES) : null,
      });
    }
    visible.push(...shown);
  }
  return { visible, suppressed, totals };
}

function smallestFirst<K>(a: Group<K>, b: Group<K>): number {
  return (
    cohortSize(a.cohort) - cohortSize(b.cohort) ||
    cmp(a.figures.credits, b.figures.credits) ||
    cmp(a.figures.amount, b.figures.amount) ||
    (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0)
  );
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
