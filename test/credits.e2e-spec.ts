import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';
import { addDays, DAY_MS } from './support/time';

const LIMIT_KEYS = ['perCredit', 'perCase', 'perAgentDay', 'perAgentMonth'] as const;
type LimitKey = (typeof LIMIT_KEYS)[number];
type Limits = Partial<Record<LimitKey, number>>;

/** Noon UTC yesterday, and the noon before it, moved back a day if they would straddle a month. */
function twoDaysInOneMonth(): [Date, Date] {
  const now = new Date();
  let later = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1, 12));
  let earlier = new Date(later.getTime() - DAY_MS);
  if (later.getUTCMonth() !== earlier.getUTCMonth()) {
    later = earlier;
    earlier = new Date(later.getTime() - DAY_MS);
  }
  return [later, earlier];
}

/**
 * DESIGN.md's split rule, written out independently of src/:
 * within = max(0, min(amount, perCredit, perCase - usedCase, perAgentDay - usedDay, perAgentMonth - usedMonth)).
 */
function designSplit(amount: number, l: Limits, used: { caseUsed: number; day: number; month: number }) {
  const rooms: Record<LimitKey, number> = {
    perCredit: l.perCredit ?? Infinity,
    perCase: l.perCase === undefined ? Infinity : l.perCase - used.caseUsed,
    perAgentDay: l.perAgentDay === undefined ? Infinity : l.perAgentDay - used.day,
    perAgentMonth: l.perAgentMonth === undefined ? Infinity : l.perAgentMonth - used.month,
  };
  const smallest = Math.min(...Object.values(rooms));
  const within = Math.max(0, Math.min(amount, smallest));
  const binding = LIMIT_KEYS.filter((k) => rooms[k] === smallest);
  return { within, overrun: amount - within, binding };
}

