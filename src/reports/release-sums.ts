import { Block, BlockFigures, GroupKey, KeyValues } from './release-rule';

/** A published block of one period (a closed month, or its quarter or year) and currency. */
export interface PeriodBlock extends Block {
  period: string | null;
  currency: string;
}

export interface SumRow extends BlockFigures {
  period: string | null;
  currency: string;
  keys: Partial<KeyValues>;
  blocks: number;
}

export interface BlockSums {
  rows: SumRow[];
  notShown: SumRow[];
  totals: SumRow[];
}

/** A sum with nothing in it yet. */
export function emptySum(period: string | null, currency: string, keys: Partial<KeyValues>): SumRow {
  return {
    period,
    currency,
    keys,
    blocks: 0,
    credits: 0,
    reversals: 0,
    amount: 0n,
    withinDiscretion: 0n,
    overrun: 0n,
    creditsWithOverrun: 0,
  };
}

/**
 * Adds figures made of `blocks` whole blocks (one block, or a stored sum of several); a withheld
 * split in any part withholds the sum's split.
 */
export function addFigures(row: SumRow, b: BlockFigures, blocks: number): void {
  row.blocks += blocks;
  row.credits += b.credits;
  row.reversals += b.reversals;
  row.amount += b.amount;
  const split = row.withinDiscretion !== null && b.withinDiscretion !== null;
  row.withinDiscretion = split ? row.withinDiscretion! + b.withinDiscretion! : null;
  row.overrun = split ? row.overrun! + b.overrun! : null;
  row.creditsWithOverrun = split ? row.creditsWithOverrun! + b.creditsWithOverrun! : null;
}

function bump(map: Map<string, SumRow>, id: string, make: () => SumRow, b: Block): void {
  let row = map.get(id);
  if (!row) {
    row = make();
    map.set(id, row);
  }
  addFigures(row, b, 1);
}

/**
 * Every figure of every report: sums of whole published blocks. A block counts in a row when it
 * carries every key the report groups by, and in its currency's notShown line otherwise.
 */
export function sumBlocks(blocks: PeriodBlock[], groupBy: GroupKey[]): BlockSums {
  const rows = new Map<string, SumRow>();
  const notShown = new Map<string, SumRow>();
  const totals = new Map<string, SumRow>();
  for (const b of blocks) {
    bump(totals, b.currency, () => emptySum(null, b.currency, {}), b);
    if (groupBy.every((key) => key in b.keys)) {
      const keys: Partial<KeyValues> = {};
      for (const key of groupBy) keys[key] = b.keys[key];
      const id = JSON.stringify([b.period, b.currency, groupBy.map((k) => keys[k])]);
      bump(rows, id, () => emptySum(b.period, b.currency, keys), b);
    } else {
      bump(notShown, b.currency, () => emptySum(null, b.currency, {}), b);
    }
  }
  const ordered = (m: Map<string, SumRow>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    rows: ordered(rows).map(([, r]) => r),
    notShown: ordered(notShown).map(([, r]) => r),
    totals: ordered(totals).map(([, r]) => r),
  };
}
