/**
 * The release rule: how one closed currency-month of the ledger becomes published blocks.
 *
 * Reports never read live data. A closed month's entries are cut once into a partition of
 * blocks, each covering at least `minCohort` distinct agents and passing the p% dominance rule, and
 * every report figure is a sum of whole blocks. A union of blocks that each cover `minCohort` agents
 * covers at least `minCohort` agents, so no difference of reports (other groupings, other ranges,
 * before and after) can isolate fewer: what a reader can ever compute is a combination of blocks.
 *
 * Cells are the finest grouping (all five keys). A cell that fails is withheld and rolls up, along
 * a fixed key order, into its parent's residual; a residual that fails rolls up again. If the last
 * residual (the whole currency-month's leftovers) still fails, the smallest published blocks join
 * it until it passes (complementary suppression); if even the whole month fails, nothing but its
 * existence is published.
 */

/** The roll-up order: the first key is kept longest. Simulation showed this order shows the most. */
export const ROLLUP_ORDER = ['role', 'reason', 'kind', 'channel', 'team'] as const;
export type GroupKey = (typeof ROLLUP_ORDER)[number];

/** A cell's key values; null is a real value ("no team", "no role"). */
export type KeyValues = Record<GroupKey, string | null>;

export interface ReleaseRules {
  minCohort: number;
  dominancePercent: number;
}

/** Net figures (credits minus reversals) of some entries. */
interface Tally {
  credits: number;
  reversals: number;
  amount: bigint;
  within: bigint;
  overrun: bigint;
  creditsWithOverrun: number;
}

/** One agent's net contribution to one cell of a currency-month. */
export interface AgentShare extends Tally {
  agent: string;
}

export interface CellInput {
  keys: KeyValues;
  shares: AgentShare[];
}

export interface BlockFigures {
  credits: number;
  reversals: number;
  amount: bigint;
  /** The split, or null where the agents with an overrun in the block would not pass the rules. */
  withinDiscretion: bigint | null;
  overrun: bigint | null;
  creditsWithOverrun: number | null;
}

export interface Block extends BlockFigures {
  kind: 'cell' | 'residual';
  /** Only the keys every entry of the block shares, with their value. */
  keys: Partial<KeyValues>;
}

/** A release block with the input cells it covers (indexes into the input), for checking. */
export type TracedBlock = Block & { members: number[] };

interface Piece extends Tally {
  agents: Map<string, bigint>;
  overruns: Map<string, bigint>;
  keys: Partial<KeyValues>;
  members: number[];
}

const abs = (v: bigint) => (v < 0n ? -v : v);

/**
 * The two rules for a set of agents' net contributions: at least `minCohort` agents with a non-zero
 * net, and what the others add up to (by absolute value) is at least p% of the largest, after the
 * two largest. An agent whose credit and reversal cancel out adds nothing to the figure, so they
 * cannot pad a block (padding that way would cost the colluders nothing).
 */
export function passesRules(contributions: Map<string, bigint>, rules: ReleaseRules): boolean {
  if (contributions.size < rules.minCohort) return false;
  let agents = 0;
  let total = 0n;
  let first = 0n;
  let second = 0n;
  for (const value of contributions.values()) {
    if (value === 0n) continue;
    agents++;
    const share = abs(value);
    total += share;
    if (share > first) {
      second = first;
      first = share;
    } else if (share > second) {
      second = share;
    }
  }
  if (agents < rules.minCohort) return false;
  return (total - first - second) * 100n >= BigInt(rules.dominancePercent) * first;
}

function pieceOf(cell: CellInput, index: number): Piece {
  const piece: Piece = {
    agents: new Map(),
    overruns: new Map(),
    credits: 0,
    reversals: 0,
    amount: 0n,
    within: 0n,
    overrun: 0n,
    creditsWithOverrun: 0,
    keys: { ...cell.keys },
    members: [index],
  };
  for (const s of cell.shares) addShare(piece, s);
  return piece;
}

function addShare(piece: Piece, s: AgentShare): void {
  piece.agents.set(s.agent, (piece.agents.get(s.agent) ?? 0n) + s.amount);
  if (s.overrun !== 0n || s.creditsWithOverrun !== 0) {
    piece.overruns.set(s.agent, (piece.overruns.get(s.agent) ?? 0n) + s.overrun);
  }
  addTally(piece, s);
}

function addTally(into: Tally, from: Tally): void {
  into.credits += from.credits;
  into.reversals += from.reversals;
  into.amount += from.amount;
  into.within += from.within;
  into.overrun += from.overrun;
  into.creditsWithOverrun += from.creditsWithOverrun;
}

function addAll(into: Map<string, bigint>, from: Map<string, bigint>): void {
  for (const [agent, value] of from) into.set(agent, (into.get(agent) ?? 0n) + value);
}

