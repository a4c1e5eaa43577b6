import fc from 'fast-check';
import { combineHistograms, ladderEdge, ladderIndex, mergeBuckets, percentileEdge } from './limit-fit-buckets';

describe('limit-fit buckets', () => {
  it('puts every amount in the ladder bucket whose edges hold it (1, 2, 5, 10, … major units)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1_000_000_000_000n }), fc.constantFrom(0, 2, 3), (amount, digits) => {
        const unit = 10n ** BigInt(digits);
        const i = ladderIndex(amount, digits);
        expect(ladderEdge(i, unit) <= amount).toBe(true);
        expect(amount < ladderEdge(i + 1, unit)).toBe(true);
      }),
    );
    expect([99n, 100n, 199n, 200n, 499n, 500n, 1000n].map((a) => ladderIndex(a, 2))).toEqual([0, 1, 1, 2, 2, 3, 4]);
  });

  it('merges buckets until each covers minCohort agents, and reads percentiles as bucket edges', () => {
    const agents = (...ids: string[]) => new Set(ids);
    const sut = mergeBuckets(
      [
        { index: 1, credits: 2, agents: agents('a') },
        { index: 2, credits: 10, agents: agents('a', 'b', 'c') },
        { index: 3, credits: 8, agents: agents('d', 'e', 'f') },
        { index: 7, credits: 1, agents: agents('g') },
      ],
      2,
      3,
    );
    // The lone agent below joins toward the middle; so does the lone agent at the top.
    expect(sut).toEqual({ edges: [100n, 500n, 20_000n], credits: [12, 9] });
    const histogram = sut!;
    expect(percentileEdge(histogram, 50)).toBe(500n);
    expect(percentileEdge(histogram, 95)).toBe(20_000n);
    // Too few agents overall: nothing at all.
    expect(mergeBuckets([{ index: 1, credits: 9, agents: agents('a', 'b') }], 2, 3)).toBeNull();
  });

  it('combines months into disjoint buckets, each a union of published ones', () => {
    const sut = combineHistograms([
      { edges: [0n, 100n, 500n], credits: [3, 4] },
      { edges: [0n, 200n, 500n], credits: [5, 6] },
    ]);
    expect(sut).toEqual({ edges: [0n, 500n], credits: [18] });
    expect(percentileEdge({ edges: [0n, 100n, 200n], credits: [1, 1] }, 50)).toBe(100n);
  });
});
