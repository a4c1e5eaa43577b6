import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { ADMIN_TOKEN, TestApp } from './support/app';
import { expectProblem } from './support/problems';

const WITHIN = 'goodwill:within-discretion';
const OVERRUN = 'goodwill:cost-of-doing-business';
const OWED = 'remedies:owed';

describe('POST /v1/credits/:id/reversal (e2e)', () => {
  let t: TestApp;
  let leader: TestUser;
  let finance: TestUser;
  let auditor: TestUser;
  let roleId: string;

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    auditor = await createUser(t, ['auditor']);
    roleId = await createRole(t);
    await setLimits(t, leader.token, roleId, [
      { currency: 'EUR', perCredit: 3000, perCase: 5000, perAgentDay: 5000 },
      { currency: 'DKK', perCredit: 3000 },
    ]);
  });

  afterAll(async () => {
    await t?.close();
  });

  const agentInRole = () => createUser(t, ['agent'], { roleId });

  async function logCredit(who: TestUser, overrides: Record<string, unknown> = {}) {
    const res = await postCredit(t, who.token, creditBody(overrides));
    expect(res.status).toBe(201);
    return res.body;
  }

  async function reversalsOf(creditId: string) {
    return t.query<{ reversed_by: string; reason: string }>(
      `SELECT reversed_by, reason FROM credit_reversals WHERE credit_id = $1`,
      [creditId],
    );
  }

  async function postingCount(): Promise<number> {
    const [row] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM postings`);
    return row.n;
  }

  /** Moves a credit's recorded time into the past. The append-only trigger is lifted for this one statement only. */
  async function ageCredit(creditId: string, hours: number) {
    await t.dataSource.transaction(async (m) => {
      await m.query(`ALTER TABLE credits DISABLE TRIGGER credits_append_only`);
      await m.query(`UPDATE credits SET recorded_at = now() - make_interval(hours => $2) WHERE id = $1`, [
        creditId,
        hours,
      ]);
      await m.query(`ALTER TABLE credits ENABLE TRIGGER credits_append_only`);
    });
    const [trigger] = await t.query<{ enabled: string }>(
      `SELECT tgenabled AS enabled FROM pg_trigger WHERE tgname = 'credits_append_only'`,
    );
    expect(trigger.enabled).toBe('O');
  }

  it('the owning agent reverses within the window: 201 with reversedBy, and GET shows it', async () => {
    const agent = await agentInRole();
    const credit = await logCredit(agent, { amount: 1200 });
    const before = Date.now();
    const res = await t
      .as(agent.token)
      .post(`/v1/credits/${credit.id}/reversal`, { reason: 'Logged on the wrong case' });
    expect(res.status).toBe(201);
    const logged = { ...credit };
    delete logged.headroom;
    expect(res.body).toEqual({
      ...logged,
      reversedBy: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        by: agent.id,
        reason: 'Logged on the wrong case',
        recordedAt: expect.any(String),
      },
    });
    expect(Date.parse(res.body.reversedBy.recordedAt)).toBeGreaterThanOrEqual(before - 5000);
    const read = await t.as(agent.token).get(`/v1/credits/${credit.id}`);
    expect(read.status).toBe(200);
    expect(read.body.reversedBy).toEqual(res.body.reversedBy);
    const listed = await t.as(agent.token).get('/v1/credits');
    expect(listed.body.data.find((c: { id: string }) => c.id === credit.id).reversedBy).toEqual(res.body.reversedBy);
    // The credit itself is unchanged: a reversal is a new entry.
    const [row] = await t.query(
      `SELECT amount::int AS amount, within_discretion::int AS within FROM credits WHERE id = $1`,
      [credit.id],
    );
    expect(row).toEqual({ amount: 1200, within: 1200 });
  });

  it('another agent gets 404; leader, auditor and admin get 403; the credit stays unreversed', async () => {
    const owner = await agentInRole();
    const other = await agentInRole();
    const credit = await logCredit(owner);
    const postingsBefore = await postingCount();
    expectProblem(await t.as(other.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'not mine' }), 404);
    for (const token of [leader.token, auditor.token, ADMIN_TOKEN]) {
      expectProblem(await t.as(token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'no access' }), 403);
    }
    expectProblem(await t.as(owner.token).post(`/v1/credits/${randomUUID()}/reversal`, { reason: 'gone' }), 404);
    expect(await reversalsOf(credit.id)).toEqual([]);
    expect(await postingCount()).toBe(postingsBefore);
  });

  it('finance reverses any agent’s credit as a correction, also long after the window', async () => {
    const owner = await agentInRole();
    const recent = await logCredit(owner, { amount: 900 });
    const res = await t.as(finance.token).post(`/v1/credits/${recent.id}/reversal`, { reason: 'Duplicate entry' });
    expect(res.status).toBe(201);
    expect(res.body.reversedBy).toMatchObject({ by: finance.id, reason: 'Duplicate entry' });
    expect(await reversalsOf(recent.id)).toEqual([{ reversed_by: finance.id, reason: 'Duplicate entry' }]);

    const old = await logCredit(owner, { amount: 400 });
    await ageCredit(old.id, 24 * 30);
    const late = await t.as(finance.token).post(`/v1/credits/${old.id}/reversal`, { reason: 'Month-end correction' });
    expect(late.status).toBe(201);
    expect(late.body.reversedBy.by).toBe(finance.id);
  });

  it('the agent may reverse until LEEWAY_REVERSAL_WINDOW_HOURS (72) have passed, not after', async () => {
    expect(t.config.reversalWindowHours).toBe(72);
    const agent = await agentInRole();
    const inside = await logCredit(agent);
    const outside = await logCredit(agent);
    await ageCredit(inside.id, 71);
    await ageCredit(outside.id, 73);
    const ok = await t.as(agent.token).post(`/v1/credits/${inside.id}/reversal`, { reason: 'Customer declined' });
    expect(ok.status).toBe(201);
    const postingsBefore = await postingCount();
    const closed = await t.as(agent.token).post(`/v1/credits/${outside.id}/reversal`, { reason: 'Customer declined' });
    expectProblem(closed, 403, 'reversal-window-closed');
    expect(closed.body.detail).toMatch(/72 hours/);
    expect(await reversalsOf(outside.id)).toEqual([]);
    expect(await postingCount()).toBe(postingsBefore);
    // Finance can still correct it.
    expect(
      (await t.as(finance.token).post(`/v1/credits/${outside.id}/reversal`, { reason: 'Correction' })).status,
    ).toBe(201);
  });

  it.each([
    ['no body fields', {}, 'reason'],
    ['an empty reason', { reason: '' }, 'reason'],
    ['a reason over 500 characters', { reason: 'r'.repeat(501) }, 'reason'],
    ['a reason that is not a string', { reason: 42 }, 'reason'],
    ['a reason with control characters', { reason: 'bad\u0007bell' }, 'reason'],
    ['an unknown field', { reason: 'ok', amount: 100 }, 'amount'],
  ])('%s → 400 naming the field; nothing changes', async (_what, body, field) => {
    const agent = await agentInRole();
    const credit = await logCredit(agent);
    const postingsBefore = await postingCount();
    const res = await t.as(agent.token).post(`/v1/credits/${credit.id}/reversal`, body);
    expectProblem(res, 400, 'validation');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await reversalsOf(credit.id)).toEqual([]);
    expect(await postingCount()).toBe(postingsBefore);
  });

  it('a second reversal → 409, by the agent or by finance; one reversal stays', async () => {
    const agent = await agentInRole();
    const credit = await logCredit(agent);
    expect((await t.as(agent.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'first' })).status).toBe(201);
    const postingsBefore = await postingCount();
    expectProblem(
      await t.as(agent.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'second' }),
      409,
      'already-reversed',
    );
    expectProblem(
      await t.as(finance.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'third' }),
      409,
      'already-reversed',
    );
    expect(await reversalsOf(credit.id)).toEqual([{ reversed_by: agent.id, reason: 'first' }]);
    expect(await postingCount()).toBe(postingsBefore);
  });

  it('simultaneous reversals of one credit: exactly one succeeds, the rest 409, the windows get the amount back once', async () => {
    const agent = await agentInRole();
    const caseRef = `RACE-${randomUUID()}`;
    const credit = await logCredit(agent, { amount: 2500, caseRef });
    const keep = await logCredit(agent, { amount: 1000, caseRef });
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.as(i % 2 ? finance.token : agent.token).post(`/v1/credits/${credit.id}/reversal`, { reason: `try ${i}` }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(11).fill(409)]);
    expect(await reversalsOf(credit.id)).toHaveLength(1);
    const [lines] = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM postings p JOIN credit_reversals r ON r.id = p.entry_id WHERE r.credit_id = $1`,
      [credit.id],
    );
    expect(lines.n).toBe(1);
    const [usage] = await t.query(
      `SELECT (SELECT used::int FROM usage_case WHERE case_ref = $1 AND currency = 'EUR') AS case_used,
              (SELECT sum(used)::int FROM usage_agent_day WHERE agent_id = $2 AND currency = 'EUR') AS day_used,
              (SELECT sum(used)::int FROM usage_agent_month WHERE agent_id = $2 AND currency = 'EUR') AS month_used`,
      [caseRef, agent.id],
    );
    expect(usage).toEqual({ case_used: keep.amount, day_used: keep.amount, month_used: keep.amount });
  });

  it('posts the opposite lines: the credit’s accounts return to zero', async () => {
    const agent = await agentInRole();
    const balances = async () => {
      // Live balances are the auditors' (finance reads them as at the last close).
      const res = await t.as(auditor.token).get('/v1/ledger/balances?currency=DKK');
      expect(res.status).toBe(200);
      return Object.fromEntries(res.body.data.map((b: { account: string; balance: number }) => [b.account, b.balance]));
    };
    const start = await balances();
    const at = (account: string) => (start[account] ?? 0) as number;
    const credit = await logCredit(agent, { amount: 4000, currency: 'DKK' });
    expect(credit).toMatchObject({ withinDiscretion: 3000, overrun: 1000 });
    expect(await balances()).toEqual({
      [WITHIN]: at(WITHIN) + 3000,
      [OVERRUN]: at(OVERRUN) + 1000,
      [OWED]: at(OWED) - 4000,
    });

    const res = await t.as(agent.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'Wrong currency' });
    expect(res.status).toBe(201);
    const lines = await t.query(
      `SELECT entry_kind, debit_account, credit_account, amount::int AS amount, currency FROM postings
        WHERE entry_id = ANY($1) ORDER BY entry_kind, debit_account, credit_account`,
      [[credit.id, res.body.reversedBy.id]],
    );
    expect(lines).toEqual([
      { entry_kind: 'credit', debit_account: OVERRUN, credit_account: OWED, amount: 1000, currency: 'DKK' },
      { entry_kind: 'credit', debit_account: WITHIN, credit_account: OWED, amount: 3000, currency: 'DKK' },
      { entry_kind: 'reversal', debit_account: OWED, credit_account: OVERRUN, amount: 1000, currency: 'DKK' },
      { entry_kind: 'reversal', debit_account: OWED, credit_account: WITHIN, amount: 3000, currency: 'DKK' },
    ]);
    const after = await balances();
    expect(after[WITHIN]).toBe(at(WITHIN));
    expect(after[OVERRUN]).toBe(at(OVERRUN));
    expect(after[OWED]).toBe(at(OWED));
    expect(after[WITHIN] + after[OVERRUN] + after[OWED]).toBe(0);
  });

  it('gives the whole amount back to the windows it used; later credits fit again; others are not re-split', async () => {
    const agent = await agentInRole();
    const caseRef = `REV-${randomUUID()}`;
    const first = await logCredit(agent, { amount: 3000, caseRef });
    const second = await logCredit(agent, { amount: 3000, caseRef });
    expect(first).toMatchObject({ withinDiscretion: 3000, overrun: 0 });
    expect(second).toMatchObject({ withinDiscretion: 2000, overrun: 1000 });
    const full = await t.as(agent.token).get(`/v1/me/headroom?currency=EUR&caseRef=${caseRef}`);
    expect(full.body.data[0]).toMatchObject({
      used: { case: 6000, day: 6000, month: 6000 },
      remaining: { perCase: 0, perAgentDay: 0 },
      available: 0,
    });

    // Reversing the credit that had an overrun gives back its whole amount, not only its within part.
    const res = await t.as(agent.token).post(`/v1/credits/${second.id}/reversal`, { reason: 'Customer declined' });
    expect(res.status).toBe(201);
    const restored = await t.as(agent.token).get(`/v1/me/headroom?currency=EUR&caseRef=${caseRef}`);
    expect(restored.body.data[0]).toMatchObject({
      used: { case: 3000, day: 3000, month: 3000 },
      remaining: { perCredit: 3000, perCase: 2000, perAgentDay: 2000 },
      available: 2000,
    });
    // The remaining credit keeps its split.
    const kept = await t.as(agent.token).get(`/v1/credits/${first.id}`);
    expect(kept.body).toMatchObject({ withinDiscretion: 3000, overrun: 0, reversedBy: null });

    const again = await logCredit(agent, { amount: 2000, caseRef });
    expect(again).toMatchObject({ withinDiscretion: 2000, overrun: 0, bindingLimit: 'none' });
    expect(again.headroom).toMatchObject({ used: { case: 5000, day: 5000, month: 5000 } });
  });

  it('a reversal by finance gives the amount back to the agent’s windows too', async () => {
    const agent = await agentInRole();
    const credit = await logCredit(agent, { amount: 3000 });
    expect((await t.as(finance.token).post(`/v1/credits/${credit.id}/reversal`, { reason: 'Fix' })).status).toBe(201);
    const headroom = await t.as(agent.token).get('/v1/me/headroom?currency=EUR');
    expect(headroom.body.data[0]).toMatchObject({ used: { day: 0, month: 0 }, remaining: { perAgentDay: 5000 } });
  });

  it('writes a reversal event to the audit log, with who, what and why', async () => {
    const agent = await agentInRole();
    const own = await logCredit(agent);
    const other = await logCredit(agent);
    const a = await t.as(agent.token).post(`/v1/credits/${own.id}/reversal`, { reason: 'Own mistake' });
    const f = await t.as(finance.token).post(`/v1/credits/${other.id}/reversal`, { reason: 'Correction' });
    const audit = await t.as(ADMIN_TOKEN).get('/v1/audit?action=credit.reversed&limit=200');
    expect(audit.status).toBe(200);
    const byCredit = (id: string) => audit.body.data.filter((e: { subjectId: string }) => e.subjectId === id);
    expect(byCredit(own.id)).toEqual([
      {
        id: expect.any(String),
        at: expect.any(String),
        actorId: agent.id,
        action: 'credit.reversed',
        subjectType: 'credit',
        subjectId: own.id,
        details: expect.objectContaining({ reversalId: a.body.reversedBy.id, reason: 'Own mistake', asFinance: false }),
      },
    ]);
    expect(byCredit(other.id)).toEqual([
      expect.objectContaining({
        actorId: finance.id,
        details: expect.objectContaining({ reversalId: f.body.reversedBy.id, reason: 'Correction', asFinance: true }),
      }),
    ]);
  });
});

describe('reversal window of 0 hours (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let agent: TestUser;

  beforeAll(async () => {
    t = await TestApp.start({ reversalWindowHours: 0 });
    finance = await createUser(t, ['finance']);
    agent = await createUser(t, ['agent']);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('the agent can no longer reverse at all; finance still can', async () => {
    const credit = await postCredit(t, agent.token, creditBody());
    expect(credit.status).toBe(201);
    const closed = await t.as(agent.token).post(`/v1/credits/${credit.body.id}/reversal`, { reason: 'Too late' });
    expectProblem(closed, 403, 'reversal-window-closed');
    expect(await t.query(`SELECT 1 FROM credit_reversals WHERE credit_id = $1`, [credit.body.id])).toHaveLength(0);
    const corrected = await t
      .as(finance.token)
      .post(`/v1/credits/${credit.body.id}/reversal`, { reason: 'Correction' });
    expect(corrected.status).toBe(201);
    expect(corrected.body.reversedBy.by).toBe(finance.id);
  });
});
