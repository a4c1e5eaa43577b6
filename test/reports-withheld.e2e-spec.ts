import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';

interface FitRow {
  role: { id: string };
  currency: string;
  credits?: number;
  shareOverPerCredit?: number | null;
  shareWithOverrun?: number | null;
  bindingLimit?: string | null;
  suppressed?: true;
}

/**
 * What limit fit and the spend CSV leave out, and how they say so. One closed month holds two roles:
 * Frontline, where only two agents went over the per-credit limit and one agent's lone cell rolls
 * into a residual that carries no role; Back office, where six agents each went over once; and a
 * GBP month that cannot be made safe (one dominant credit among five agents).
 */
describe('limit fit and CSV around withheld figures (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let frontline: string;
  let backOffice: string;
  let nightShift: string;
  let month: string;
  const creditIds: string[] = [];

  const give = async (agent: TestUser, body: Record<string, unknown>) => {
    const res = await postCredit(t, agent.token, creditBody(body), randomUUID());
    expect(res.status).toBe(201);
    creditIds.push(res.body.id);
    return res.body;
  };

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 5, dominancePercent: 10, releaseGraceSeconds: 1 });
    finance = await createUser(t, ['finance']);
    leader = await createUser(t, ['leader']);
    frontline = await createRole(t, 'Frontline');
    backOffice = await createRole(t, 'Back office');
    nightShift = await createRole(t, 'Night shift');
    const north = await createTeam(t, 'North');
    await setLimits(t, leader.token, nightShift, [{ currency: 'EUR', perCredit: 5000, perAgentDay: 8000 }]);
    for (const role of [frontline, backOffice])
      await setLimits(t, leader.token, role, [
        { currency: 'EUR', perCredit: 5000 },
        { currency: 'GBP', perCredit: 5000 },
      ]);
    const front: TestUser[] = [];
    for (let i = 0; i < 8; i++) front.push(await createUser(t, ['agent'], { roleId: frontline, teamId: north }));
    const back: TestUser[] = [];
    for (let i = 0; i < 6; i++) back.push(await createUser(t, ['agent'], { roleId: backOffice, teamId: north }));

    for (const [i, agent] of front.entries()) {
      await give(agent, { amount: 1210 + 10 * i, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
      await give(agent, { amount: 2110 + 10 * i, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    }
    // Two Frontline agents over the per-credit limit, in cells that publish.
    await give(front[1], { amount: 6100, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
    await give(front[2], { amount: 6200, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    // One Frontline agent alone on social; one Back office agent alone on email.
    await give(front[0], { amount: 3137, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    await give(front[0], { amount: 1423, reasonCode: 'late_delivery', kind: 'voucher', channel: 'social' });
    await give(back[0], { amount: 388, reasonCode: 'damaged_item', kind: 'gift', channel: 'email' });
    // Six Back office agents, each over the limit once.
    for (const [i, agent] of back.entries()) {
      await give(agent, { amount: 6000 + 10 * i, reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' });
      await give(agent, { amount: 1500 + 10 * i, reasonCode: 'damaged_item', kind: 'refund', channel: 'chat' });
    }
    // Night shift: six agents over the per-credit limit once each, and a seventh whose second credit
    // goes over only the day's limit. The split of their one cell shows (seven agents overran), but
    // the overruns that are not over the per-credit limit are that one agent's.
    const night: TestUser[] = [];
    for (let i = 0; i < 7; i++) night.push(await createUser(t, ['agent'], { roleId: nightShift, teamId: north }));
    const sameCell = { reasonCode: 'late_delivery', kind: 'voucher', channel: 'phone' };
    for (const [i, agent] of night.slice(0, 6).entries()) await give(agent, { amount: 6000 + 10 * i, ...sameCell });
    await give(night[6], { amount: 4000, ...sameCell });
    await give(night[6], { amount: 4500, ...sameCell });
    // GBP: four agents give 10.00, one gives 12,345.00 (over the limit): the month cannot be made safe.
    for (const agent of front.slice(0, 4)) await give(agent, { amount: 1000, currency: 'GBP' });
    await give(front[4], { amount: 1_234_500, currency: 'GBP' });

    await backdate(t, 1, { creditIds });
    const months = await t.as(finance.token).get('/v1/reports/months');
    month = months.body.data.find((m: { state: string }) => m.state !== 'open').month;
  }, 120_000);

  afterAll(() => t.close());

  const fit = async (): Promise<FitRow[]> => {
    const res = await t.as(leader.token).get(`/v1/reports/limit-fit?from=${month}&to=${month}`);
    expect(res.status).toBe(200);
    return res.body.rows;
  };

  it("counts a role's credits only from blocks that carry the role: the same as the spend report's role row", async () => {
    const spend = await t.as(finance.token).get(`/v1/reports/spend?from=${month}&to=${month}&groupBy=role`);
    expect(spend.status).toBe(200);
    // The lone cells went into a residual without a role: it is in notShown, not in a role row.
    const notShown = spend.body.notShown.find((n: { currency: string }) => n.currency === 'EUR');
    expect(notShown.credits).toBeGreaterThanOrEqual(3);
    const rows = await fit();
    for (const role of [frontline, backOffice]) {
      const row = spend.body.rows.find((r: { role: { id: string } }) => r.role.id === role);
      const limitFit = rows.find((r) => r.role.id === role && r.currency === 'EUR')!;
      expect({ role, credits: limitFit.credits }).toEqual({ role, credits: row.credits });
      // No count per amount bucket is published: a second partition beside the blocks would let a
      // bucket minus a spend row isolate one agent's credits.
      expect(limitFit).not.toHaveProperty('buckets');
    }
  });

  it('withholds the shares and binding limit (null, never 0) where the agents with an overrun are too few', async () => {
    const rows = await fit();
    const front = rows.find((r) => r.role.id === frontline && r.currency === 'EUR')!;
    expect(front).toMatchObject({ shareOverPerCredit: null, shareWithOverrun: null, bindingLimit: null });
    // Six agents with an overrun pass both rules: the shares show, and agree with spend's own figures.
    const back = rows.find((r) => r.role.id === backOffice && r.currency === 'EUR')!;
    const spend = await t.as(finance.token).get(`/v1/reports/spend?from=${month}&to=${month}&groupBy=role`);
    const row = spend.body.rows.find((r: { role: { id: string } }) => r.role.id === backOffice);
    expect(row.creditsWithOverrun).toBe(6);
    expect(back).toMatchObject({
      shareWithOverrun: Math.round((6 / row.credits) * 10_000) / 10_000,
      shareOverPerCredit: Math.round((6 / row.credits) * 10_000) / 10_000,
      bindingLimit: 'perCredit',
    });
    // A range that holds a month with withheld shares withholds them too (checked in the stored rows).
    const stored = await t.query<{ role_id: string; with_overrun: number | null }>(
      `SELECT role_id, with_overrun FROM release_limit_fit WHERE currency = 'EUR'`,
    );
    expect(new Map(stored.map((s) => [s.role_id, s.with_overrun]))).toEqual(
      new Map([
        [frontline, null],
        [backOffice, 6],
        [nightShift, null],
      ]),
    );
  });

  it('withholds the shares where the overruns not over the per-credit limit are too few agents’ (their difference would be those agents’ count)', async () => {
    const spend = await t.as(finance.token).get(`/v1/reports/spend?from=${month}&to=${month}&groupBy=role`);
    const row = spend.body.rows.find((r: { role: { id: string } }) => r.role.id === nightShift);
    // Spend shows the role's split: seven agents overran, which passes both rules.
    expect(row).toMatchObject({ credits: 8, creditsWithOverrun: 7 });
    const night = (await fit()).find((r) => r.role.id === nightShift && r.currency === 'EUR')!;
    expect(night).toMatchObject({ credits: 8, shareOverPerCredit: null, shareWithOverrun: null, bindingLimit: null });
  });

  it('gives finance the books of the closed month as the ledger has them: per account, goodwill as one line where a split is withheld', async () => {
    const posted = await t.query<{ currency: string; account: string; debit: string; credit: string }>(
      `SELECT currency, account, sum(debit)::text AS debit, sum(credit)::text AS credit FROM (
         SELECT currency, debit_account AS account, amount AS debit, 0::bigint AS credit FROM postings
         UNION ALL SELECT currency, credit_account, 0, amount FROM postings
       ) l GROUP BY currency, account`,
    );
    // Frontline's split is withheld, so EUR's two goodwill accounts are one line, in the journal and
    // in the balances; every other EUR account is exact. GBP cannot be published at all.
    const merged = (account: string) => (account.startsWith('goodwill:') ? 'goodwill:total' : account);
    const expected = new Map<string, bigint>();
    for (const p of posted.filter((x) => x.currency === 'EUR'))
      expected.set(merged(p.account), (expected.get(merged(p.account)) ?? 0n) + BigInt(p.debit) - BigInt(p.credit));
    const journal = await t.as(finance.token).get(`/v1/ledger/journal?from=${month}&to=${month}`);
    expect(journal.status).toBe(200);
    const eur = journal.body.data.filter((r: { currency: string }) => r.currency === 'EUR');
    expect(new Map(eur.map((r: { account: string; net: number }) => [r.account, BigInt(r.net)]))).toEqual(expected);
    for (const r of journal.body.data.filter((x: { currency: string }) => x.currency === 'GBP'))
      expect(r.net).toBeNull();
    const balances = await t.as(finance.token).get('/v1/ledger/balances');
    expect(balances.status).toBe(200);
    const eurBalances = balances.body.data.filter((r: { currency: string }) => r.currency === 'EUR');
    expect(
      new Map(eurBalances.map((r: { account: string; balance: number }) => [r.account, BigInt(r.balance)])),
    ).toEqual(expected);
    expect(eurBalances.reduce((sum: bigint, r: { balance: number }) => sum + BigInt(r.balance), 0n)).toBe(0n);
    for (const r of balances.body.data.filter((x: { currency: string }) => x.currency === 'GBP'))
      expect(r.balance).toBeNull();
  });

  it('computes no limit fit at all for a currency-month whose release is withheld', async () => {
    const spend = await t.as(finance.token).get(`/v1/reports/spend?from=${month}&to=${month}`);
    expect(spend.body.withheld).toEqual([{ month, currency: 'GBP' }]);
    const gbp = (await fit()).filter((r) => r.currency === 'GBP');
    expect(gbp.length).toBeGreaterThan(0);
    for (const r of gbp) expect(r).toEqual({ role: expect.anything(), currency: 'GBP', suppressed: true });
    expect(await t.query(`SELECT role_id FROM release_limit_fit WHERE currency = 'GBP'`)).toEqual([]);
  });

  it('says in the spend CSV, as JSON does, which currency-months are withheld', async () => {
    for (const groupBy of ['', 'role', 'reason,channel']) {
      const url = `/v1/reports/spend?from=${month}&to=${month}&period=month&groupBy=${groupBy}`;
      const json = await t.as(finance.token).get(url);
      const csv = await t.as(finance.token).get(`${url}&format=csv`);
      expect(csv.status).toBe(200);
      expect(String(csv.headers['content-type'])).toMatch(/^text\/csv/);
      const lines = csv.text.trim().split('\r\n');
      const header = lines[0].split(',');
      const withheld = lines
        .slice(1)
        .map((l) => l.split(','))
        .filter((cells) => cells[0] === 'withheld');
      for (const cells of withheld) {
        expect(cells).toHaveLength(header.length);
        // No figure on a withheld line: only that it exists.
        expect(cells.slice(header.indexOf('credits')).every((c) => c === '')).toBe(true);
      }
      expect(
        withheld.map((cells) => ({
          month: cells[header.indexOf('period')],
          currency: cells[header.indexOf('currency')],
        })),
      ).toEqual(json.body.withheld);
      expect(json.body.withheld).toEqual([{ month, currency: 'GBP' }]);
      // The total lines are JSON's totals.
      const totals = lines
        .slice(1)
        .map((l) => l.split(','))
        .filter((cells) => cells[0] === 'total')
        .map((cells) => ({
          currency: cells[header.indexOf('currency')],
          amount: Number(cells[header.indexOf('amount')]),
        }));
      expect(totals).toEqual(
        json.body.totals.map((r: { currency: string; amount: number }) => ({ currency: r.currency, amount: r.amount })),
      );
    }
  });
});
