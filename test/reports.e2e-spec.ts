import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './factories';
import { TestApp } from './support/app';

describe('reports (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let agents: TestUser[];
  let roleId: string;
  let teamId: string;

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 5 });
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    roleId = await createRole(t, 'Frontline');
    teamId = await createTeam(t, 'North');
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 2000 }]);
    agents = [];
    for (let i = 0; i < 6; i++) agents.push(await createUser(t, ['agent'], { roleId, teamId }));
    for (const a of agents) {
      for (const amount of [1000, 2500]) {
        const res = await postCredit(t, a.token, creditBody({ amount, reasonCode: 'late_delivery' }));
        expect(res.status).toBe(201);
      }
    }
    for (const a of agents.slice(0, 5)) {
      expect((await postCredit(t, a.token, creditBody({ amount: 300, reasonCode: 'damaged_item' }))).status).toBe(201);
    }
    // One agent alone under a second reason: a group too small to show.
    expect((await postCredit(t, agents[0].token, creditBody({ amount: 700, reasonCode: 'long_wait' }))).status).toBe(
      201,
    );
  });

  afterAll(() => t.close());

  const today = () => new Date().toISOString().slice(0, 10);

  it('publishes groups of at least minCohort agents and hides the rest', async () => {
    const res = await t.as(finance.token).get(`/v1/reports/spend?from=${today()}&to=${today()}&groupBy=reason`);
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([
      expect.objectContaining({
        reason: 'late_delivery',
        currency: 'EUR',
        credits: 12,
        amount: 21000,
        withinDiscretion: 18000,
        overrun: 3000,
        creditsWithOverrun: 6,
      }),
    ]);
    // long_wait covers one agent, so damaged_item (five agents, the smallest visible row) joins it:
    // otherwise totals minus visible rows would single that one agent out.
    expect(res.body.suppressed).toEqual([
      { currency: 'EUR', rows: 2, credits: 6, amount: 2200, withinDiscretion: 2200, overrun: 0, creditsWithOverrun: 0 },
    ]);
    expect(res.body.totals).toEqual([
      { currency: 'EUR', credits: 18, amount: 23200, withinDiscretion: 20200, overrun: 3000, creditsWithOverrun: 6 },
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/agent/i);
  });
});
