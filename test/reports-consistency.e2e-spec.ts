import { checkInvariants } from '../src/ledger/invariants';
import { CellInput, GroupKey, KeyValues, releaseCurrencyMonth } from '../src/reports/release-rule';
import { sumBlocks } from '../src/reports/release-sums';
import { seed } from '../src/seed/seed';
import { createUser, TestUser } from './support/factories';
import { TestApp } from './support/app';

/**
 * Releases are cut from the ledger once; this spec recomputes a month's cells straight from the
 * credits and reversals tables, applies the release rule to them, and demands the API's answer,
 * for every grouping shape and period. It also checks that every invariant holds over the releases
 * and that the release checks notice drift.
 */
describe('reports agree with the ledger they summarise (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let months: string[];

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 4, releaseGraceSeconds: 1 });
    const q = t.dataSource.createQueryRunner();
    await seed(q, { credits: 4000, agents: 40, days: 120, timezone: 'UTC', randomSeed: 0.7 }, () => undefined);
    await q.release();
    finance = await createUser(t, ['finance']);
    const list = await t.as(finance.token).get('/v1/reports/months');
    months = list.body.data.filter((m: { state: string }) => m.state === 'due').map((m: { month: string }) => m.month);
  }, 120_000);

  afterAll(() => t.close());

  /** One month's cells, as the release rule's input, computed here independently of the service. */
  async function cellsOf(month: string, currency: string): Promise<CellInput[]> {
    const rows = await t.query<Record<string, string | null>>(
      `SELECT c.role_id, c.team_id, c.reason_code, c.kind, c.channel, c.agent_id, e.sign, c.amount::text,
              c.within_discretion::text, c.overrun::text
         FROM (SELECT id, 1 AS sign, recorded_at FROM credits
               UNION ALL SELECT credit_id, -1, recorded_at FROM credit_reversals) e
         JOIN credits c ON c.id = e.id
        WHERE to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM') = $1 AND c.currency = $2`,
      [month, currency],
    );
    const cells = new Map<string, CellInput>();
    for (const r of rows) {
      const keys: KeyValues = {
        role: r.role_id,
        team: r.team_id,
        reason: r.reason_code,
        kind: r.kind,
        channel: r.channel,
      };
      const id = JSON.stringify(keys);
      if (!cells.has(id)) cells.set(id, { keys, shares: [] });
      const sign = BigInt(Number(r.sign));
      cells.get(id)!.shares.push({
        agent: r.agent_id!,
        credits: sign > 0n ? 1 : 0,
        reversals: sign < 0n ? 1 : 0,
        amount: sign * BigInt(r.amount!),
        within: sign * BigInt(r.within_discretion!),
        overrun: sign * BigInt(r.overrun!),
        creditsWithOverrun: BigInt(r.overrun!) > 0n ? Number(sign) : 0,
      });
    }
    return [...cells.values()];
  }

  const groupings: GroupKey[][] = [
    [],
    ['reason'],
    ['role'],
    ['team', 'role'],
    ['kind', 'channel'],
    ['role', 'reason', 'kind', 'channel', 'team'],
  ];

  it('has closed months to report on', () => {
    expect(months.length).toBeGreaterThanOrEqual(3);
  });

  it.each(groupings.map((g) => [g.join(',') || '(none)', g]))(
    'by %s, each month equals the rule applied to the ledger',
    async (_n, groupBy) => {
      for (const month of months) {
        const res = await t
          .as(finance.token)
          .get(`/v1/reports/spend?from=${month}&to=${month}&groupBy=${groupBy.join(',')}`);
        expect(res.status).toBe(200);
        const blocks = releaseCurrencyMonth(await cellsOf(month, 'EUR'), { minCohort: 4, dominancePercent: 10 }).blocks;
        const want = sumBlocks(
          blocks.map((b) => ({ ...b, period: null, currency: 'EUR' })),
          groupBy,
        );
        const eur = (rows: Array<{ currency: string; amount: number }>) => rows.filter((r) => r.currency === 'EUR');
        expect(
          eur(res.body.rows)
            .map((r: { amount: number }) => r.amount)
            .sort(),
        ).toEqual(want.rows.map((r) => Number(r.amount)).sort());
        expect(eur(res.body.totals)).toEqual([
          expect.objectContaining({ amount: Number(want.totals[0].amount), credits: want.totals[0].credits }),
        ]);
      }
    },
  );

  it('sums quarters and years from the same blocks as months', async () => {
    const [from, to] = [months[0], months[months.length - 1]];
    const byMonth = await t
      .as(finance.token)
      .get(`/v1/reports/spend?from=${from}&to=${to}&period=month&groupBy=reason`);
    const byYear = await t.as(finance.token).get(`/v1/reports/spend?from=${from}&to=${to}&period=none&groupBy=reason`);
    const total = (body: { rows: Array<{ amount: number }>; notShown: Array<{ amount: number }> }) =>
      [...body.rows, ...body.notShown].reduce((s, r) => s + r.amount, 0);
    expect(total(byMonth.body)).toBe(total(byYear.body));
    expect(byYear.body.totals).toEqual(byMonth.body.totals);
  });

  it('keeps every invariant, the releases included', async () => {
    const results = await checkInvariants(t.dataSource);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM month_releases`);
    expect(n).toBe(months.length);
  });

  it('notices a drifted release or counter (the checks can fail)', async () => {
    const q = t.dataSource.createQueryRunner();
    await q.startTransaction();
    try {
      await q.query(`ALTER TABLE release_blocks DISABLE TRIGGER USER`);
      await q.query(`UPDATE release_blocks SET amount = amount + 1, within_discretion = within_discretion + 1
                      WHERE (month, currency, block) = (SELECT month, currency, min(block) FROM release_blocks
                                                         WHERE within_discretion IS NOT NULL GROUP BY 1, 2 LIMIT 1)`);
      await q.query(`UPDATE usage_agent_day SET used = used + 5 WHERE ctid = (SELECT min(ctid) FROM usage_agent_day)`);
      const failed = (await checkInvariants(q)).filter((r) => !r.ok).map((r) => r.name);
      expect(failed).toEqual(
        expect.arrayContaining([
          'every published release covers exactly its month’s entries (blocks sum to the recomputed month)',
          'agent-day usage matches unreversed credits',
        ]),
      );
    } finally {
      await q.rollbackTransaction();
      await q.release();
    }
  });

  it('gives finance the books as the ledger has them: each month’s journal, and balances as at the last close', async () => {
    const res = await t.as(finance.token).get(`/v1/ledger/journal?from=${months[0]}&to=${months[months.length - 1]}`);
    expect(res.status).toBe(200);
    const posted = await t.query<{ month: string; currency: string; account: string; net: string }>(
      `SELECT to_char(local_day, 'YYYY-MM') AS month, currency, account, sum(delta)::text AS net FROM (
         SELECT local_day, currency, debit_account AS account, amount AS delta FROM postings
         UNION ALL SELECT local_day, currency, credit_account, -amount FROM postings
       ) l WHERE to_char(local_day, 'YYYY-MM') <= $1 GROUP BY 1, 2, 3`,
      [months[months.length - 1]],
    );
    type Row = { period: string; currency: string; account: string; net: number | null };
    const journal: Row[] = res.body.data;
    const mergedMonths = new Set(
      journal.filter((r) => r.account === 'goodwill:total').map((r) => `${r.period} ${r.currency}`),
    );
    const as = (merged: boolean, account: string) =>
      merged && account.startsWith('goodwill:') ? 'goodwill:total' : account;
    // Each month: the journal's net per account is the postings' (goodwill as one line where merged).
    const expectedMonth = new Map<string, bigint>();
    for (const p of posted.filter((x) => months.includes(x.month))) {
      const id = `${p.month} ${p.currency} ${as(mergedMonths.has(`${p.month} ${p.currency}`), p.account)}`;
      expectedMonth.set(id, (expectedMonth.get(id) ?? 0n) + BigInt(p.net));
    }
    // A currency-month that cannot be published shows its lines with no figures (net null).
    const withheld = new Set(journal.filter((r) => r.net === null).map((r) => `${r.period} ${r.currency}`));
    for (const r of journal.filter((x) => withheld.has(`${x.period} ${x.currency}`))) expect(r.net).toBeNull();
    const shown = journal.filter((r) => !withheld.has(`${r.period} ${r.currency}`));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Map(shown.map((r) => [`${r.period} ${r.currency} ${r.account}`, BigInt(r.net!)]))).toEqual(
      new Map([...expectedMonth].filter(([id]) => !withheld.has(id.split(' ').slice(0, 2).join(' ')))),
    );
    // As at the last close: every account's balance is the postings up to then; where any month
    // merged the goodwill split, the balance shows it merged too (else subtraction would split it).
    const balances = await t.as(finance.token).get('/v1/ledger/balances');
    const mergedCurrencies = new Set([...mergedMonths].map((m) => m.split(' ')[1]));
    const withheldCurrencies = new Set([...withheld].map((m) => m.split(' ')[1]));
    const expected = new Map<string, bigint | null>();
    for (const p of posted) {
      const id = `${p.currency} ${as(mergedCurrencies.has(p.currency), p.account)}`;
      expected.set(id, withheldCurrencies.has(p.currency) ? null : (expected.get(id) ?? 0n) + BigInt(p.net));
    }
    expect(
      new Map(
        balances.body.data.map((r: { currency: string; account: string; balance: number | null }) => [
          `${r.currency} ${r.account}`,
          r.balance === null ? null : BigInt(r.balance),
        ]),
      ),
    ).toEqual(expected);
    expect([...expected.values()].some((v) => v !== null)).toBe(true);
  });

  it('gives limit-fit percentiles as 1-2-5 bucket edges, in order, above the role’s smallest credit', async () => {
    const res = await t
      .as(finance.token)
      .get(`/v1/reports/limit-fit?from=${months[0]}&to=${months[months.length - 1]}`);
    expect(res.status).toBe(200);
    const shown = res.body.rows.filter((r: { suppressed?: boolean }) => !r.suppressed);
    expect(shown.length).toBeGreaterThan(0);
    let compared = 0;
    for (const row of shown) {
      const [ref] = await t.query<Record<string, number>>(
        `SELECT count(*)::int AS credits,
                min(amount)::float8 AS smallest
           FROM credits c
          WHERE role_id = $1 AND currency = $2 AND to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM') = ANY($3)`,
        [row.role.id, row.currency, months],
      );
      expect(row.credits).toBeLessThanOrEqual(ref.credits);
      expect(row).not.toHaveProperty('buckets');
      for (const p of ['p50', 'p95']) expect(/^(1|2|5)0*$/.test(String(row[p] / 100))).toBe(true);
      // Edges are the tops of the buckets holding each percentile: in order, and above the role's
      // smallest credit (the credits behind them are the role's blocks', a subset of these).
      compared++;
      expect(row.p50).toBeGreaterThan(ref.smallest);
      expect([row.p50, row.p90, row.p95, row.p99]).toEqual([row.p50, row.p90, row.p95, row.p99].sort((a, b) => a - b));
      expect(row.suggestedPerCredit).toBe(row.p95);
    }
    expect(compared).toBeGreaterThan(0);
  });
});
