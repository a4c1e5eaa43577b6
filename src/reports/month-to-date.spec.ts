import fc from 'fast-check';
import { DayShare, monthToDateChain } from './month-to-date';

const RULES = { minCohort: 5, dominancePercent: 10 };

/** An independent statement of the two rules over one increment: non-zero nets, count, compare. */
function fair(shares: DayShare[]): boolean {
  const nets = new Map<string, bigint>();
  for (const s of shares) nets.set(s.agent, (nets.get(s.agent) ?? 0n) + s.amount);
  const sorted = [...nets.values()]
    .filter((v) => v !== 0n)
    .map((v) => (v < 0n ? -v : v))
    .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  if (sorted.length < RULES.minCohort) return false;
  return sorted.slice(2).reduce((s, v) => s + v, 0n) * 100n >= BigInt(RULES.dominancePercent) * sorted[0];
}

const monthArb = fc.array(
  fc.record({
    day: fc.integer({ min: 1, max: 30 }).map((d) => `2026-11-${String(d).padStart(2, '0')}`),
    agent: fc.integer({ min: 0, max: 12 }).map((a) => `agent-${a}`),
    credits: fc.integer({ min: 0, max: 3 }),
    amount: fc.oneof(fc.bigInt({ min: -2_000n, max: 5_000n }), fc.constant(0n)),
  }),
  { maxLength: 120 },
);

describe(monthToDateChain.name, () => {
  it('publishes only increments that pass both rules, and flags a tail exactly when one is left over', () => {
    fc.assert(
      fc.property(monthArb, (shares) => {
        const sut = monthToDateChain(shares, RULES);
        const { asOf } = sut.published;
        const upTo = shares.filter((s) => asOf !== null && s.day <= asOf);
        const after = shares.filter((s) => asOf === null || s.day > asOf);
        expect(sut.published.amount).toBe(upTo.reduce((s, x) => s + x.amount, 0n));
        expect(sut.published.credits).toBe(upTo.reduce((s, x) => s + x.credits, 0));
        // The release total minus the last figure is the tail: it never passes, or it would be published.
        expect(sut.tail).toBe(after.length > 0);
        if (after.length > 0) expect(fair(after)).toBe(false);
        // Each published step (from one published day to the next) passes on its own.
        const days = [...new Set(shares.map((s) => s.day))].sort();
        let from = '';
        for (const day of days.filter((d) => asOf !== null && d <= asOf)) {
          const step = shares.filter((s) => s.day > from && s.day <= day);
          if (fair(step)) from = day;
        }
        if (asOf !== null) expect(from).toBe(asOf);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves a quiet last day of one agent as a tail', () => {
    const busy = ['a', 'b', 'c', 'd', 'e'].map((agent) => ({ day: '2026-11-27', agent, credits: 1, amount: 1000n }));
    const sut = monthToDateChain([...busy, { day: '2026-11-30', agent: 'a', credits: 2, amount: 4321n }], RULES);
    expect(sut).toEqual({ published: { amount: 5000n, credits: 5, asOf: '2026-11-27' }, tail: true });
  });
});