describe('POST /v1/credits: validation, the split rule and headroom (e2e)', () => {
  let t: TestApp;
  let leader: TestUser;
  let openRole: string;
  let agent: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    openRole = await createRole(t);
    await setLimits(t, leader.token, openRole, [
      { currency: 'EUR', perCredit: 100000 },
      { currency: 'JPY', perCredit: 1000 },
    ]);
    agent = await createUser(t, ['agent'], { roleId: openRole });
  });

  afterAll(async () => {
    await t?.close();
  });

  const admin = () => t.as(ADMIN_TOKEN);

  /** A digest of every row of every table: a refused request must leave all of them as they were. */
  // Refusals are not audited, but keep unrelated noise out.
  const snapshot = () => t.tableDigests(['audit_events']);

  function expectFieldError(res: Reply, field: string) {
    expect({ status: res.status, body: res.text.slice(0, 300) }).toEqual({ status: 400, body: expect.any(String) });
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.any(String) });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  }

  async function refused(body: Record<string, unknown>, field: string, headers?: Record<string, string>) {
    const before = await snapshot();
    const res = await t
      .as(agent.token)
      .post('/v1/credits', body, { headers: headers ?? { 'idempotency-key': randomUUID() } });
    expectFieldError(res, field);
    expect(await snapshot()).toEqual(before);
  }

  describe('validation: each refusal is 400 naming the field and changes nothing', () => {
    const minus = (ms: number) => new Date(Date.now() - ms).toISOString();

    it.each([
      ['a float', 10.5],
      ['a numeric string', '100'],
      ['zero', 0],
      ['a negative amount', -100],
      ['10^12 + 1', 10 ** 12 + 1],
      ['an unsafe integer', 2 ** 53 + 2],
      ['null', null],
      ['a boolean', true],
      ['an object', { value: 100 }],
    ])('amount as %s', async (_what, amount) => {
      await refused(creditBody({ amount }), 'amount');
    });

    it('amount missing', async () => {
      const body: Record<string, unknown> = creditBody();
      delete body.amount;
      await refused(body, 'amount');
    });

    it.each([['XXX'], ['ABC'], ['eur'], ['EU'], ['EURO'], [''], [978]])('currency %p', async (currency) => {
      await refused(creditBody({ currency }), 'currency');
    });

    it.each([['cash'], ['REFUND'], [''], [null]])('kind %p', async (kind) => {
      await refused(creditBody({ kind }), 'kind');
    });

    it.each([['fax'], ['Phone'], ['']])('channel %p', async (channel) => {
      await refused(creditBody({ channel }), 'channel');
    });

    it.each([
      ['caseRef', ''],
      ['caseRef', 'C'.repeat(101)],
      ['caseRef', 'CASE\n1'],
      ['customerRef', 'C'.repeat(101)],
      ['customerRef', ''],
      ['note', 'n'.repeat(2001)],
      ['reasonCode', 'Late Delivery'],
    ])('%s too long, empty or malformed (%#)', async (field, value) => {
      await refused(creditBody({ [field]: value }), field);
    });

    it('caseRef and reasonCode missing', async () => {
      const body: Record<string, unknown> = creditBody();
      delete body.caseRef;
      await refused(body, 'caseRef');
      const noReason: Record<string, unknown> = creditBody();
      delete noReason.reasonCode;
      await refused(noReason, 'reasonCode');
    });

    it.each([
      ['more than 7 days ago', () => minus(7 * DAY_MS + 60_000)],
      ['more than 5 minutes ahead', () => minus(-6 * 60_000)],
      ['a date without a time', () => minus(DAY_MS).slice(0, 10)],
      ['a time without an offset', () => minus(DAY_MS).slice(0, 19)],
      ['an impossible date', () => '2026-02-30T10:00:00Z'],
      ['not a date', () => 'yesterday'],
    ])('occurredAt %s', async (_what, occurredAt) => {
      await refused(creditBody({ occurredAt: occurredAt() }), 'occurredAt');
    });

    it.each([['discount'], ['withinDiscretion'], ['agentId'], ['id']])('unknown field %s', async (field) => {
      await refused(creditBody({ [field]: field === 'withinDiscretion' ? 0 : 'x' }), field);
    });

    it('Idempotency-Key missing, empty, over 255 characters or with spaces', async () => {
      await refused(creditBody(), 'Idempotency-Key', {});
      await refused(creditBody(), 'Idempotency-Key', { 'idempotency-key': '' });
      await refused(creditBody(), 'Idempotency-Key', { 'idempotency-key': 'k'.repeat(256) });
      await refused(creditBody(), 'Idempotency-Key', { 'idempotency-key': 'two words' });
    });

    it('a body that is not a JSON object', async () => {
      const before = await snapshot();
      const res = await t.as(agent.token).post('/v1/credits', [creditBody()], {
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(res.status).toBe(400);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('validation: what is accepted', () => {
    it('the largest amount, 10^12, and a key of exactly 255 characters', async () => {
      const res = await postCredit(t, agent.token, creditBody({ amount: 10 ** 12 }), 'k'.repeat(255));
      expect(res.status).toBe(201);
      expect(res.body.amount).toBe(10 ** 12);
      expect(res.text).toContain('"amount":1000000000000');
      expect(res.body).toMatchObject({ withinDiscretion: 100000, overrun: 10 ** 12 - 100000 });
    });

    it('every kind and every channel; channel, customerRef and note are optional', async () => {
      for (const kind of [
        'refund',
        'store_credit',
        'voucher',
        'waived_fee',
        'replacement',
        'upgrade',
        'gift',
        'other',
      ]) {
        const res = await postCredit(t, agent.token, creditBody({ kind, amount: 10 }));
        expect({ kind, status: res.status }).toEqual({ kind, status: 201 });
        expect(res.body.kind).toBe(kind);
      }
      for (const channel of ['phone', 'chat', 'email', 'in_person', 'social', 'other']) {
        const res = await postCredit(t, agent.token, creditBody({ channel, amount: 10 }));
        expect({ channel, status: res.status }).toEqual({ channel, status: 201 });
        expect(res.body.channel).toBe(channel);
      }
      const bare: Record<string, unknown> = creditBody({ amount: 10 });
      delete bare.channel;
      const res = await postCredit(t, agent.token, bare);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ channel: null, customerRef: null, note: null });
    });

    it('text at its longest: caseRef and customerRef of 100, a multi-line note of 2000', async () => {
      const note = 'Line one\n' + 'x'.repeat(1991);
      expect(note).toHaveLength(2000);
      const caseRef = 'C'.repeat(100);
      const customerRef = 'U'.repeat(100);
      const res = await postCredit(t, agent.token, creditBody({ caseRef, customerRef, note }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ caseRef, customerRef, note });
      const [row] = await t.query(`SELECT case_ref, customer_ref, note FROM credits WHERE id = $1`, [res.body.id]);
      expect(row).toEqual({ case_ref: caseRef, customer_ref: customerRef, note });
    });

    it('occurredAt just inside 7 days ago and just inside 5 minutes ahead; with a non-UTC offset', async () => {
      const old = new Date(Date.now() - 7 * DAY_MS + 5 * 60_000).toISOString();
      const a = await postCredit(t, agent.token, creditBody({ occurredAt: old }));
      expect(a.status).toBe(201);
      expect(a.body.occurredAt).toBe(old);
      const ahead = new Date(Date.now() + 2 * 60_000).toISOString();
      const b = await postCredit(t, agent.token, creditBody({ occurredAt: ahead }));
      expect(b.status).toBe(201);
      // 2 days ago, written with a +02:00 offset, comes back in UTC.
      const instant = new Date(Math.floor((Date.now() - 2 * DAY_MS) / 1000) * 1000);
      const local = new Date(instant.getTime() + 2 * 3600 * 1000).toISOString().slice(0, 19) + '+02:00';
      const c = await postCredit(t, agent.token, creditBody({ occurredAt: local }));
      expect(c.status).toBe(201);
      expect(c.body.occurredAt).toBe(instant.toISOString());
      // Without occurredAt the credit happened now.
      const before = Date.now();
      const d = await postCredit(t, agent.token, creditBody());
      expect(Date.parse(d.body.occurredAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(d.body.occurredAt)).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('currencies with other minor units: JPY (0 decimals) and KWD (3) take whole minor units as sent', async () => {
      // Amounts are integer minor units of the credit's own currency, so ¥1500 is 1500 and 1.234 KWD is 1234.
      // Nothing is rescaled: the JPY limit of 1000 applies to 1000 yen.
      const yen = await postCredit(t, agent.token, creditBody({ amount: 1500, currency: 'JPY' }));
      expect(yen.status).toBe(201);
      expect(yen.body).toMatchObject({ amount: 1500, currency: 'JPY', withinDiscretion: 1000, overrun: 500 });
      expect(yen.body.headroom).toMatchObject({ currency: 'JPY', limits: { perCredit: 1000 } });
      const dinar = await postCredit(t, agent.token, creditBody({ amount: 1234, currency: 'KWD' }));
      expect(dinar.status).toBe(201);
      expect(dinar.body).toMatchObject({ amount: 1234, currency: 'KWD', unbudgeted: true, overrun: 1234 });
      const rows = await t.query(
        `SELECT currency, amount::int AS amount FROM postings WHERE entry_id = ANY($1) ORDER BY currency, amount`,
        [[yen.body.id, dinar.body.id]],
      );
      expect(rows).toEqual([
        { currency: 'JPY', amount: 500 },
        { currency: 'JPY', amount: 1000 },
        { currency: 'KWD', amount: 1234 },
      ]);
    });

    it('the 201 body is the credit: everything sent plus the server fields; Location points at it', async () => {
      const team = await createTeam(t);
      const member = await createUser(t, ['agent'], { roleId: openRole, teamId: team });
      const body = creditBody({ amount: 777, customerRef: 'CUST-1', note: 'Sorry about the wait', kind: 'voucher' });
      const res = await postCredit(t, member.token, body);
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`/v1/credits/${res.body.id}`);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        agentId: member.id,
        roleId: openRole,
        teamId: team,
        amount: 777,
        currency: 'EUR',
        kind: 'voucher',
        reasonCode: 'late_delivery',
        caseRef: body.caseRef,
        customerRef: 'CUST-1',
        channel: 'phone',
        note: 'Sorry about the wait',
        occurredAt: expect.any(String),
        recordedAt: expect.any(String),
        withinDiscretion: 777,
        overrun: 0,
        unbudgeted: false,
        limitsVersion: 1,
        bindingLimit: 'none',
        reversedBy: null,
        source: null,
        headroom: expect.any(Object),
      });
      const read = await t.as(member.token).get(`/v1/credits/${res.body.id}`);
      const credit = { ...res.body };
      delete credit.headroom;
      expect(read.body).toEqual(credit);
    });
  });

  describe('the split rule', () => {
    async function roleWith(limits: Limits & { currency?: string }) {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', ...limits }]);
      return roleId;
    }

    it('perCredit binds a single large credit; a credit at the limit fits exactly', async () => {
      const roleId = await roleWith({ perCredit: 2000 });
      const a = await createUser(t, ['agent'], { roleId });
      const over = await postCredit(t, a.token, creditBody({ amount: 2500 }));
      expect(over.body).toMatchObject({ withinDiscretion: 2000, overrun: 500, bindingLimit: 'perCredit' });
      const exact = await postCredit(t, a.token, creditBody({ amount: 2000 }));
      expect(exact.body).toMatchObject({ withinDiscretion: 2000, overrun: 0, bindingLimit: 'none' });
      const zero = await roleWith({ perCredit: 0 });
      const z = await createUser(t, ['agent'], { roleId: zero });
      const none = await postCredit(t, z.token, creditBody({ amount: 1 }));
      expect(none.body).toMatchObject({
        withinDiscretion: 0,
        overrun: 1,
        unbudgeted: false,
        bindingLimit: 'perCredit',
      });
    });

    it('perCase counts every agent on the case, and only that case and currency', async () => {
      const roleId = await roleWith({ perCase: 3000 });
      const a = await createUser(t, ['agent'], { roleId });
      const b = await createUser(t, ['agent'], { roleId });
      const caseRef = `SHARED-${randomUUID()}`;
      const first = await postCredit(t, a.token, creditBody({ amount: 2000, caseRef }));
      expect(first.body).toMatchObject({ withinDiscretion: 2000, overrun: 0, bindingLimit: 'none' });
      const second = await postCredit(t, b.token, creditBody({ amount: 2000, caseRef }));
      expect(second.body).toMatchObject({ withinDiscretion: 1000, overrun: 1000, bindingLimit: 'perCase' });
      const third = await postCredit(t, a.token, creditBody({ amount: 500, caseRef }));
      expect(third.body).toMatchObject({ withinDiscretion: 0, overrun: 500, bindingLimit: 'perCase' });
      // Another case, and the same case in another currency, start from nothing.
      const other = await postCredit(t, b.token, creditBody({ amount: 3000 }));
      expect(other.body).toMatchObject({ withinDiscretion: 3000, overrun: 0 });
      await setLimits(t, leader.token, roleId, [
        { currency: 'EUR', perCase: 3000 },
        { currency: 'USD', perCase: 3000 },
      ]);
      const usd = await postCredit(t, b.token, creditBody({ amount: 3000, caseRef, currency: 'USD' }));
      expect(usd.body).toMatchObject({ withinDiscretion: 3000, overrun: 0, currency: 'USD' });
      const [usage] = await t.query(
        `SELECT used::int AS used FROM usage_case WHERE case_ref = $1 AND currency = 'EUR'`,
        [caseRef],
      );
      expect(usage.used).toBe(4500);
    });

    it('perAgentDay binds within one day, per agent; another day starts again', async () => {
      const [day1, day2] = twoDaysInOneMonth();
      const roleId = await roleWith({ perAgentDay: 5000 });
      const a = await createUser(t, ['agent'], { roleId });
      const b = await createUser(t, ['agent'], { roleId });
      const at = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000).toISOString();
      const one = await postCredit(t, a.token, creditBody({ amount: 3000, occurredAt: at(day1, 0) }));
      expect(one.body).toMatchObject({ withinDiscretion: 3000, overrun: 0 });
      const two = await postCredit(t, a.token, creditBody({ amount: 3000, occurredAt: at(day1, 5) }));
      expect(two.body).toMatchObject({ withinDiscretion: 2000, overrun: 1000, bindingLimit: 'perAgentDay' });
      const three = await postCredit(t, a.token, creditBody({ amount: 100, occurredAt: at(day1, -300) }));
      expect(three.body).toMatchObject({ withinDiscretion: 0, overrun: 100, bindingLimit: 'perAgentDay' });
      const otherDay = await postCredit(t, a.token, creditBody({ amount: 3000, occurredAt: at(day2, 0) }));
      expect(otherDay.body).toMatchObject({ withinDiscretion: 3000, overrun: 0 });
      const otherAgent = await postCredit(t, b.token, creditBody({ amount: 5000, occurredAt: at(day1, 0) }));
      expect(otherAgent.body).toMatchObject({ withinDiscretion: 5000, overrun: 0 });
    });

    it('perAgentMonth binds across the days of one month', async () => {
      const [day1, day2] = twoDaysInOneMonth();
      const roleId = await roleWith({ perAgentDay: 5000, perAgentMonth: 7000 });
      const a = await createUser(t, ['agent'], { roleId });
      const first = await postCredit(t, a.token, creditBody({ amount: 4000, occurredAt: day2.toISOString() }));
      expect(first.body).toMatchObject({ withinDiscretion: 4000, overrun: 0 });
      const second = await postCredit(t, a.token, creditBody({ amount: 4000, occurredAt: day1.toISOString() }));
      expect(second.body).toMatchObject({ withinDiscretion: 3000, overrun: 1000, bindingLimit: 'perAgentMonth' });
      const third = await postCredit(t, a.token, creditBody({ amount: 1, occurredAt: day1.toISOString() }));
      expect(third.body).toMatchObject({ withinDiscretion: 0, overrun: 1, bindingLimit: 'perAgentMonth' });
    });

    it('a sequence over several cases and days follows the rule exactly, credit by credit', async () => {
      const [day1, day2] = twoDaysInOneMonth();
      const limits = { perCredit: 4000, perCase: 6000, perAgentDay: 9000, perAgentMonth: 15000 };
      const roleId = await roleWith(limits);
      const a = await createUser(t, ['agent'], { roleId });
      const b = await createUser(t, ['agent'], { roleId });
      const cases = [`SEQ-${randomUUID()}`, `SEQ-${randomUUID()}`, `SEQ-${randomUUID()}`];
      const plan: Array<[TestUser, number, number, Date]> = [
        [a, 0, 4500, day2],
        [a, 0, 2500, day2],
        [b, 0, 1500, day2],
        [a, 1, 3000, day2],
        [a, 1, 800, day2],
        [b, 1, 4000, day1],
        [a, 2, 3900, day1],
        [a, 2, 2200, day1],
        [a, 1, 1000, day1],
        [b, 2, 2500, day1],
        [a, 0, 700, day1],
        [a, 2, 50, day1],
      ];
      const caseUsed = new Map<string, number>();
      const dayUsed = new Map<string, number>();
      const monthUsed = new Map<string, number>();
      let minute = 0;
      for (const [who, c, amount, day] of plan) {
        const caseRef = cases[c];
        const dayKey = `${who.id}:${day.toISOString().slice(0, 10)}`;
        const used = {
          caseUsed: caseUsed.get(caseRef) ?? 0,
          day: dayUsed.get(dayKey) ?? 0,
          month: monthUsed.get(who.id) ?? 0,
        };
        const expected = designSplit(amount, limits, used);
        const occurredAt = new Date(day.getTime() + minute++ * 60_000).toISOString();
        const res = await postCredit(t, who.token, creditBody({ amount, caseRef, occurredAt }));
        expect(res.status).toBe(201);
        expect({ step: minute, within: res.body.withinDiscretion, overrun: res.body.overrun }).toEqual({
          step: minute,
          within: expected.within,
          overrun: expected.overrun,
        });
        if (expected.overrun > 0) expect(expected.binding).toContain(res.body.bindingLimit);
        else expect(res.body.bindingLimit).toBe('none');
        caseUsed.set(caseRef, used.caseUsed + amount);
        dayUsed.set(dayKey, used.day + amount);
        monthUsed.set(who.id, used.month + amount);
      }
      // The plan is meant to make every limit bind at least once.
      const [bound] = await t.query<{ keys: string[] }>(
        `SELECT array_agg(DISTINCT binding_limit ORDER BY binding_limit) AS keys FROM credits WHERE case_ref = ANY($1)`,
        [cases],
      );
      expect(bound.keys).toEqual(['none', 'perAgentDay', 'perAgentMonth', 'perCase', 'perCredit']);
    });

    it('unbudgeted: a role without limits for the currency, and an agent without a role', async () => {
      const roleId = await roleWith({ perCredit: 5000 });
      const team = await createTeam(t);
      const a = await createUser(t, ['agent'], { roleId, teamId: team });
      const usd = await postCredit(t, a.token, creditBody({ amount: 1200, currency: 'USD' }));
      expect(usd.status).toBe(201);
      expect(usd.body).toMatchObject({
        roleId,
        teamId: team,
        limitsVersion: 1,
        withinDiscretion: 0,
        overrun: 1200,
        unbudgeted: true,
        bindingLimit: null,
      });
      expect(usd.body.headroom).toMatchObject({ currency: 'USD', unbudgeted: true, limits: null, available: 0 });

      const roleless = await createUser(t, ['agent'], { teamId: team });
      const eur = await postCredit(t, roleless.token, creditBody({ amount: 800 }));
      expect(eur.status).toBe(201);
      expect(eur.body).toMatchObject({
        roleId: null,
        teamId: team,
        limitsVersion: null,
        withinDiscretion: 0,
        overrun: 800,
        unbudgeted: true,
        bindingLimit: null,
      });
      // The whole amount is posted as cost of doing business.
      const lines = await t.query(
        `SELECT debit_account, credit_account, amount::int AS amount FROM postings WHERE entry_id = $1`,
        [eur.body.id],
      );
      expect(lines).toEqual([
        { debit_account: 'goodwill:cost-of-doing-business', credit_account: 'remedies:owed', amount: 800 },
      ]);
    });

    it('a credit keeps the role, team and limits version it was logged under', async () => {
      const roleA = await roleWith({ perCredit: 1000 });
      const roleB = await roleWith({ perCredit: 9000 });
      await setLimits(t, leader.token, roleB, [{ currency: 'EUR', perCredit: 8000 }]);
      const teamA = await createTeam(t);
      const teamB = await createTeam(t);
      const a = await createUser(t, ['agent'], { roleId: roleA, teamId: teamA });
      const first = await postCredit(t, a.token, creditBody({ amount: 1500 }));
      expect(first.body).toMatchObject({ roleId: roleA, teamId: teamA, limitsVersion: 1, withinDiscretion: 1000 });

      await setLimits(t, leader.token, roleA, [{ currency: 'EUR', perCredit: 3000 }]);
      const moved = await admin().patch(`/v1/users/${a.id}`, { roleId: roleB, teamId: teamB });
      expect(moved.status).toBe(200);

      const again = await t.as(a.token).get(`/v1/credits/${first.body.id}`);
      expect(again.body).toMatchObject({
        roleId: roleA,
        teamId: teamA,
        limitsVersion: 1,
        withinDiscretion: 1000,
        overrun: 500,
        bindingLimit: 'perCredit',
      });
      const second = await postCredit(t, a.token, creditBody({ amount: 8500 }));
      expect(second.body).toMatchObject({ roleId: roleB, teamId: teamB, limitsVersion: 2, withinDiscretion: 8000 });

      const removed = await admin().patch(`/v1/users/${a.id}`, { roleId: null, teamId: null });
      expect(removed.status).toBe(200);
      const third = await postCredit(t, a.token, creditBody({ amount: 10 }));
      expect(third.body).toMatchObject({ roleId: null, teamId: null, limitsVersion: null, unbudgeted: true });
      const stored = await t.query(
        `SELECT role_id, team_id, limits_version FROM credits WHERE agent_id = $1 ORDER BY recorded_at`,
        [a.id],
      );
      expect(stored).toEqual([
        { role_id: roleA, team_id: teamA, limits_version: 1 },
        { role_id: roleB, team_id: teamB, limits_version: 2 },
        { role_id: null, team_id: null, limits_version: null },
      ]);
    });
  });

  describe('headroom', () => {
    it('the headroom in the 201 body equals GET /v1/me/headroom right afterwards', async () => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [
        { currency: 'EUR', perCredit: 5000, perCase: 6000, perAgentDay: 8000, perAgentMonth: 30000 },
      ]);
      const a = await createUser(t, ['agent'], { roleId });
      const caseRef = `HR-${randomUUID()}`;
      const first = await postCredit(t, a.token, creditBody({ amount: 3000, caseRef }));
      const second = await postCredit(t, a.token, creditBody({ amount: 2000, caseRef }));
      expect(first.status).toBe(201);
      expect(second.body.headroom).toEqual({
        currency: 'EUR',
        unbudgeted: false,
        limitsVersion: 1,
        limits: { perCredit: 5000, perCase: 6000, perAgentDay: 8000, perAgentMonth: 30000 },
        caseRef,
        used: { case: 5000, day: 5000, month: 5000 },
        remaining: { perCredit: 5000, perCase: 1000, perAgentDay: 3000, perAgentMonth: 25000 },
        available: 1000,
      });
      const read = await t.as(a.token).get(`/v1/me/headroom?currency=EUR&caseRef=${encodeURIComponent(caseRef)}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ data: [second.body.headroom] });
    });

    it('a back-dated credit: the headroom in the 201 body is still what can be given now, as GET shows', async () => {
      // DESIGN.md: headroom is "what an agent can still give within discretion now", and the 201 body carries the
      // headroom after this credit. A credit that happened yesterday uses up yesterday's day window, not today's.
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perAgentDay: 5000, perAgentMonth: 100000 }]);
      const a = await createUser(t, ['agent'], { roleId });
      const [yesterday] = twoDaysInOneMonth();
      const res = await postCredit(t, a.token, creditBody({ amount: 5000, occurredAt: yesterday.toISOString() }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ withinDiscretion: 5000, overrun: 0 });
      const read = await t.as(a.token).get(`/v1/me/headroom?currency=EUR&caseRef=${res.body.caseRef}`);
      expect(read.body.data[0]).toMatchObject({ used: { case: 5000, day: 0 }, remaining: { perAgentDay: 5000 } });
      expect(res.body.headroom).toEqual(read.body.data[0]);
    });

    it('shows limits, used and remaining, with null where no limit applies', async () => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [
        { currency: 'EUR', perCredit: 5000, perAgentDay: 8000 },
        { currency: 'GBP', perCase: 4000 },
      ]);
      const a = await createUser(t, ['agent'], { roleId });
      const caseRef = `HR-${randomUUID()}`;
      expect((await postCredit(t, a.token, creditBody({ amount: 3000, caseRef }))).status).toBe(201);
      expect((await postCredit(t, a.token, creditBody({ amount: 700, currency: 'CHF' }))).status).toBe(201);

      const withCase = await t.as(a.token).get(`/v1/me/headroom?currency=EUR&caseRef=${caseRef}`);
      expect(withCase.body.data).toEqual([
        {
          currency: 'EUR',
          unbudgeted: false,
          limitsVersion: 1,
          limits: { perCredit: 5000, perCase: null, perAgentDay: 8000, perAgentMonth: null },
          caseRef,
          used: { case: 3000, day: 3000, month: 3000 },
          remaining: { perCredit: 5000, perCase: null, perAgentDay: 5000, perAgentMonth: null },
          available: 5000,
        },
      ]);
      const withoutCase = await t.as(a.token).get('/v1/me/headroom?currency=EUR');
      expect(withoutCase.body.data[0]).toMatchObject({ caseRef: null, used: { case: null, day: 3000, month: 3000 } });

      // Without a currency: every currency with limits or spending this month.
      const all = await t.as(a.token).get('/v1/me/headroom');
      expect(all.body.data.map((h: { currency: string }) => h.currency)).toEqual(['CHF', 'EUR', 'GBP']);
      const [chf, , gbp] = all.body.data;
      expect(chf).toMatchObject({ unbudgeted: true, limits: null, used: { day: 700, month: 700 }, available: 0 });
      expect(gbp).toMatchObject({
        unbudgeted: false,
        limits: { perCredit: null, perCase: 4000, perAgentDay: null, perAgentMonth: null },
        used: { case: null, day: 0, month: 0 },
        remaining: { perCredit: null, perCase: 4000, perAgentDay: null, perAgentMonth: null },
        available: 4000,
      });
      // A case another agent spent on shows their spending too.
      const b = await createUser(t, ['agent'], { roleId });
      const theirs = await t.as(b.token).get(`/v1/me/headroom?currency=EUR&caseRef=${caseRef}`);
      expect(theirs.body.data[0].used).toEqual({ case: 3000, day: 0, month: 0 });
    });

    it('validates its query and is for agents only', async () => {
      const a = await createUser(t, ['agent']);
      expectFieldError(await t.as(a.token).get('/v1/me/headroom?currency=eur'), 'currency');
      expectFieldError(await t.as(a.token).get(`/v1/me/headroom?caseRef=${'x'.repeat(101)}`), 'caseRef');
      expectFieldError(await t.as(a.token).get('/v1/me/headroom?agentId=x'), 'agentId');
      expect((await t.as(leader.token).get('/v1/me/headroom')).status).toBe(403);
      expect((await admin().get('/v1/me/headroom')).status).toBe(403);
    });
  });

  describe('idempotent replay after the world moved on', () => {
    it('replays the first body byte for byte after a reversal and a limits change, and changes nothing', async () => {
      const roleId = await createRole(t);
      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 1000 }]);
      const a = await createUser(t, ['agent'], { roleId });
      const key = `retry-${randomUUID()}`;
      const body = creditBody({ amount: 1500 });
      const first = await postCredit(t, a.token, body, key);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ withinDiscretion: 1000, overrun: 500 });

      await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 5000 }]);
      const reversed = await t.as(a.token).post(`/v1/credits/${first.body.id}/reversal`, { reason: 'typo' });
      expect(reversed.status).toBe(201);

      const before = await snapshot();
      const again = await postCredit(t, a.token, body, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(`/v1/credits/${first.body.id}`);
      expect(again.text).toBe(first.text);
      const other = await postCredit(t, a.token, { ...body, note: 'now with a note' }, key);
      expect(other.status).toBe(422);
      expect(String(other.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(await snapshot()).toEqual(before);
      expect(await t.query(`SELECT count(*)::int AS n FROM credits WHERE agent_id = $1`, [a.id])).toEqual([{ n: 1 }]);
    });

    it('a retry of a credit logged at the edge of the 7-day window replays it, even once the edge has passed', async () => {
      // The IETF Idempotency-Key draft: the same key and body replay the first response. The credit exists;
      // answering the retry with a 400 would tell the client it was never logged.
      const key = `edge-${randomUUID()}`;
      const body = creditBody({ amount: 321, occurredAt: new Date(Date.now() - 7 * DAY_MS + 3000).toISOString() });
      const first = await postCredit(t, agent.token, body, key);
      expect(first.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const retry = await postCredit(t, agent.token, body, key);
      expect({ status: retry.status, replayed: retry.headers['idempotent-replayed'] }).toEqual({
        status: 201,
        replayed: 'true',
      });
      expect(retry.text).toBe(first.text);
    });

    it('a key whose request was refused is not used up', async () => {
      const key = `refused-${randomUUID()}`;
      const bad = await postCredit(t, agent.token, creditBody({ amount: 0 }), key);
      expect(bad.status).toBe(400);
      const tooOld = await postCredit(
        t,
        agent.token,
        creditBody({ occurredAt: new Date(Date.now() - 8 * DAY_MS).toISOString() }),
        key,
      );
      expect(tooOld.status).toBe(400);
      const good = await postCredit(t, agent.token, creditBody({ amount: 5 }), key);
      expect(good.status).toBe(201);
      expect(good.headers['idempotent-replayed']).toBeUndefined();
    });
  });
});

describe('local days follow LEEWAY_TIMEZONE (e2e)', () => {
  const ZONE = 'Asia/Tokyo';
  let t: TestApp;
  let leader: TestUser;
  let roleId: string;

  beforeAll(async () => {
    t = await TestApp.start({ timezone: ZONE });
    leader = await createUser(t, ['leader']);
    roleId = await createRole(t);
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perAgentDay: 1000 }]);
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The instant of local midnight starting the local day `daysAgo` days before today in ZONE. */
  async function localMidnight(daysAgo: number): Promise<{ at: Date; day: string }> {
    const [row] = await t.query<{ at: Date; day: string }>(
      `SELECT (((now() AT TIME ZONE $1)::date - $2::int)::timestamp AT TIME ZONE $1) AS at,
              ((now() AT TIME ZONE $1)::date - $2::int)::text AS day`,
      [ZONE, daysAgo],
    );
    return row;
  }

  it('the service runs with the configured zone', () => {
    expect(t.config.timezone).toBe(ZONE);
  });

  it('two credits a minute either side of local midnight land on different days', async () => {
    const { at, day } = await localMidnight(2);
    const a = await createUser(t, ['agent'], { roleId });
    const before = new Date(at.getTime() - 60_000).toISOString();
    const after = new Date(at.getTime() + 60_000).toISOString();
    const late = await postCredit(t, a.token, creditBody({ amount: 1000, occurredAt: before }));
    const early = await postCredit(t, a.token, creditBody({ amount: 1000, occurredAt: after }));
    expect(late.body).toMatchObject({ withinDiscretion: 1000, overrun: 0 });
    expect(early.body).toMatchObject({ withinDiscretion: 1000, overrun: 0 });
    const days = await t.query(
      `SELECT day::text AS day, used::int AS used FROM usage_agent_day WHERE agent_id = $1 ORDER BY day`,
      [a.id],
    );
    const previous = addDays(day, -1);
    expect(days).toEqual([
      { day: previous, used: 1000 },
      { day, used: 1000 },
    ]);
    const stored = await t.query(`SELECT local_day::text AS d FROM credits WHERE agent_id = $1 ORDER BY occurred_at`, [
      a.id,
    ]);
    expect(stored).toEqual([{ d: previous }, { d: day }]);
  });

  it('headroom counts today as the local day in the configured zone', async () => {
    const a = await createUser(t, ['agent'], { roleId });
    const res = await postCredit(t, a.token, creditBody({ amount: 400 }));
    expect(res.status).toBe(201);
    const [today] = await t.query<{ day: string }>(`SELECT (now() AT TIME ZONE $1)::date::text AS day`, [ZONE]);
    const [stored] = await t.query(`SELECT local_day::text AS day FROM credits WHERE id = $1`, [res.body.id]);
    expect(stored).toEqual({ day: today.day });
    const headroom = await t.as(a.token).get('/v1/me/headroom?currency=EUR');
    expect(headroom.body.data[0]).toMatchObject({ used: { day: 400 }, remaining: { perAgentDay: 600 } });
  });

  it('two credits either side of UTC midnight, inside one local day, share that day', async () => {
    const { at, day } = await localMidnight(2);
    // In Tokyo (UTC+9) UTC midnight falls at 09:00 local time.
    const utcMidnight = new Date(at.getTime() + 9 * 3600 * 1000);
    expect(utcMidnight.toISOString()).toMatch(/T00:00:00\.000Z$/);
    const a = await createUser(t, ['agent'], { roleId });
    const first = await postCredit(
      t,
      a.token,
      creditBody({ amount: 1000, occurredAt: new Date(utcMidnight.getTime() - 60_000).toISOString() }),
    );
    const second = await postCredit(
      t,
      a.token,
      creditBody({ amount: 1000, occurredAt: new Date(utcMidnight.getTime() + 60_000).toISOString() }),
    );
    expect(first.body).toMatchObject({ withinDiscretion: 1000, overrun: 0 });
    expect(second.body).toMatchObject({ withinDiscretion: 0, overrun: 1000, bindingLimit: 'perAgentDay' });
    const days = await t.query(`SELECT day::text AS day, used::int AS used FROM usage_agent_day WHERE agent_id = $1`, [
      a.id,
    ]);
    expect(days).toEqual([{ day, used: 2000 }]);
  });
});
