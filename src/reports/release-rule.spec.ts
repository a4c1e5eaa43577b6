import fc from 'fast-check';
import {
  AgentShare,
  CellInput,
  GroupKey,
  KeyValues,
  releaseCurrencyMonth,
  ROLLUP_ORDER,
  TracedBlock,
} from './release-rule';
import { PeriodBlock, sumBlocks } from './release-sums';

const RULES = { minCohort: 5, dominancePercent: 10 };

/** An independent statement of the two rules: drop zero nets, sort the shares, count, compare. */
function fair(shares: Map<string, bigint>, rules = RULES): boolean {
  const sorted = [...shares.values()]
    .filter((v) => v !== 0n)
    .map((v) => (v < 0n ? -v : v))
    .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  if (sorted.length < rules.minCohort) return false;
  const rest = sorted.slice(2).reduce((s, v) => s + v, 0n);
  return rest * 100n >= BigInt(rules.dominancePercent) * sorted[0];
}

interface Entry {
  agent: number;
  keys: KeyValues;
  amount: bigint;
  overrun: bigint;
  reversal: boolean;
}

/** Agents with a fixed role and team; entries with skewed reasons, kinds and channels. */
const ledgerArb = fc
  .record({
    agents: fc.integer({ min: 3, max: 40 }),
    roles: fc.integer({ min: 1, max: 4 }),
    teams: fc.integer({ min: 1, max: 6 }),
    entries: fc.array(
      fc.record({
        agent: fc.nat(),
        reason: fc.constantFrom('late', 'late', 'late', 'damaged', 'damaged', 'billing', 'other'),
        kind: fc.constantFrom('voucher', 'voucher', 'refund', 'gift'),
        channel: fc.constantFrom('phone', 'phone', 'chat', 'email', 'social'),
        amount: fc.oneof(
          { weight: 9, arbitrary: fc.bigInt({ min: 100n, max: 5_000n }) },
          { weight: 1, arbitrary: fc.bigInt({ min: 100_000n, max: 10_000_000n }) },
        ),
        overrunPart: fc.integer({ min: 0, max: 3 }),
        reversal: fc.boolean(),
      }),
      // Enough entries that most months publish something (fast-check's arrays are short by default).
      { minLength: 60, maxLength: 300 },
    ),
    // A credit and its reversal in the same month: the agent's net is zero (padding that costs nothing).
    pairs: fc.array(
      fc.record({
        agent: fc.nat(),
        reason: fc.constantFrom('late', 'damaged', 'billing'),
        kind: fc.constantFrom('voucher', 'refund'),
        channel: fc.constantFrom('phone', 'chat', 'social'),
        amount: fc.bigInt({ min: 1n, max: 5_000n }),
        withOverrun: fc.boolean(),
      }),
      { maxLength: 40 },
    ),
  })
  .map(({ agents, roles, teams, entries, pairs }) => {
    const keysOf = (agent: number, e: { reason: string; kind: string; channel: string }): KeyValues => ({
      role: agent % 7 === 6 ? null : `role-${agent % roles}`,
      team: agent % 11 === 10 ? null : `team-${agent % teams}`,
      reason: e.reason,
      kind: e.kind,
      channel: e.channel,
    });
    const single = entries.map((e): Entry => {
      const agent = e.agent % agents;
      return {
        agent,
        keys: keysOf(agent, e),
        amount: e.reversal && e.overrunPart === 3 ? -e.amount : e.amount,
        overrun: e.overrunPart === 0 ? e.amount / 3n : 0n,
        reversal: e.reversal && e.overrunPart === 3,
      };
    });
    const paired = pairs.flatMap((p): Entry[] => {
      const agent = p.agent % agents;
      const overrun = p.withOverrun ? p.amount / 2n : 0n;
      return [
        { agent, keys: keysOf(agent, p), amount: p.amount, overrun, reversal: false },
        { agent, keys: keysOf(agent, p), amount: -p.amount, overrun, reversal: true },
      ];
    });
    return [...single, ...paired];
  });

