import fc from 'fast-check';
import { Client } from 'pg';
import { Limits } from '../src/roles/limits';
import { Split, splitCredit, Usage } from '../src/credits/split-rule';
import { createTestDatabase, TestDatabase } from './support/database';

/**
 * The split rule lives in the database (`leeway_split`, called by `leeway_log_credit`). Here it is
 * held to the TypeScript model (src/credits/split-rule.ts, itself checked against the rule as
 * DESIGN.md writes it) over many random limits, usages and amounts, in batches of one query.
 */

let db: TestDatabase;
let sql: Client;

interface Case {
  amount: bigint;
  limits: Limits | null;
  usage: Usage;
}

/** Every case through leeway_split in one statement, in order. */
async function split(cases: Case[]): Promise<Split[]> {
  const col = (f: (c: Case) => bigint | null) => cases.map((c) => (f(c) === null ? null : String(f(c))));
  const { rows } = await sql.query<{
    within: string;
    overrun: string;
    unbudgeted: boolean;
    binding_limit: string | null;
  }>(
    `SELECT s.* FROM unnest($1::bigint[], $2::boolean[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                            $7::bigint[], $8::bigint[], $9::bigint[]) WITH ORDINALITY
                     AS c(amount, has_limits, per_credit, per_case, per_day, per_month, used_case, used_day, used_month, n),
            LATERAL leeway_split(c.amount, c.has_limits, c.per_credit, c.per_case, c.per_day, c.per_month,
                                 c.used_case, c.used_day, c.used_month) s
      ORDER BY c.n`,
    [
      col((c) => c.amount),
      cases.map((c) => c.limits !== null),
      col((c) => c.limits?.perCredit ?? null),
      col((c) => c.limits?.perCase ?? null),
      col((c) => c.limits?.perAgentDay ?? null),
      col((c) => c.limits?.perAgentMonth ?? null),
      col((c) => c.usage.usedCase),
      col((c) => c.usage.usedDay),
      col((c) => c.usage.usedMonth),
    ],
  );
  return rows.map((r) => ({
    within: BigInt(r.within),
    overrun: BigInt(r.overrun),
    unbudgeted: r.unbudgeted,
    bindingLimit: r.binding_limit as Split['bindingLimit'],
  }));
}

const money = fc.bigInt({ min: 0n, max: 10n ** 12n });
const limit = fc.option(money, { nil: null });
const limitsArb = fc.option(fc.record({ perCredit: limit, perCase: limit, perAgentDay: limit, perAgentMonth: limit }), {
  nil: null,
  freq: 10,
});
const caseArb: fc.Arbitrary<Case> = fc.record({
  amount: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  limits: limitsArb,
  usage: fc.record({ usedCase: money, usedDay: money, usedMonth: money }),
});

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe('leeway_split', () => {
  it('agrees with the model on 20,000 random cases (limits absent, zero, tight, loose; usage past them)', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const cases = fc.sample(caseArb, { numRuns: 5_000, seed });
      const got = await split(cases);
      const wrong = cases.findIndex((c, i) => {
        const want = splitCredit(c.amount, c.limits, c.usage);
        return (
          got[i].within !== want.within ||
          got[i].overrun !== want.overrun ||
          got[i].unbudgeted !== want.unbudgeted ||
          got[i].bindingLimit !== want.bindingLimit
        );
      });
      expect(wrong === -1 ? null : { input: cases[wrong], got: got[wrong] }).toBeNull();
    }
  });

  it('agrees on the edges: usage exactly at, one under and one over each limit', async () => {
    const cases: Case[] = [];
    for (const key of ['perCredit', 'perCase', 'perAgentDay', 'perAgentMonth'] as const) {
      for (const used of [0n, 999n, 1000n, 1001n]) {
        for (const amount of [1n, 999n, 1000n, 1001n]) {
          const limits: Limits = { perCredit: null, perCase: null, perAgentDay: null, perAgentMonth: null };
          limits[key] = 1000n;
          cases.push({ amount, limits, usage: { usedCase: used, usedDay: used, usedMonth: used } });
        }
      }
    }
    cases.push({ amount: 2500n, limits: null, usage: { usedCase: 0n, usedDay: 0n, usedMonth: 0n } });
    const got = await split(cases);
    expect(got).toEqual(cases.map((c) => splitCredit(c.amount, c.limits, c.usage)));
  });
});
