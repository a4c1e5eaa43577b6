import { checkInvariants } from '../src/ledger/invariants';
import { AGENT_SAMPLE } from '../src/reports/rollups';
import { cohortOf, Figures, Group, NO_FIGURES, add, suppress } from '../src/reports/suppression';
import { seed } from '../src/seed/seed';
import { createUser, creditBody, postCredit, TestUser } from './factories';
import { TestApp } from './support/app';

/**
 * Reports read rollups; this spec recomputes every report straight from the credits table and
 * demands the same answer, for each grouping shape and period and for ranges that start and end
 * mid-month (month rollups plus edge days).
 */
describe('reports agree with the credits they summarise (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let agents: TestUser[];

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 4 });
    const q = t.dataSource.createQueryRunner();
    await seed(q, { credits: 4000, agents: 40, days: 120, timezone: 'UTC', randomSeed: 0.7 }, () => undefined);
    await q.release();
    finance = await createUser(t, ['finance']);
    // Live traffic on top of the seeded history: credits through the API, some reversed.
    const [role] = await t.query<{ id: string }>(`SELECT id FROM roles WHERE name = 'Frontline'`);
    const [team] = await t.query<{ id: string }>(`SELECT id FROM teams WHERE name = 'Berlin'`);
    agents = [];
    for (let i = 0; i < 6; i++) agents.push(await createUser(t, ['agent'], { roleId: role.id, teamId: team.id }));
    const ids: string[] = [];
    for (const [i, a] of agents.entries()) {
      for (const reasonCode of ['late_delivery', 'long_wait']) {
        const res = await postCredit(t, a.token, creditBody({ amount: 1200 + i * 700, reasonCode, kind: 'voucher' }));
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
    }
    for (const id of ids.slice(0, 4)) {
      const res = await t.as(finance.token).post(`/v1/credits/${id}/reversal`, { reason: 'Duplicate entry' });
      expect(res.status).toBe(201);
    }
  }, 120_000);

  afterAll(() => t.close());

  it('keeps every rollup equal to a recomputation from the ledger', async () => {
    const results = await checkInvariants(t.dataSource);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(10);
  });

  it('notices a drifted rollup, counter or sample (the checks can fail)', async () => {
    const q = t.dataSource.createQueryRunner();
    await q.startTransaction();
    try {
      await q.query(`UPDATE report_cells SET amount = amount + 1, overrun = overrun + 1
                      WHERE id = (SELECT min(id) FROM report_cells WHERE grain = 'r')`);
      await q.query(`UPDATE report_cells SET agents = agents || agents[1]
                      WHERE id = (SELECT min(id) FROM report_cells WHERE grain = 'd' AND cardinality(agents) = 1)`);
      await q.query(`UPDATE usage_agent_day SET used = used + 5 WHERE ctid = (SELECT min(ctid) FROM usage_agent_day)`);
      await q.query(`UPDATE report_agent_months SET credits = credits + 1
                      WHERE ctid = (SELECT min(ctid) FROM report_agent_months)`);
      const failed = (await checkInvariants(q)).filter((r) => !r.ok).map((r) => r.name);
      expect(failed).toEqual(
        expect.arrayContaining([
          'report cells match unreversed credits',
          `report cell agent samples hold min(${AGENT_SAMPLE}, members) distinct members`,
          'agent-day usage matches unreversed credits',
          'report agent months match unreversed credits',
        ]),
      );
    } finally {
      await q.rollbackTransaction();
      await q.release();
    }
  });

  const DIMS: Record<string, string> = {
    reason: 'reason_code',
    kind: 'kind',
    role: 'role_id',
    team: 'team_id',
    channel: 'channel',
  };
  const LABEL: Record<string, string> = {
    day: `to_char(local_day, 'YYYY-MM-DD')`,
    week: `to_char(local_day, 'IYYY-"W"IW')`,
    month: `to_char(local_day, 'YYYY-MM')`,
    quarter: `to_char(local_day, 'YYYY-"Q"Q')`,
  };

  /** The report as DESIGN.md defines it, computed from unreversed credits one by one. */
  async function expected(from: string, to: string, period: string, groupBy: string[]) {
    const rows = await t.query<Record<string, any>>(
      `SELECT ${period === 'none' ? 'NULL' : LABEL[period]} AS period, agent_id, currency, amount, within_discretion,
              overrun, ${groupBy.map((g) => `${DIMS[g]} AS "${g}"`).join(', ') || 'NULL AS none'}
         FROM credits c
        WHERE local_day BETWEEN $1 AND $2 AND NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`,
      [from, to],
    );
    const groups = new Map<
      string,
      { key: Record<string, unknown>; currency: string; f: Figures; agents: Set<string> }
    >();
    for (const r of rows) {
      const key: Record<string, unknown> = {};
      if (period !== 'none') key.period = r.period;
      for (const g of groupBy) key[g] = r[g];
      const id = JSON.stringify([key, r.currency]);
      const e = groups.get(id) ?? { key, currency: r.currency, f: NO_FIGURES, agents: new Set<string>() };
      e.f = add(e.f, {
        credits: 1n,
        amount: BigInt(r.amount),
        withinDiscretion: BigInt(r.within_discretion),
        overrun: BigInt(r.overrun),
        creditsWithOverrun: BigInt(r.overrun) > 0n ? 1n : 0n,
      });
      e.agents.add(r.agent_id);
      groups.set(id, e);
    }
    const input: Group<Record<string, unknown>>[] = [...groups.values()].map((g) => ({
      key: g.key,
      sortKey: JSON.stringify([g.key, g.currency]),
      currency: g.currency,
      figures: g.f,
      cohort: cohortOf([...g.agents].sort().slice(0, AGENT_SAMPLE), g.agents.size >= AGENT_SAMPLE),
    }));
    return suppress(input, 4);
  }

  /** The API's rows reduced to comparable text: keys (ids only) and figures. */
  function normalise(rows: Array<Record<string, any>>) {
    return rows
      .map((r) => {
        const key: Record<string, unknown> = {};
        for (const k of ['period', 'reason', 'kind', 'role', 'team', 'channel']) {
          if (k in r) key[k] = r[k] && typeof r[k] === 'object' ? r[k].id : r[k];
        }
        return JSON.stringify([
          key,
          r.currency,
          String(r.credits),
          String(r.amount),
          String(r.withinDiscretion),
          String(r.overrun),
          String(r.creditsWithOverrun),
        ]);
      })
      .sort();
  }

  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const firstOfMonth = (monthsBack: number) => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBack, 1)).toISOString().slice(0, 10);
  };

  const cases: Array<[string, string, string, string, string[]]> = [
    ['mid-month to today, by month × reason (reason rollup + edge days)', day(-100), day(0), 'month', ['reason']],
    ['whole months, by quarter × team × role (agent rollup)', firstOfMonth(3), day(0), 'quarter', ['team', 'role']],
    ['mid-month range, by reason × team (full month rollup + edges)', day(-75), day(-20), 'none', ['reason', 'team']],
    ['no grouping, by month', day(-120), day(0), 'month', []],
    ['by week × kind (day rollup)', day(-40), day(0), 'week', ['kind']],
    ['by day × channel over two weeks (day rollup)', day(-14), day(0), 'day', ['channel']],
    ['everything at once', day(-120), day(0), 'none', ['reason', 'kind', 'role', 'team', 'channel']],
  ];

  it.each(cases)('%s', async (_name, from, to, period, groupBy) => {
    const res = await t
      .as(finance.token)
      .get(
        `/v1/reports/spend?from=${from}&to=${to}&period=${period}${groupBy.length ? `&groupBy=${groupBy.join(',')}` : ''}`,
      );
    expect(res.status).toBe(200);
    const want = await expected(from, to, period, groupBy);
    expect(want.visible.length + want.suppressed.length).toBeGreaterThan(0);
    expect(normalise(res.body.rows)).toEqual(
      normalise(want.visible.map((g) => ({ ...g.key, currency: g.currency, ...g.figures }))),
    );
    expect(res.body.totals).toEqual(
      want.totals.map((x) => ({
        currency: x.currency,
        credits: Number(x.figures.credits),
        amount: Number(x.figures.amount),
        withinDiscretion: Number(x.figures.withinDiscretion),
        overrun: Number(x.figures.overrun),
        creditsWithOverrun: Number(x.figures.creditsWithOverrun),
      })),
    );
    expect(res.body.suppressed.map((s: any) => [s.currency, s.rows, s.amount])).toEqual(
      want.suppressed.map((s) => [s.currency, s.rows, s.figures ? Number(s.figures.amount) : null]),
    );
  });

  it('gives limit-fit percentiles equal to those of the credits themselves', async () => {
    const res = await t.as(finance.token).get(`/v1/reports/limit-fit?from=${firstOfMonth(5)}&to=${day(0)}`);
    expect(res.status).toBe(200);
    const shown = res.body.rows.filter((r: any) => !r.suppressed);
    expect(shown.length).toBeGreaterThan(0);
    for (const row of shown) {
      const [ref] = await t.query<Record<string, any>>(
        `SELECT count(*)::int AS credits,
                percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) AS p50,
                percentile_disc(0.9) WITHIN GROUP (ORDER BY amount) AS p90,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY amount) AS p95,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY amount) AS p99,
                count(*) FILTER (WHERE overrun > 0)::int AS with_overrun
           FROM credits c
          WHERE role_id = $1 AND currency = $2 AND local_day >= $3
            AND NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`,
        [row.role.id, row.currency, firstOfMonth(5)],
      );
      expect(row.credits).toBe(ref.credits);
      expect([row.p50, row.p90, row.p95, row.p99]).toEqual([ref.p50, ref.p90, ref.p95, ref.p99].map(Number));
      expect(row.suggestedPerCredit).toBe(Number(ref.p95));
      expect(row.shareWithOverrun).toBeCloseTo(ref.with_overrun / ref.credits, 3);
    }
  });
});
