import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';
import { addDays, DAY_MS } from './support/time';

const WITHIN = 'goodwill:within-discretion';
const OVERRUN = 'goodwill:cost-of-doing-business';
const OWED = 'remedies:owed';

interface Logged {
  id: string;
  currency: string;
  amount: number;
  within: number;
  overrun: number;
  reversed: boolean;
}

function expectFieldError(res: Reply, field: string) {
  expect({ status: res.status, text: res.text.slice(0, 300) }).toEqual({ status: 400, text: expect.any(String) });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

/** Splits a CSV body (no quoted fields expected here) into rows of cells, without the trailing empty line. */
function csvRows(text: string): string[][] {
  return text
    .split('\r\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));
}

describe('ledger: balances, journal, append-only tables and usage counters (e2e)', () => {
  let t: TestApp;
  let leader: TestUser;
  let finance: TestUser;
  let auditor: TestUser;
  const agents: TestUser[] = [];
  const names: string[] = [];
  const logged: Logged[] = [];
  const sharedCase = `LEDGER-SHARED-${randomUUID()}`;

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    auditor = await createUser(t, ['auditor']);
    const roleId = await createRole(t);
    await setLimits(t, leader.token, roleId, [
      { currency: 'EUR', perCredit: 1000, perCase: 2500, perAgentDay: 2500 },
      { currency: 'GBP', perCredit: 500 },
    ]);
    for (let i = 0; i < 3; i++) {
      const displayName = `Ledger Agent ${i} ${randomUUID().slice(0, 6)}`;
      names.push(displayName);
      agents.push(await createUser(t, ['agent'], i < 2 ? { roleId, displayName } : { displayName }));
    }
    const [a, b, c] = agents;
    const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS).toISOString();
    const plan: Array<[TestUser, Record<string, unknown>]> = [
      [a, { amount: 800, caseRef: sharedCase }],
      [a, { amount: 1500 }],
      [a, { amount: 900, occurredAt: twoDaysAgo }],
      [a, { amount: 1800, occurredAt: twoDaysAgo, caseRef: sharedCase }],
      [a, { amount: 700, currency: 'GBP', caseRef: sharedCase }],
      [b, { amount: 3000, caseRef: sharedCase }],
      [b, { amount: 300, currency: 'GBP' }],
      [b, { amount: 999, currency: 'GBP', occurredAt: twoDaysAgo }],
      [b, { amount: 600 }],
      [c, { amount: 400 }],
      [c, { amount: 250, currency: 'GBP', caseRef: sharedCase }],
      [c, { amount: 1200, occurredAt: twoDaysAgo }],
    ];
    for (const [who, overrides] of plan) {
      const res = await postCredit(t, who.token, creditBody(overrides));
      expect(res.status).toBe(201);
      logged.push({
        id: res.body.id,
        currency: res.body.currency,
        amount: res.body.amount,
        within: res.body.withinDiscretion,
        overrun: res.body.overrun,
        reversed: false,
      });
    }
    // Reverse a mix: by the agent and by finance, with and without overrun, in both currencies.
    const reversals: Array<[number, TestUser]> = [
      [1, a],
      [3, finance],
      [6, finance],
      [9, c],
      [10, c],
    ];
    for (const [index, who] of reversals) {
      const res = await t.as(who.token).post(`/v1/credits/${logged[index].id}/reversal`, { reason: 'Test mix' });
      expect(res.status).toBe(201);
      logged[index].reversed = true;
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  function expectedBalances(currency: string) {
    const live = logged.filter((l) => l.currency === currency && !l.reversed);
    const within = live.reduce((s, l) => s + l.within, 0);
    const overrun = live.reduce((s, l) => s + l.overrun, 0);
    return { [WITHIN]: within, [OVERRUN]: overrun, [OWED]: -(within + overrun) };
  }

  describe('GET /v1/ledger/balances', () => {
    it('the mix has overruns, unbudgeted credits and reversals in two currencies', () => {
      for (const currency of ['EUR', 'GBP']) {
        const mine = logged.filter((l) => l.currency === currency);
        expect(mine.some((l) => l.overrun > 0 && l.within > 0)).toBe(true);
        expect(mine.some((l) => l.reversed)).toBe(true);
      }
      expect(logged.some((l) => l.within === 0)).toBe(true);
    });

    it('finance reads balances as at the last close: none while no month is closed', async () => {
      const res = await t.as(finance.token).get('/v1/ledger/balances');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ asOf: null, data: [] });
    });

    it('auditors read live balances matching the within/overrun of unreversed credits, summing to zero', async () => {
      for (const token of [auditor.token]) {
        const res = await t.as(token).get('/v1/ledger/balances');
        expect(res.status).toBe(200);
        const byCurrency: Record<string, Record<string, number>> = {};
        for (const row of res.body.data) {
          expect(Object.keys(row).sort()).toEqual(['account', 'balance', 'currency']);
          expect(Number.isInteger(row.balance)).toBe(true);
          (byCurrency[row.currency] ??= {})[row.account] = row.balance;
        }
        expect(Object.keys(byCurrency).sort()).toEqual(['EUR', 'GBP']);
        for (const currency of ['EUR', 'GBP']) {
          expect(byCurrency[currency]).toEqual(expectedBalances(currency));
          expect(Object.values(byCurrency[currency]).reduce((s, v) => s + v, 0)).toBe(0);
        }
      }
    });

    it('filters by currency and validates it', async () => {
      const res = await t.as(auditor.token).get('/v1/ledger/balances?currency=GBP');
      expect(res.status).toBe(200);
      expect(res.body.data.map((r: { currency: string }) => r.currency)).toEqual(['GBP', 'GBP', 'GBP']);
      const none = await t.as(auditor.token).get('/v1/ledger/balances?currency=CHF');
      expect(none.body).toMatchObject({ data: [] });
      expectFieldError(await t.as(finance.token).get('/v1/ledger/balances?currency=gbp'), 'currency');
      expectFieldError(await t.as(finance.token).get('/v1/ledger/balances?account=x'), 'account');
    });

    it('is for finance and auditors only', async () => {
      for (const token of [leader.token, agents[0].token, ADMIN_TOKEN]) {
        expect((await t.as(token).get('/v1/ledger/balances')).status).toBe(403);
      }
    });
  });

  describe('GET /v1/ledger/journal', () => {
    const today = () => new Date().toISOString().slice(0, 10);
    const range = () => `from=${addDays(today(), -1)}&to=${addDays(today(), 1)}`;

    function expectedTotals() {
      const totals: Record<string, { debits: number; credits: number }> = {};
      const add = (account: string, currency: string, debits: number, credits: number) => {
        const key = `${account}|${currency}`;
        const cell = (totals[key] ??= { debits: 0, credits: 0 });
        cell.debits += debits;
        cell.credits += credits;
      };
      for (const l of logged) {
        if (l.within > 0) {
          add(WITHIN, l.currency, l.within, 0);
          if (l.reversed) add(WITHIN, l.currency, 0, l.within);
        }
        if (l.overrun > 0) {
          add(OVERRUN, l.currency, l.overrun, 0);
          if (l.reversed) add(OVERRUN, l.currency, 0, l.overrun);
        }
        add(OWED, l.currency, l.reversed ? l.amount : 0, l.amount);
      }
      return totals;
    }

    it('JSON: daily debits, credits and net per account and currency, adding up to every posting', async () => {
      const res = await t.as(auditor.token).get(`/v1/ledger/journal?${range()}`);
      expect(res.status).toBe(200);
      expect(res.body.from).toBe(addDays(today(), -1));
      expect(res.body.to).toBe(addDays(today(), 1));
      const seen = new Set<string>();
      const totals: Record<string, { debits: number; credits: number }> = {};
      const netPerDayCurrency: Record<string, number> = {};
      for (const row of res.body.data) {
        expect(Object.keys(row).sort()).toEqual(['account', 'credits', 'currency', 'debits', 'net', 'period']);
        expect(row.period >= res.body.from && row.period <= res.body.to).toBe(true);
        expect(row.net).toBe(row.debits - row.credits);
        const key = `${row.period}|${row.account}|${row.currency}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        const cell = (totals[`${row.account}|${row.currency}`] ??= { debits: 0, credits: 0 });
        cell.debits += row.debits;
        cell.credits += row.credits;
        netPerDayCurrency[`${row.period}|${row.currency}`] =
          (netPerDayCurrency[`${row.period}|${row.currency}`] ?? 0) + row.net;
      }
      expect(totals).toEqual(expectedTotals());
      // Each day's lines balance on their own.
      for (const net of Object.values(netPerDayCurrency)) expect(net).toBe(0);
    });

    it('CSV by format=csv and by Accept: text/csv, with the same figures as the JSON', async () => {
      const json = await t.as(auditor.token).get(`/v1/ledger/journal?${range()}`);
      const expected = [
        ['period', 'account', 'currency', 'debits', 'credits', 'net'],
        ...json.body.data.map((r: Record<string, unknown>) =>
          [r.period, r.account, r.currency, r.debits, r.credits, r.net].map(String),
        ),
      ];
      const byFormat = await t.as(auditor.token).get(`/v1/ledger/journal?${range()}&format=csv`);
      const byAccept = await t
        .as(auditor.token)
        .get(`/v1/ledger/journal?${range()}`, { headers: { accept: 'text/csv' } });
      for (const res of [byFormat, byAccept]) {
        expect(res.status).toBe(200);
        expect(String(res.headers['content-type'])).toMatch(/^text\/csv/);
        expect(String(res.headers['content-disposition'])).toMatch(/^attachment; filename="journal-.+\.csv"$/);
        expect(csvRows(res.text)).toEqual(expected);
      }
      expect(byAccept.text).toBe(byFormat.text);
      // An explicit format=json wins over the Accept header.
      const explicit = await t
        .as(auditor.token)
        .get(`/v1/ledger/journal?${range()}&format=json`, { headers: { accept: 'text/csv' } });
      expect(String(explicit.headers['content-type'])).toMatch(/json/);
      expect(explicit.body.data).toEqual(json.body.data);
    });

    it('names no agent: no agent id or display name in JSON or CSV, balances or journal', async () => {
      const outputs = [
        (await t.as(auditor.token).get(`/v1/ledger/journal?${range()}`)).text,
        (await t.as(auditor.token).get(`/v1/ledger/journal?${range()}&format=csv`)).text,
        (await t.as(auditor.token).get('/v1/ledger/balances')).text,
      ];
      for (const text of outputs) {
        expect(text.length).toBeGreaterThan(50);
        for (const agent of agents) expect(text).not.toContain(agent.id);
        for (const name of names) expect(text).not.toContain(name);
        for (const l of logged) expect(text).not.toContain(l.id);
        expect(text).not.toMatch(/agent/i);
      }
    });

    it('a range with no postings is empty', async () => {
      const res = await t.as(auditor.token).get('/v1/ledger/journal?from=2020-01-01&to=2020-01-31');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ from: '2020-01-01', to: '2020-01-31', data: [] });
      const csv = await t.as(auditor.token).get('/v1/ledger/journal?from=2020-01-01&to=2020-01-31&format=csv');
      expect(csvRows(csv.text)).toEqual([['period', 'account', 'currency', 'debits', 'credits', 'net']]);
    });

    it('filters by currency', async () => {
      const res = await t.as(auditor.token).get(`/v1/ledger/journal?${range()}&currency=GBP`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeGreaterThan(0);
      for (const row of res.body.data) expect(row.currency).toBe('GBP');
    });

    it.each([
      ['from missing', 'to=2026-01-31', 'from'],
      ['to missing', 'from=2026-01-01', 'to'],
      ['from not a date', 'from=yesterday&to=2026-01-31', 'from'],
      ['from with a time', 'from=2026-01-01T00:00:00Z&to=2026-01-31', 'from'],
      ['to an impossible date', 'from=2026-01-01&to=2026-02-30', 'to'],
      ['to a month that does not exist', 'from=2026-01-01&to=2026-13-01', 'to'],
      ['to before from', 'from=2026-02-01&to=2026-01-31', 'to'],
      ['a range over 366 days', 'from=2024-01-01&to=2025-12-31', 'to'],
      ['an unknown format', 'from=2026-01-01&to=2026-01-31&format=xml', 'format'],
      ['a lower-case currency', 'from=2026-01-01&to=2026-01-31&currency=eur', 'currency'],
      ['an unknown parameter', 'from=2026-01-01&to=2026-01-31&agentId=x', 'agentId'],
    ])('%s → 400 naming the parameter', async (_what, query, field) => {
      expectFieldError(await t.as(auditor.token).get(`/v1/ledger/journal?${query}`), field);
    });

    it('one day is a valid range; days are the auditors’ (finance reads months), and others get 403', async () => {
      expect((await t.as(auditor.token).get('/v1/ledger/journal?from=2026-01-01&to=2026-01-01')).status).toBe(200);
      expectFieldError(await t.as(finance.token).get(`/v1/ledger/journal?${range()}`), 'from');
      expect((await t.as(finance.token).get('/v1/ledger/journal')).body).toEqual({ from: null, to: null, data: [] });
      for (const token of [leader.token, agents[0].token, ADMIN_TOKEN]) {
        expect((await t.as(token).get(`/v1/ledger/journal?${range()}`)).status).toBe(403);
      }
    });

    it('every daily read is in the audit log', async () => {
      const before = await t.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'ledger.read'`,
      );
      await t.as(auditor.token).get(`/v1/ledger/journal?${range()}`);
      await t.as(auditor.token).get('/v1/ledger/balances');
      const after = await t.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'ledger.read'`,
      );
      expect(after[0].n - before[0].n).toBe(2);
    });
  });

  describe('append-only tables, enforced by PostgreSQL itself', () => {
    const TABLES: Array<[string, string]> = [
      ['credits', 'note = note'],
      ['credit_reversals', 'reason = reason'],
      ['postings', 'amount = amount'],
      ['role_limits', 'per_credit = per_credit'],
      ['role_limit_versions', 'set_at = set_at'],
      ['audit_events', 'action = action'],
    ];

    it.each(TABLES)('%s refuses UPDATE, DELETE and TRUNCATE', async (table, assignment) => {
      const before = await t.tableDigest(table);
      expect(before.rows).toBeGreaterThan(0);
      const refusal = (op: string) => new RegExp(`table ${table} is append-only: ${op}`);
      await expect(t.query(`UPDATE ${table} SET ${assignment}`)).rejects.toThrow(refusal('UPDATE'));
      await expect(t.query(`DELETE FROM ${table}`)).rejects.toThrow(refusal('DELETE'));
      // CASCADE, so that a referencing table cannot make TRUNCATE fail for another reason first.
      await expect(t.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(refusal('TRUNCATE'));
      expect(await t.tableDigest(table)).toEqual(before);
    });

    it('refuses a change to one chosen row too, in a transaction that then cannot commit it', async () => {
      const target = logged[0].id;
      const runner = t.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await expect(runner.query(`UPDATE credits SET amount = 1 WHERE id = $1`, [target])).rejects.toThrow(
          /append-only/,
        );
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      const [row] = await t.query(`SELECT amount::int AS amount FROM credits WHERE id = $1`, [target]);
      expect(row.amount).toBe(logged[0].amount);
    });
  });

  describe('usage counters are derived state that matches credits minus reversals', () => {
    const unreversed = `NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`;

    async function compare(stored: string, recomputed: string) {
      const toMap = (rows: Array<{ k: string; used: string }>) =>
        Object.fromEntries(rows.filter((r) => r.used !== '0').map((r) => [r.k, r.used]));
      const storedRows = await t.query<{ k: string; used: string }>(stored);
      const recomputedRows = await t.query<{ k: string; used: string }>(recomputed, [t.config.timezone]);
      expect(recomputedRows.length).toBeGreaterThan(0);
      expect(toMap(storedRows)).toEqual(toMap(recomputedRows));
      return storedRows;
    }

    it('usage_case equals the sum of unreversed credits per case and currency', async () => {
      const stored = await compare(
        `SELECT case_ref || '|' || currency AS k, used::text AS used FROM usage_case`,
        `SELECT case_ref || '|' || currency AS k, sum(amount)::text AS used FROM credits c
          WHERE ${unreversed} AND $1::text IS NOT NULL GROUP BY case_ref, currency`,
      );
      // A case whose only credit was reversed keeps a counter at zero.
      expect(stored.filter((r) => r.used === '0').length).toBeGreaterThan(0);
      const shared = stored.find((r) => r.k === `${sharedCase}|EUR`);
      const expected = logged
        .filter((l, i) => l.currency === 'EUR' && !l.reversed && [0, 3, 5].includes(i))
        .reduce((s, l) => s + l.amount, 0);
      expect(shared?.used).toBe(String(expected));
    });

    it('usage_agent_day equals the sum per agent, currency and local day of occurredAt', async () => {
      const stored = await compare(
        `SELECT agent_id || '|' || currency || '|' || day::text AS k, used::text AS used FROM usage_agent_day`,
        `SELECT agent_id || '|' || currency || '|' || (occurred_at AT TIME ZONE $1)::date::text AS k,
                sum(amount)::text AS used
           FROM credits c WHERE ${unreversed}
          GROUP BY agent_id, currency, (occurred_at AT TIME ZONE $1)::date`,
      );
      const days = new Set(stored.map((r) => r.k.split('|')[2]));
      expect(days.size).toBeGreaterThanOrEqual(2);
    });

    it('usage_agent_month equals the sum per agent, currency and local month of occurredAt', async () => {
      await compare(
        `SELECT agent_id || '|' || currency || '|' || month::text AS k, used::text AS used FROM usage_agent_month`,
        `SELECT agent_id || '|' || currency || '|' || date_trunc('month', (occurred_at AT TIME ZONE $1))::date::text AS k,
                sum(amount)::text AS used
           FROM credits c WHERE ${unreversed}
          GROUP BY 1`,
      );
    });

    it('every credit’s stored local day is the local date of its occurredAt', async () => {
      const rows = await t.query(`SELECT id FROM credits WHERE local_day <> (occurred_at AT TIME ZONE $1)::date`, [
        t.config.timezone,
      ]);
      expect(rows).toEqual([]);
    });

    it('within + overrun = amount for every credit, and each credit posted exactly its split', async () => {
      const rows = await t.query<{ id: string; within: string; overrun: string }>(
        `SELECT c.id,
                coalesce(sum(p.amount) FILTER (WHERE p.debit_account = $1), 0)::text AS within,
                coalesce(sum(p.amount) FILTER (WHERE p.debit_account = $2), 0)::text AS overrun
           FROM credits c LEFT JOIN postings p ON p.entry_id = c.id AND p.entry_kind = 'credit'
          GROUP BY c.id`,
        [WITHIN, OVERRUN],
      );
      expect(rows).toHaveLength(logged.length);
      for (const l of logged) {
        expect(l.within + l.overrun).toBe(l.amount);
        expect(rows.find((r) => r.id === l.id)).toEqual({
          id: l.id,
          within: String(l.within),
          overrun: String(l.overrun),
        });
      }
    });
  });
});