function cellsOf(entries: Entry[]): CellInput[] {
  const cells = new Map<string, { keys: KeyValues; shares: Map<string, AgentShare> }>();
  for (const e of entries) {
    const id = JSON.stringify(ROLLUP_ORDER.map((k) => e.keys[k]));
    let cell = cells.get(id);
    if (!cell) cells.set(id, (cell = { keys: e.keys, shares: new Map() }));
    const agent = `agent-${e.agent}`;
    let s = cell.shares.get(agent);
    if (!s) {
      s = { agent, credits: 0, reversals: 0, amount: 0n, within: 0n, overrun: 0n, creditsWithOverrun: 0 };
      cell.shares.set(agent, s);
    }
    const sign = e.reversal ? -1 : 1;
    const overrun = e.reversal ? -e.overrun : e.overrun;
    s.credits += e.reversal ? 0 : 1;
    s.reversals += e.reversal ? 1 : 0;
    s.amount += e.amount;
    s.overrun += overrun;
    s.within += e.amount - overrun;
    s.creditsWithOverrun += e.overrun > 0n ? sign : 0;
  }
  return [...cells.values()].map((c) => ({ keys: c.keys, shares: [...c.shares.values()] }));
}

function agentsOf(block: TracedBlock, cells: CellInput[], pick: (s: AgentShare) => bigint, only = false) {
  const m = new Map<string, bigint>();
  for (const i of block.members)
    for (const s of cells[i].shares) {
      if (only && s.overrun === 0n && s.creditsWithOverrun === 0) continue;
      m.set(s.agent, (m.get(s.agent) ?? 0n) + pick(s));
    }
  return m;
}

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

