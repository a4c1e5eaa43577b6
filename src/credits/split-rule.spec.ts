import fc from 'fast-check';
import { Limits } from '../roles/limits';
import { headroomOf, splitCredit, Usage } from './split-rule';

/** The rule as DESIGN.md writes it, with +infinity for an absent limit, in plain arithmetic. */
function reference(amount: bigint, l: Limits, u: Usage): bigint {
  const INF = 10n ** 30n;
  const v = (x: bigint | null) => (x === null ? INF : x);
  const candidates = [
    amount,
    v(l.perCredit),
    v(l.perCase) - (l.perCase === null ? 0n : u.usedCase),
    v(l.perAgentDay) - (l.perAgentDay === null ? 0n : u.usedDay),
    v(l.perAgentMonth) - (l.perAgentMonth === null ? 0n : u.usedMonth),
  ];
  const min = candidates.reduce((a, b) => (b < a ? b : a));
  return min > 0n ? min : 0n;
}

const money = fc.bigInt({ min: 0n, max: 10n ** 12n });
const limit = fc.option(money, { nil: null });
const limitsArb = fc.record({ perCredit: limit, perCase: limit, perAgentDay: limit, perAgentMonth: limit });
const usageArb = fc.record({ usedCase: money, usedDay: money, usedMonth: money });
const amountArb = fc.bigInt({ min: 1n, max: 10n ** 12n });

describe(splitCredit.name, () => {
  it('matches the reference model for all inputs', () => {
    fc.assert(
      fc.property(amountArb, limitsArb, usageArb, (amount, limits, usage) => {
        const sut = splitCredit(amount, limits, usage);
        expect(sut.within).toBe(reference(amount, limits, usage));
        expect(sut.within + sut.overrun).toBe(amount);
        expect(sut.within >= 0n && sut.overrun >= 0n).toBe(true);
        expect(sut.unbudgeted).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('names a binding limit exactly when the credit does not fit', () => {
    fc.assert(
      fc.property(amountArb, limitsArb, usageArb, (amount, limits, usage) => {
        const sut = splitCredit(amount, limits, usage);
        expect(sut.bindingLimit === 'none').toBe(sut.overrun === 0n);
        if (sut.bindingLimit !== 'none' && sut.bindingLimit !== null) {
          expect(limits[sut.bindingLimit]).not.toBeNull();
        }
      }),
    );
  });

  it('books everything as overrun when no limits exist', () => {
    const sut = splitCredit(2500n, null, { usedCase: 0n, usedDay: 0n, usedMonth: 0n });
    expect(sut).toEqual({ within: 0n, overrun: 2500n, unbudgeted: true, bindingLimit: null });
  });

  it('fills a daily limit exactly, whatever the sequence of credits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 5000n }), { minLength: 1, maxLength: 60 }),
        money,
        (amounts, day) => {
          const limits: Limits = { perCredit: null, perCase: null, perAgentDay: day, perAgentMonth: null };
          let used = 0n;
          let within = 0n;
          for (const amount of amounts) {
            within += splitCredit(amount, limits, { usedCase: 0n, usedDay: used, usedMonth: 0n }).within;
            used += amount;
          }
          const total = amounts.reduce((a, b) => a + b, 0n);
          expect(within).toBe(total < day ? total : day);
        },
      ),
    );
  });

  it('splits the worked example: 40 credits of 10.00 against a 100.00 daily limit', () => {
    const limits: Limits = { perCredit: null, perCase: null, perAgentDay: 10000n, perAgentMonth: null };
    let used = 0n;
    let within = 0n;
    for (let i = 0; i < 40; i++) {
      within += splitCredit(1000n, limits, { usedCase: 0n, usedDay: used, usedMonth: 0n }).within;
      used += 1000n;
    }
    expect(within).toBe(10000n);
    expect(used - within).toBe(30000n);
  });
});

describe(headroomOf.name, () => {
  it('is the smallest remaining window, never negative', () => {
    fc.assert(
      fc.property(limitsArb, usageArb, (limits, usage) => {
        const sut = headroomOf(limits, usage);
        const values = Object.values(sut.remaining).filter((v): v is bigint => v !== null);
        if (values.length === 0) expect(sut.available).toBeNull();
        else expect(sut.available).toBe(values.reduce((a, b) => (b < a ? b : a)));
        for (const v of values) expect(v >= 0n).toBe(true);
      }),
    );
  });

  it('agrees with the split: a credit of `available` fits entirely', () => {
    fc.assert(
      fc.property(limitsArb, usageArb, (limits, usage) => {
        const { available } = headroomOf(limits, usage);
        if (available === null || available === 0n) return;
        expect(splitCredit(available, limits, usage).overrun).toBe(0n);
        expect(splitCredit(available + 1n, limits, usage).overrun).toBe(1n);
      }),
    );
  });

  it('offers nothing when unbudgeted', () => {
    expect(headroomOf(null, {}).available).toBe(0n);
  });
});
