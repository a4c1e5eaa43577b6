import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';

/**
 * Finance and a leader, with the roster in hand, try every subtraction they can think of against a
 * month that holds two roles, a lone agent on a channel in each, a team of one, a currency used by
 * one agent, a single dominant credit, a cell padded with other agents' tiny credits, a cell padded
 * with credits other agents reversed in the same month (costing them nothing), the overruns of
 * three agents, one reversal in the next month, and a limit moved up and down. No published figure,
 * and no difference of two published figures, may equal what fewer than minCohort agents
 * contributed: neither an amount nor a count (credits, credits with an overrun, and the counts limit
 * fit's shares give when multiplied by its credits).
 */
interface LimitFitAnswer {
  rows: Array<{
    role: { id: string };
    credits?: number;
    shareOverPerCredit?: number | null;
    shareWithOverrun?: number | null;
  }>;
}

describe('reports against an adversary (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let frontline: string;
  let backOffice: string;
  const secrets = new Map<string, number>();
  /** Counts only fewer than minCohort agents make up, named `<kind>: …` (credits, overrun). */
  const countSecrets = new Map<string, number>();
  const creditIds: string[] = [];
  const paddingReversalIds: string[] = [];
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
    // A lone agent on the social channel, often.
    const lone = crowd[0];
    await give(lone, { amount: 3137, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    await give(lone, { amount: 1423, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    for (let i = 0; i < 25; i++)
      await give(lone, { amount: 101, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    secrets.set('lone agent on social', 3137 + 1423 + 25 * 101);
    countSecrets.set('credits: lone agent on social', 27);
    // A second role: six agents, one of them alone on email, often.
    backOffice = await createRole(t, 'Back office');
    await setLimits(t, leader.token, backOffice, [{ currency: 'EUR', perCredit: 5000 }]);
    const back: TestUser[] = [];
    for (let i = 0; i < 6; i++) back.push(await createUser(t, ['agent'], { roleId: backOffice, teamId: north }));
    for (const [i, agent] of back.entries()) {
      await give(agent, { amount: 1330 + 100 * i, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
      await give(agent, { amount: 2330 + 100 * i, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    }
    for (let i = 0; i < 41; i++)
      await give(back[0], { amount: 97, reasonCode: 'damaged_item', kind: 'refund', channel: 'email' });
    secrets.set('lone Back office agent on email', 41 * 97);
    countSecrets.set('credits: lone Back office agent on email', 41);
    // The month's smallest block (five Frontline agents' small gifts) is the one that joins the
    // leftovers at the top: the residual then holds two roles and carries none.
    for (const agent of crowd.slice(0, 5))
      await give(agent, { amount: 50, reasonCode: 'late_delivery', kind: 'gift', channel: 'phone' });
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
    // A cell padded for free: three agents' credits, and two other agents' credits reversed in the
    // same month (their net is zero, so they must not count toward the cohort).
    for (const [i, agent] of crowd.slice(8, 11).entries())
      await give(agent, { amount: 3011 + 100 * i, reasonCode: 'wrong_item', kind: 'voucher', channel: 'email' });
    secrets.set('cell of three agents padded with reversed credits', 3011 + 3111 + 3211);
    for (const agent of crowd.slice(11, 13)) {
      const padding = await give(agent, {
        amount: 2500,
        reasonCode: 'wrong_item',
        kind: 'voucher',
        channel: 'email',
      });
      const undone = await t.as(finance.token).post(`/v1/credits/${padding.id}/reversal`, { reason: 'entered twice' });
      expect(undone.status).toBe(201);
      paddingReversalIds.push(undone.body.reversedBy.id);
    }
    // One agent's overruns (perCredit is 50.00) in a common cell, seventeen times.
    const over = await give(crowd[5], { amount: 6913, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    secrets.set('single overrun', Number(over.overrun));
    for (let i = 0; i < 16; i++)
      await give(crowd[5], { amount: 5003, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    countSecrets.set("overrun: one agent's credits with an overrun", 17);
    // Three agents went over the limit this month (the dominant and padded credits, and these).
    countSecrets.set('overrun: credits with an overrun, three agents', 19);
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
    await backdate(t, 2, { creditIds, reversalIds: paddingReversalIds });
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

  /** The kind of count a figure is (credits, credits with an overrun, reversals), or null for an amount. */
  const countKind = (where: string) =>
    /\.(credits|creditsWithOverrun|reversals)$/.exec(where)?.[1].replace('creditsWithOverrun', 'overrun') ?? null;

  /**
   * The counts the answers give, each tagged with its kind and months (`credits 2026-09..2026-09`),
   * limit fit's shares × credits included (a share of a published total is a count). Counts are
   * small numbers, so only counts of one kind over the same months are subtracted from each other.
   */
  function counts(figures: Array<[string, number]>, limitFit: Array<[string, LimitFitAnswer]>) {
    const months = (where: string) => /from=([\d-]+)&to=([\d-]+)/.exec(where)?.slice(1).join('..') ?? 'latest';
    const out: Array<[string, number]> = [];
    for (const [where, v] of figures) {
      const kind = countKind(where);
      if (kind) out.push([`${kind} ${months(where)} ${where}`, v]);
    }
    for (const [where, body] of limitFit)
      body.rows.forEach((r, i) => {
        if (r.credits === undefined) return;
        for (const k of ['shareOverPerCredit', 'shareWithOverrun'] as const) {
          const share = r[k];
          if (share !== null && share !== undefined)
            out.push([`overrun ${months(where)} ${where}.rows[${i}].${k}×credits`, Math.round(share * r.credits)]);
        }
      });
    return out;
  }

  /**
   * Each secret that a figure, or the difference of two figures in the same group, equals; `pair`
   * says which two figures a reader would subtract (for amounts: any two).
   */
  function recovered(
    secretsOf: Map<string, number>,
    figures: Array<[string, number]>,
    group: (where: string) => string = () => '',
    pair: (a: string, b: string) => boolean = () => true,
  ): string[] {
    const byGroup = new Map<string, Map<number, string[]>>();
    for (const [where, v] of figures) {
      const g = group(where);
      if (!byGroup.has(g)) byGroup.set(g, new Map());
      const at = byGroup.get(g)!;
      if (!at.has(v)) at.set(v, []);
      at.get(v)!.push(where);
    }
    const hits: string[] = [];
    for (const [name, secret] of secretsOf) {
      // A count secret is compared with counts of its own kind only.
      const kind = /^(credits|overrun): /.exec(name)?.[1];
      const mine = (where: string) => !kind || where.startsWith(`${kind} `);
      for (const [where, v] of figures) if (v === secret && mine(where)) hits.push(`${name} = ${where}`);
      for (const [g, at] of byGroup) {
        if (!mine(g)) continue;
        for (const [a, wheresA] of at) {
          const wheresB = a - secret !== 0 ? at.get(a - secret) : undefined;
          const found = wheresB && wheresA.flatMap((x) => wheresB.filter((y) => pair(x, y)).map((y) => [x, y]))[0];
          if (found) hits.push(`${name} = ${a} (${found[0]}) − ${a - secret} (${found[1]})`);
        }
      }
    }
    return hits;
  }

  it('lets no figure or difference of figures equal what fewer than five agents gave, or how often', async () => {
    const figures: Array<[string, number]> = [];
    const limitFits: Array<[string, LimitFitAnswer]> = [];
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
        if (path.includes('limit-fit')) limitFits.push([path, res.body]);
      }
    }
    for (const path of ['/v1/ledger/balances', '/v1/reports/month-to-date']) {
      const res = await t.as(finance.token).get(path);
      expect(res.status).toBe(200);
      numbers(res.body, path, figures);
    }
    // The reports did publish: the busy EUR month shows in rows.
    expect(figures.filter(([where]) => /\.rows\[\d+\]\.amount$/.test(where)).length).toBeGreaterThan(100);
    // Both roles show in limit fit, so its counts are really checked.
    const fitRoles = limitFits.flatMap(([, b]) => b.rows.filter((r) => r.credits !== undefined).map((r) => r.role.id));
    expect(new Set(fitRoles)).toEqual(new Set([frontline, backOffice]));
    const amounts = figures.filter(([where]) => countKind(where) === null);
    const countFigures = counts(figures, limitFits);
    expect([
      ...recovered(secrets, amounts),
      // Spend's counts are sums of whole blocks, as its amounts are (the property tests prove any
      // difference of them is too); small counts coincide by chance, so counts are subtracted where
      // limit fit is one side: the figures that are not cut from the blocks' own counts.
      ...recovered(
        countSecrets,
        countFigures,
        (where) => where.split(' ').slice(0, 2).join(' '),
        (a, b) => a.includes('limit-fit') || b.includes('limit-fit'),
      ),
    ]).toEqual([]);
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