describe(releaseCurrencyMonth.name, () => {
  it('cuts the month into a partition of blocks that each pass both rules', () => {
    fc.assert(
      fc.property(ledgerArb, (entries) => {
        const cells = cellsOf(entries);
        const sut = releaseCurrencyMonth(cells, RULES);
        if (!sut.published) {
          expect(sut.blocks).toEqual([]);
          // Unpublished only when the whole month fails the rules.
          const all = new Map<string, bigint>();
          for (const c of cells) for (const s of c.shares) all.set(s.agent, (all.get(s.agent) ?? 0n) + s.amount);
          expect(fair(all)).toBe(false);
          return;
        }
        const covered = sut.blocks.flatMap((b) => b.members).sort((a, b) => a - b);
        expect(covered).toEqual(cells.map((_, i) => i));
        for (const b of sut.blocks) {
          expect(fair(agentsOf(b, cells, (s) => s.amount))).toBe(true);
          expect(b.amount).toBe(sum(b.members.flatMap((i) => cells[i].shares.map((s) => s.amount))));
          for (const key of Object.keys(b.keys) as GroupKey[])
            for (const i of b.members) expect(cells[i].keys[key]).toBe(b.keys[key]);
          if (b.kind === 'cell') expect(b.members).toHaveLength(1);
          if (b.overrun === null) {
            expect(b.withinDiscretion).toBeNull();
            expect(b.creditsWithOverrun).toBeNull();
            expect(fair(agentsOf(b, cells, (s) => s.overrun, true))).toBe(false);
          } else {
            const withOverrun = agentsOf(b, cells, (s) => s.overrun, true);
            if (withOverrun.size > 0) expect(fair(withOverrun)).toBe(true);
            expect(b.withinDiscretion! + b.overrun).toBe(b.amount);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('publishes every cell that passes on its own, and nothing for a month of fewer agents than the cohort', () => {
    const share = (agent: string, amount: bigint): AgentShare => ({
      agent,
      credits: 1,
      reversals: 0,
      amount,
      within: amount,
      overrun: 0n,
      creditsWithOverrun: 0,
    });
    const keys: KeyValues = { role: 'r', team: 't', reason: 'late', kind: 'voucher', channel: 'phone' };
    const wide = { keys, shares: ['a', 'b', 'c', 'd', 'e', 'f'].map((a) => share(a, 1000n)) };
    const lone = { keys: { ...keys, channel: 'social' }, shares: [share('z', 99n)] };
    const sut = releaseCurrencyMonth([wide, lone], RULES);
    expect(sut.published).toBe(true);
    // The lone agent's cell cannot stand alone: the smallest published block joins it.
    expect(sut.blocks).toHaveLength(1);
    expect(sut.blocks[0]).toMatchObject({
      kind: 'residual',
      amount: 6099n,
      keys: { role: 'r', team: 't', reason: 'late', kind: 'voucher' },
    });
    expect('channel' in sut.blocks[0].keys).toBe(false);

    const few = releaseCurrencyMonth([{ keys, shares: ['a', 'b', 'c', 'd'].map((a) => share(a, 5n)) }], RULES);
    expect(few).toEqual({ published: false, blocks: [] });

    // Five agents, one of them dominant: the p% rule withholds it.
    const dominated = ['a', 'b', 'c', 'd'].map((a) => share(a, 10n)).concat(share('big', 1_000_000n));
    expect(releaseCurrencyMonth([{ keys, shares: dominated }], RULES).published).toBe(false);
  });

  it('never counts an agent whose credits and reversals of the month cancel out toward the cohort', () => {
    const keys: KeyValues = { role: 'r', team: 't', reason: 'late', kind: 'voucher', channel: 'phone' };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: RULES.minCohort - 1 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.bigInt({ min: 1n, max: 10_000n }), { minLength: 1, maxLength: 12 }),
        (real, padding, amounts) => {
          const at = (i: number) => amounts[i % amounts.length];
          const entries: Entry[] = [];
          for (let a = 0; a < real; a++) entries.push({ agent: a, keys, amount: at(a), overrun: 0n, reversal: false });
          for (let a = real; a < real + padding; a++) {
            const overrun = at(a) / 2n;
            entries.push({ agent: a, keys, amount: at(a), overrun, reversal: false });
            entries.push({ agent: a, keys, amount: -at(a), overrun, reversal: true });
          }
          const sut = releaseCurrencyMonth(cellsOf(entries), RULES);
          // Fewer than minCohort agents moved any money: nothing but the month's existence shows.
          expect(sut).toEqual({ published: false, blocks: [] });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('makes every report figure, and every difference of nested or overlapping reports, a sum of whole blocks', () => {
    let nestedRows = 0;
    const groupingArb = fc.subarray([...ROLLUP_ORDER]);
    fc.assert(
      fc.property(
        fc.array(ledgerArb, { minLength: 1, maxLength: 3 }),
        groupingArb,
        groupingArb,
        (months, g1, extra) => {
          const released: PeriodBlock[] = months.flatMap((entries, m) =>
            releaseCurrencyMonth(cellsOf(entries), RULES).blocks.map((b) => ({
              ...b,
              period: `2026-0${m + 1}`,
              currency: 'EUR',
            })),
          );
          const g2 = [...new Set([...g1, ...extra])];
          const coarse = sumBlocks(released, g1);
          const fine = sumBlocks(released, g2);
          for (const row of coarse.rows) {
            nestedRows++;
            const inRow = released.filter(
              (b) => b.period === row.period && g1.every((k) => k in b.keys && b.keys[k] === row.keys[k]),
            );
            expect(row.amount).toBe(sum(inRow.map((b) => b.amount)));
            const finer = fine.rows.filter(
              (r) => r.period === row.period && g1.every((k) => r.keys[k] === row.keys[k]),
            );
            // The difference is exactly the blocks that carry g1's keys but not all of g2's.
            const difference = inRow.filter((b) => !g2.every((k) => k in b.keys));
            expect(row.amount - sum(finer.map((r) => r.amount))).toBe(sum(difference.map((b) => b.amount)));
          }
          // Rows plus notShown are the totals: nothing is lost, nothing counted twice.
          const total = sum(released.map((b) => b.amount));
          expect(sum(coarse.rows.map((r) => r.amount)) + sum(coarse.notShown.map((r) => r.amount))).toBe(total);
          expect(sum(coarse.totals.map((r) => r.amount))).toBe(total);
        },
      ),
      { numRuns: 150 },
    );
    // Fast-check draws new ledgers each run: 90 to 150 rows are typical (92 the lowest seen).
    expect(nestedRows).toBeGreaterThan(25);
  });

  it('over several currencies, with reversals in later months, any periods, ranges and groupings: every figure is whole blocks that each pass', () => {
    const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04'];
    const creditArb = fc.record({
      agent: fc.nat(),
      currency: fc.constantFrom('EUR', 'EUR', 'EUR', 'GBP', 'PLN'),
      month: fc.integer({ min: 0, max: 3 }),
      // A reversal lands in its own month (the credit's or a later one), under the credit's keys.
      reversedAfter: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 4 }),
      reason: fc.constantFrom('late', 'late', 'damaged', 'billing'),
      kind: fc.constantFrom('voucher', 'voucher', 'refund'),
      channel: fc.constantFrom('phone', 'phone', 'chat', 'social'),
      amount: fc.oneof(
        { weight: 9, arbitrary: fc.bigInt({ min: 100n, max: 5_000n }) },
        { weight: 1, arbitrary: fc.bigInt({ min: 100_000n, max: 10_000_000n }) },
      ),
      overrunPart: fc.integer({ min: 0, max: 2 }),
    });
    const reportArb = fc.record({
      groupBy: fc.subarray([...ROLLUP_ORDER]),
      period: fc.constantFrom('month', 'quarter', 'year', 'none'),
      from: fc.integer({ min: 0, max: 3 }),
      span: fc.integer({ min: 0, max: 3 }),
    });
    let rowsChecked = 0;
    const label = (month: string, period: string) =>
      period === 'none'
        ? null
        : period === 'month'
          ? month
          : period === 'year'
            ? month.slice(0, 4)
            : `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5, 7)) / 3)}`;
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }),
        fc.array(creditArb, { minLength: 100, maxLength: 400 }),
        fc.array(reportArb, { minLength: 1, maxLength: 6 }),
        (agents, credits, reports) => {
          const byMonth = new Map<string, Entry[]>();
          const put = (month: number, currency: string, e: Entry) => {
            const id = `${MONTHS[month]} ${currency}`;
            byMonth.set(id, [...(byMonth.get(id) ?? []), e]);
          };
          for (const c of credits) {
            const agent = c.agent % agents;
            const keys: KeyValues = {
              role: `role-${agent % 3}`,
              team: `team-${agent % 4}`,
              reason: c.reason,
              kind: c.kind,
              channel: c.channel,
            };
            const overrun = c.overrunPart === 0 ? c.amount / 3n : 0n;
            put(c.month, c.currency, { agent, keys, amount: c.amount, overrun, reversal: false });
            if (c.reversedAfter !== null)
              put(Math.max(c.month, c.reversedAfter), c.currency, {
                agent,
                keys,
                amount: -c.amount,
                overrun,
                reversal: true,
              });
          }
          const released: Array<PeriodBlock & { month: string; agents: Map<string, bigint> }> = [];
          for (const [id, entries] of byMonth) {
            const [month, currency] = id.split(' ');
            const cells = cellsOf(entries);
            const release = releaseCurrencyMonth(cells, RULES);
            for (const b of release.blocks) {
              const agentsIn = agentsOf(b, cells, (x) => x.amount);
              expect(fair(agentsIn)).toBe(true);
              released.push({ ...b, month, period: month, currency, agents: agentsIn });
            }
          }
          for (const r of reports) {
            const inRange = MONTHS.slice(r.from, Math.min(MONTHS.length, r.from + r.span + 1));
            const blocks = released
              .filter((b) => inRange.includes(b.month))
              .map((b) => ({ ...b, period: label(b.month, r.period) }));
            const sums = sumBlocks(blocks, r.groupBy);
            for (const row of sums.rows) {
              // The blocks this row is made of: whole blocks of its period and currency that carry
              // every key it groups by, with the row's values.
              const whole = blocks.filter(
                (b) =>
                  b.period === row.period &&
                  b.currency === row.currency &&
                  r.groupBy.every((k) => k in b.keys && b.keys[k] === row.keys[k]),
              );
              rowsChecked++;
              expect(whole.length).toBe(row.blocks);
              expect(row.amount).toBe(sum(whole.map((b) => b.amount)));
              expect(row.credits).toBe(whole.reduce((n, b) => n + b.credits, 0));
              expect(row.reversals).toBe(whole.reduce((n, b) => n + b.reversals, 0));
            }
            for (const n of sums.notShown) {
              const whole = blocks.filter((b) => b.currency === n.currency && !r.groupBy.every((k) => k in b.keys));
              expect(n.amount).toBe(sum(whole.map((b) => b.amount)));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
    // Not a vacuous run: many ledgers published, and their rows were checked.
    // Typically 130 to 190 rows.
    expect(rowsChecked).toBeGreaterThan(25);
  });

  it('gives the same release for the same month, whatever the order of its cells', () => {
    fc.assert(
      fc.property(ledgerArb, fc.nat(), (entries, seed) => {
        const cells = cellsOf(entries);
        const shuffled = [...cells].sort(
          (a, b) => ((JSON.stringify(a.keys).length * seed) % 7) - ((JSON.stringify(b.keys).length * seed) % 7),
        );
        const strip = (bs: TracedBlock[]) =>
          bs
            .map(({ members: _m, ...b }) => b)
            .sort((x, y) => (JSON.stringify(x.keys) < JSON.stringify(y.keys) ? -1 : 1));
        const a = releaseCurrencyMonth(cells, RULES);
        const b = releaseCurrencyMonth(shuffled, RULES);
        expect(b.published).toBe(a.published);
        expect(strip(b.blocks).map((x) => [x.keys, x.amount])).toEqual(strip(a.blocks).map((x) => [x.keys, x.amount]));
      }),
      { numRuns: 100 },
    );
  });
});