/** A new piece holding `first`, to which others can be added in place. */
function copyOf(first: Piece): Piece {
  return {
    ...first,
    agents: new Map(first.agents),
    overruns: new Map(first.overruns),
    keys: { ...first.keys },
    members: [...first.members],
  };
}

/** Adds `b` into `into`, keeping only the keys both share with the same value. */
function absorb(into: Piece, b: Piece): void {
  addAll(into.agents, b.agents);
  addAll(into.overruns, b.overruns);
  for (const key of ROLLUP_ORDER) {
    if (key in into.keys && !(key in b.keys && into.keys[key] === b.keys[key])) delete into.keys[key];
  }
  addTally(into, b);
  for (const m of b.members) into.members.push(m);
}

/** The union of pieces (one copy, then additions in place: linear in what is merged). */
function mergeAll(pieces: Piece[]): Piece | null {
  if (pieces.length === 0) return null;
  if (pieces.length === 1) return pieces[0];
  const union = copyOf(pieces[0]);
  for (let i = 1; i < pieces.length; i++) absorb(union, pieces[i]);
  return union;
}

function toBlock(piece: Piece, kind: Block['kind'], rules: ReleaseRules): TracedBlock {
  // The split shows only if the agents with an overrun pass the same two rules.
  const split = piece.overruns.size === 0 || passesRules(piece.overruns, rules);
  return {
    kind,
    keys: piece.keys,
    credits: piece.credits,
    reversals: piece.reversals,
    amount: piece.amount,
    withinDiscretion: split ? piece.within : null,
    overrun: split ? piece.overrun : null,
    creditsWithOverrun: split ? piece.creditsWithOverrun : null,
    members: [...piece.members].sort((x, y) => x - y),
  };
}

interface Walked {
  published: Array<{ piece: Piece; kind: Block['kind'] }>;
  pending: Piece | null;
}

/** Publishes what passes under one node of the key order and hands the rest up as one piece. */
function walk(pieces: Piece[], depth: number, rules: ReleaseRules): Walked {
  if (depth === ROLLUP_ORDER.length) {
    const cell = mergeAll(pieces)!;
    return passesRules(cell.agents, rules)
      ? { published: [{ piece: cell, kind: 'cell' }], pending: null }
      : { published: [], pending: cell };
  }
  const key = ROLLUP_ORDER[depth];
  const children = new Map<string | null, Piece[]>();
  for (const p of pieces) {
    const value = p.keys[key] ?? null;
    const list = children.get(value);
    if (list) list.push(p);
    else children.set(value, [p]);
  }
  const published: Walked['published'] = [];
  const pendings: Piece[] = [];
  // A stable order, so that the same month always yields the same release.
  for (const value of [...children.keys()].sort(compareKeys)) {
    const child = walk(children.get(value)!, depth + 1, rules);
    published.push(...child.published);
    if (child.pending) pendings.push(child.pending);
  }
  const pending = mergeAll(pendings);
  if (pending && pendings.length > 1 && passesRules(pending.agents, rules)) {
    published.push({ piece: pending, kind: 'residual' });
    return { published, pending: null };
  }
  return { published, pending };
}

function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** Cuts one currency-month into published blocks (see the file's opening comment). */
export function releaseCurrencyMonth(
  cells: CellInput[],
  rules: ReleaseRules,
): { published: boolean; blocks: TracedBlock[] } {
  if (rules.minCohort < 3) throw new Error('minCohort must be at least 3');
  const pieces = cells.flatMap((c, i) => (c.shares.length > 0 ? [pieceOf(c, i)] : []));
  if (pieces.length === 0) return { published: true, blocks: [] };
  const walked = walk(pieces, 0, rules);
  const published = walked.published;
  let rest = walked.pending;
  if (rest) {
    // Complementary suppression: the smallest published blocks join the leftovers until they pass.
    const bySize = published.map((p, i) => ({ p, i })).sort((x, y) => compareSize(x.p.piece, y.p.piece) || x.i - y.i);
    const absorbed = new Set<number>();
    rest = copyOf(rest);
    for (const { p, i } of bySize) {
      if (passesRules(rest.agents, rules)) break;
      absorb(rest, p.piece);
      absorbed.add(i);
    }
    if (!passesRules(rest.agents, rules)) return { published: false, blocks: [] };
    const kept = published.filter((_, i) => !absorbed.has(i));
    kept.push({ piece: rest, kind: 'residual' });
    return { published: true, blocks: kept.map((b) => toBlock(b.piece, b.kind, rules)) };
  }
  return { published: true, blocks: published.map((b) => toBlock(b.piece, b.kind, rules)) };
}

function compareSize(a: Piece, b: Piece): number {
  const d = abs(a.amount) - abs(b.amount);
  if (d !== 0n) return d < 0n ? -1 : 1;
  return a.agents.size - b.agents.size;
}
