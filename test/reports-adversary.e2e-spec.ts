import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';

/**
 * Finance and a leader, with the roster in hand, try every subtraction they can think of against a
 * month that holds a lone agent on a channel, a team of one, a currency used by one agent, a single
 * dominant credit, a cell padded with other agents' tiny credits, one agent's overrun, one reversal
 * in the next month, and a limit moved up and down. No published figure, and no difference of two
 * published figures, may equal what fewer than minCohort agents contributed.
 */
describe('reports against an adversary (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let frontline: string;
  const secrets = new Map<string, number>();
  const creditIds: string[] = [];
  const amounts = new Set<number>();
  let reversalId: string;

  const give = async (agent: TestUser, body: Record<string, unknown>) => {
    const res = await postCredit(t, agent.token, creditBody(body), randomUUID());
    expect(res.status).toBe(201);
    creditIds.push(res.body.id);
    amounts.add(Number(body.amount));
    return res.body;
  };

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 5, dominancePercent: 10, releaseGraceSeconds: 1 });
    finance = await createUser(t, ['finance']);
    leader = await createUser(t, ['leader']);
    frontline = await createRole(t, 'Frontline');
    const north = await createTeam(t, 'North');
    const solo = await createTeam(t, 'Solo');
    await setLimits(t, leader.token, frontline, [
      { currency: 'EUR', perCredit: 5000 },
      { currency: 'GBP', perCredit: 5000 },
    ]);
    const crowd: TestUser[] = [];
    for (let i = 0; i < 14; i++) crowd.push(await createUser(t, ['agent'], { roleId: frontline, teamId: north }));
    // Ordinary spend: fourteen agents, two reasons, two channels.
    for (const [i, agent] of crowd.entries()) {
      await give(agent, { amount: 1210 + 100 * i, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
      await give(agent, { amount: 2110 + 100 * i, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    }
    // A lone agent on the social channel.
    const lone = crowd[0];
    await give(lone, { amount: 3137, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    await give(lone, { amount: 1423, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    secrets.set('lone agent on social', 3137 + 1423);
    // A team of one.
    const single = await createUser(t, ['agent'], { roleId: frontline, teamId: solo });
    await give(single, { amount: 1777, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
    secrets.set('team of one', 1777);
    // A currency used by one agent.
    await give(crowd[1], { amount: 4111, currency: 'GBP', reasonCode: 'late_delivery', kind: 'voucher' });
    secrets.set('GBP agent', 4111);
    // One dominant credit in the busiest cell.
    await give(crowd[2], { amount: 200_000, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
    secrets.set('dominant credit', 200_000);
    secrets.set('dominant agent in its cell', 200_000 + 1410);
    // A cell padded with four other agents' one-cent credits.
    await give(crowd[3], { amount: 45_678, reasonCode: 'billing_error', kind: 'gift', channel: 'email' });
    for (const padder of crowd.slice(4, 8))
      await give(padder, { amount: 1, reasonCode: 'billing_error', kind: 'gift', channel: 'email' });
    secrets.set('padded cell, its real spender', 45_678);
    // One agent's overrun (perCredit is 50.00) in a common cell.
    const over = await give(crowd[5], { amount: 6913, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    secrets.set('single overrun', Number(over.overrun));
    // A leader probes the limit up and down between credits.
    await setLimits(t, leader.token, frontline, [{ currency: 'EUR', perCredit: 1500 }]);
    await setLimits(t, leader.token, frontline, [{ currency: 'EUR', perCredit: 5000 }]);

    // All of that was recorded in the month before last; one reversal in the last month.
    const reversed = await t
      .as(finance.token)
      .post(`/v1/credits/${creditIds[3]}/reversal`, { reason: 'duplicate refund' });
    expect(reversed.status).toBe(201);
    reversalId = reversed.body.reversedBy.id;
    secrets.set('the one reversal', 2210);
    await backdate(t, 2, { creditIds });
    await backdate(t, 1, { reversalIds: [reversalId] });
  }, 120_000);

  afterAll(() => t.close());

  /** Every number in every answer, with where it came from. */
  function numbers(body: unknown, where: string, into: Array<[string, number]>): void {
    if (typeof body === 'number') into.push([where, body]);
    else if (Array.isArray(body)) body.forEach((v, i) => numbers(v, `${where}[${i}]`, into));
    else if (body && typeof body === 'object')
      for (const [k, v] of Object.entries(body)) {
        if (k !== 'minCohort' && k !== 'dominancePercent') numbers(v, `${where}.${k}`, into);
      }
  }

  it('lets no figure or difference of figures equal what fewer than five agents gave', async () => {
    const figures: Array<[string, number]> = [];
    const keys = ['reason', 'kind', 'role', 'team', 'channel'];
    const groupings = Array.from({ length: 32 }, (_, mask) => keys.filter((_, i) => mask & (1 << i)));
    const months = await t.as(finance.token).get('/v1/reports/months');
    expect(months.status).toBe(200);
    const closed = months.body.data
      .filter((m: { state: string }) => m.state !== 'open')
      .map((m: { month: string }) => m.month);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    const [first, second] = closed.slice(0, 2);
    for (const [from, to] of [
      [first, first],
      [second, second],
      [first, second],
    ]) {
      for (const period of ['none', 'month', 'quarter', 'year']) {
        for (const g of groupings) {
          const url = `/v1/reports/spend?from=${from}&to=${to}&period=${period}&groupBy=${g.join(',')}`;
          const res = await t.as(finance.token).get(url);
          expect(res.status).toBe(200);
          numbers(res.body, url, figures);
        }
      }
      for (const path of [`/v1/ledger/journal?from=${from}&to=${to}`, `/v1/reports/limit-fit?from=${from}&to=${to}`]) {
        const res = await t.as(finance.token).get(path);
        expect(res.status).toBe(200);
        numbers(res.body, path, figures);
      }
    }
    for (const path of ['/v1/ledger/balances', '/v1/reports/month-to-date']) {
      const res = await t.as(finance.token).get(path);
      expect(res.status).toBe(200);
      numbers(res.body, path, figures);
    }
    // The reports did publish: the busy EUR month shows in rows.
    expect(figures.filter(([where]) => /\.rows\[\d+\]\.amount$/.test(where)).length).toBeGreaterThan(100);
    const values = new Set(figures.map(([, v]) => v));
    const hits: string[] = [];
    for (const [name, secret] of secrets) {
      for (const [where, v] of figures) if (v === secret) hits.push(`${name} = ${where}`);
      for (const a of values)
        if (values.has(a - secret) && a - secret !== 0) hits.push(`${name} = ${a} − ${a - secret}`);
    }
    expect(hits).toEqual([]);
  }, 300_000);

  it('publishes nothing of the one-agent currency, or of the one-reversal month, but the fact that they exist', async () => {
    const res = await t.as(finance.token).get('/v1/reports/spend?groupBy=');
    expect(res.status).toBe(200);
    const [credits, reversal] = res.body.withheld.map((w: { month: string }) => w.month).sort();
    expect(res.body.withheld).toEqual([
      { month: credits, currency: 'GBP' },
      { month: reversal, currency: 'EUR' },
    ]);
    expect(res.body.totals.map((r: { currency: string }) => r.currency)).toEqual(['EUR']);
    const books = await t.as(finance.token).get('/v1/ledger/balances?currency=GBP');
    for (const line of books.body.data) expect(line.balance).toBeNull();
  });

  it('shows limit fit in bucket edges only, from each credit’s own limits, whatever the limits are today', async () => {
    const before = await t.as(leader.token).get('/v1/reports/limit-fit');
    expect(before.status).toBe(200);
    const row = before.body.rows.find(
      (r: { role: { id: string }; currency: string }) => r.role.id === frontline && r.currency === 'EUR',
    );
    expect(row).toBeDefined();
    const ladder = (v: number) => /^(1|2|5)0*$/.test(String(v / 100)) || v === 0;
    for (const k of ['p50', 'p90', 'p95', 'p99', 'suggestedPerCredit']) {
      expect(ladder(row[k])).toBe(true);
      expect(amounts.has(row[k])).toBe(false);
    }
    for (const perCredit of [100, 3000, 1_000_000]) {
      await setLimits(t, leader.token, frontline, [{ currency: 'EUR', perCredit }]);
      const after = await t.as(leader.token).get('/v1/reports/limit-fit');
      const probed = after.body.rows.find(
        (r: { role: { id: string }; currency: string }) => r.role.id === frontline && r.currency === 'EUR',
      );
      expect({ ...probed, limits: null }).toEqual({ ...row, limits: null });
    }
  });

  it('refuses the open month and day or week periods with a reason', async () => {
    const current = new Date().toISOString().slice(0, 7);
    const open = await t.as(finance.token).get(`/v1/reports/spend?from=${current}&to=${current}`);
    expect(open.status).toBe(400);
    expect(open.body.errors[0].message).toMatch(/not closed/);
    const daily = await t.as(finance.token).get('/v1/reports/spend?period=day');
    expect(daily.status).toBe(400);
    expect(daily.body.errors[0].field).toBe('period');
  });
});
