import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';

/**
 * Finance's balances over two closed months of one currency: the earlier shows its goodwill split,
 * the later has to merge it (one agent's overrun). Summed per account, the balances would leave the
 * later month out of both goodwill accounts, and read at the two closes they would give its split
 * by subtraction; so from the first merged month on they show goodwill as one line.
 */
describe('finance books across closed months (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 3, dominancePercent: 10, releaseGraceSeconds: 1 });
    finance = await createUser(t, ['finance']);
    const leader = await createUser(t, ['leader']);
    const role = await createRole(t, 'Frontline');
    const team = await createTeam(t, 'North');
    await setLimits(t, leader.token, role, [{ currency: 'EUR', perCredit: 5000 }]);
    const agents: TestUser[] = [];
    for (let i = 0; i < 5; i++) agents.push(await createUser(t, ['agent'], { roleId: role, teamId: team }));
    const give = async (agent: TestUser, amount: number) => {
      const res = await postCredit(t, agent.token, creditBody({ amount }));
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    // Two months ago: four agents within their discretion, one cell; its split shows.
    const early = [];
    for (const agent of agents.slice(0, 4)) early.push(await give(agent, 1000));
    await backdate(t, 2, { creditIds: early });
    // Last month: the same four, and a fifth whose 90.00 goes 40.00 over the limit: the only
    // overrun, so the block's split is withheld and the month's goodwill is one line.
    const late = [];
    for (const agent of agents.slice(0, 4)) late.push(await give(agent, 1000));
    late.push(await give(agents[4], 9000));
    await backdate(t, 1, { creditIds: late });
  }, 120_000);

  afterAll(() => t.close());

  it('shows each month’s journal as released, and balances with goodwill as one line from the merged month on', async () => {
    const journal = await t.as(finance.token).get('/v1/ledger/journal');
    expect(journal.status).toBe(200);
    const lines = journal.body.data.filter((r: { currency: string }) => r.currency === 'EUR');
    const months = [...new Set(lines.map((r: { period: string }) => r.period))].sort();
    expect(months).toHaveLength(2);
    const goodwill = (period: unknown) =>
      lines
        .filter((r: { period: string; account: string }) => r.period === period && r.account.startsWith('goodwill:'))
        .map((r: { account: string; net: number }) => [r.account, r.net]);
    expect(goodwill(months[0])).toEqual([
      ['goodwill:cost-of-doing-business', 0],
      ['goodwill:within-discretion', 4000],
    ]);
    expect(goodwill(months[1])).toEqual([['goodwill:total', 13000]]);

    const balances = await t.as(finance.token).get('/v1/ledger/balances');
    expect(balances.status).toBe(200);
    const eur = balances.body.data.filter((r: { currency: string }) => r.currency === 'EUR');
    expect(
      eur
        .filter((r: { account: string }) => r.account.startsWith('goodwill:'))
        .map((r: { account: string; balance: number }) => [r.account, r.balance]),
    ).toEqual([['goodwill:total', 17000]]);
    expect(eur.reduce((sum: number, r: { balance: number }) => sum + r.balance, 0)).toBe(0);
  });
});
