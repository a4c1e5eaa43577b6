/**
 * Limit fit never shows one credit's amount: amounts fall into buckets on fixed 1-2-5 edges of the
 * currency's major unit, and a bucket whose credits come from fewer than `minCohort` agents merges
 * into its neighbour toward the middle until every bucket covers enough agents. Percentiles and the
 * suggested per-credit limit are bucket edges.
 */

/** The bucket index of an amount on the ladder 0, 1, 2, 5, 10, 20, 50, … major units. */
export function ladderIndex(amount: bigint, minorDigits: number): number {
  const unit = 10n ** BigInt(minorDigits);
  if (amount < unit) return 0;
  let index = 1;
  let edge = unit;
  for (;;) {
    const next = ladderEdge(index + 1, unit);
    if (amount < next) return index;
    index++;
    edge = next;
    if (edge > 10n ** 20n) return index;
  }
}

/** The lower edge of ladder bucket `index` (0 for bucket 0). */
export function ladderEdge(index: number, unit: bigint): bigint {
  if (index === 0) return 0n;
  const step = [1n, 2n, 5n][(index - 1) % 3];
  return step * unit * 10n ** BigInt(Math.floor((index - 1) / 3));
}

export interface BucketInput {
  index: number;
  credits: number;
  agents: Set<string>;
}

export interface Histogram {
  /** edges[i] ≤ amount < edges[i + 1] for bucket i. */
  edges: bigint[];
  credits: number[];
}

/**
 * Merges ladder buckets until each covers at least minCohort agents; null when even all of them
 * together do not.
 */
export function mergeBuckets(buckets: BucketInput[], minorDigits: number, minCohort: number): Histogram | null {
  const unit = 10n ** BigInt(minorDigits);
  const spans = [...buckets]
    .sort((a, b) => a.index - b.index)
    .map((b) => ({ lo: b.index, hi: b.index + 1, credits: b.credits, agents: new Set(b.agents) }));
  if (spans.length === 0) return null;
  for (;;) {
    if (spans.length === 1) break;
    const middle = medianSpan(spans);
    let weakest = -1;
    for (let i = 0; i < spans.length; i++) {
      if (spans[i].agents.size >= minCohort) continue;
      if (weakest < 0 || spans[i].agents.size < spans[weakest].agents.size) weakest = i;
    }
    if (weakest < 0) break;
    const into = weakest < middle ? weakest + 1 : weakest > middle ? weakest - 1 : neighbourOfMiddle(spans, weakest);
    const [a, b] = weakest < into ? [weakest, into] : [into, weakest];
    const merged = {
      lo: spans[a].lo,
      hi: spans[b].hi,
      credits: spans[a].credits + spans[b].credits,
      agents: new Set([...spans[a].agents, ...spans[b].agents]),
    };
    spans.splice(a, 2, merged);
  }
  if (spans[0].agents.size < minCohort && spans.length === 1) return null;
  const edges = [ladderEdge(spans[0].lo, unit), ...spans.map((s) => ladderEdge(s.hi, unit))];
  return { edges, credits: spans.map((s) => s.credits) };
}

/** The span holding the median credit. */
function medianSpan(spans: Array<{ credits: number }>): number {
  const total = spans.reduce((s, x) => s + x.credits, 0);
  let seen = 0;
  for (let i = 0; i < spans.length; i++) {
    seen += spans[i].credits;
    if (seen * 2 >= total) return i;
  }
  return spans.length - 1;
}

/** The median span itself is too small: it takes the smaller of its neighbours. */
function neighbourOfMiddle(spans: Array<{ agents: Set<string> }>, i: number): number {
  if (i === 0) return 1;
  if (i === spans.length - 1) return i - 1;
  return spans[i - 1].agents.size <= spans[i + 1].agents.size ? i - 1 : i + 1;
}

/**
 * Histograms of several months combined: overlapping spans join into one, so the result is again
 * a set of disjoint buckets, each a union of published ones.
 */
export function combineHistograms(histograms: Histogram[]): Histogram | null {
  const spans = histograms
    .flatMap((h) => h.credits.map((credits, i) => ({ lo: h.edges[i], hi: h.edges[i + 1], credits })))
    .sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  if (spans.length === 0) return null;
  const out: Array<{ lo: bigint; hi: bigint; credits: number }> = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.lo < last.hi) {
      last.hi = s.hi > last.hi ? s.hi : last.hi;
      last.credits += s.credits;
    } else {
      out.push({ ...s });
    }
  }
  return { edges: [out[0].lo, ...out.map((s) => s.hi)], credits: out.map((s) => s.credits) };
}

/** The upper edge of the bucket in which the p-th percentile (0–100) of credits falls. */
export function percentileEdge(h: Histogram, p: number): bigint {
  const total = h.credits.reduce((s, c) => s + c, 0);
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < h.credits.length; i++) {
    seen += h.credits[i];
    if (seen >= rank) return h.edges[i + 1];
  }
  return h.edges[h.edges.length - 1];
}
