import fc from 'fast-check';
import { AGENT_SAMPLE } from './rollups';
import { add, cohortOf, Figures, Group, NO_FIGURES, suppress } from './suppression';

interface Credit {
  agent: number;
  group: number;
  currency: string;
  amount: number;
  overrun: number;
}

const credit = fc.record({
  agent: fc.integer({ min: 0, max: 34 }),
  group: fc.integer({ min: 0, max: 11 }),
  currency: fc.constantFrom('EUR', 'GBP'),
  amount: fc.integer({ min: 1, max: 50_000 }),
  overrun: fc.integer({ min: 0, max: 1 }),
});

/** Builds the groups the way the rollups present them: exact agents below AGENT_SAMPLE, else "large". */
function groupsOf(credits: Credit[]) {
  const exact = new Map<string, Set<string>>();
  const groups = new Map<string, Group<number>>();
  for (const c of credits) {
    const id = `${c.currency}/${c.group}`;
    const figures: Figures = {
      credits: 1n,
      amount: BigInt(c.amount),
      withinDiscretion: BigInt(c.amount * (1 - c.overrun)),
      overrun: BigInt(c.amount * c.overrun),
      creditsWithOverrun: BigInt(c.overrun),
    };
    const g = groups.get(id) ?? {
      key: c.group,
      sortKey: id,
      currency: c.currency,
      figures: NO_FIGURES,
      cohort: cohortOf([]),
    };
    g.figures = add(g.figures, figures);
    groups.set(id, g);
    exact.set(id, (exact.get(id) ?? new Set()).add(`agent-${c.agent}`));
  }
  for (const [id, g] of groups) {
    const agents = [...exact.get(id)!].sort();
    // The database keeps at most AGENT_SAMPLE agents per cell; model that truncation.
    g.cohort = cohortOf(agents.slice(0, AGENT_SAMPLE), agents.length >= AGENT_SAMPLE);
  }
  return { groups: [...groups.values()], exact };
}

const sum = (list: Figures[]) => list.reduce(add, NO_FIGURES);

describe('cohort suppression', () => {
  it('never publishes a number, or a difference totals − visible rows, covering 1..minCohort−1 agents', () => {
    fc.assert(
      fc.property(fc.array(credit, { maxLength: 300 }), fc.integer({ min: 3, max: AGENT_SAMPLE }), (credits, k) => {
        const { groups, exact } = groupsOf(credits);
        const result = suppress(groups, k);
        const agentsOf = (list: Group<number>[]) => new Set(list.flatMap((g) => [...exact.get(g.sortKey)!]));

        for (const g of result.visible) expect(exact.get(g.sortKey)!.size).toBeGreaterThanOrEqual(k);

        for (const currency of new Set(groups.map((g) => g.currency))) {
          const all = groups.filter((g) => g.currency === currency);
          const shown = result.visible.filter((g) => g.currency === currency);
          const hidden = all.filter((g) => !shown.includes(g));
          const total = result.totals.find((t) => t.currency === currency);
          const bucket = result.suppressed.find((b) => b.currency === currency);

          // Nothing is lost: every row is either visible or counted in the bucket.
          expect(shown.length + (bucket?.rows ?? 0)).toBe(all.length);

          if (total) {
            expect(agentsOf(all).size).toBeGreaterThanOrEqual(k);
            expect(total.figures).toEqual(sum(all.map((g) => g.figures)));
            // What a reader can work out by subtraction covers no agent or at least k of them.
            const difference = agentsOf(hidden).size;
            expect(difference === 0 || difference >= k).toBe(true);
          } else {
            expect(agentsOf(all).size).toBeLessThan(k);
            expect(shown).toHaveLength(0);
          }
          if (bucket?.figures) {
            expect(agentsOf(hidden).size).toBeGreaterThanOrEqual(k);
            expect(bucket.figures).toEqual(sum(hidden.map((g) => g.figures)));
          } else if (bucket) {
            expect(agentsOf(hidden).size).toBeLessThan(k);
            expect(total).toBeUndefined();
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps large groups visible and hides a lone small one together with the smallest visible row', () => {
    const big = (n: number, key: number, prefix: string): Group<number> => ({
      key,
      sortKey: `g${key}`,
      currency: 'EUR',
      figures: { ...NO_FIGURES, credits: BigInt(n), amount: BigInt(n * 100) },
      cohort: cohortOf(Array.from({ length: n }, (_, i) => `${prefix}${i}`)),
    });
    const result = suppress([big(8, 1, 'a'), big(6, 2, 'b'), big(2, 3, 'c')], 5);
    expect(result.visible.map((g) => g.key)).toEqual([1]);
    expect(result.suppressed).toEqual([
      { currency: 'EUR', rows: 2, figures: { ...NO_FIGURES, credits: 8n, amount: 800n } },
    ]);
    expect(result.totals).toEqual([{ currency: 'EUR', figures: { ...NO_FIGURES, credits: 16n, amount: 1600n } }]);
  });
});
