import { randomUUID } from 'node:crypto';
import { checkInvariants } from '../src/ledger/invariants';
import { TestApp } from './support/app';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { expectProblem } from './support/problems';

/**
 * A program (a helpdesk, a shop) logging credits for agents it names by externalRef: the same
 * split, limits and idempotency as the agent's own credits, a source on the credit, an answer with
 * nothing about the agent's discretion, and no way to read anything.
 */
describe('integrations: credits logged on behalf of agents (e2e)', () => {
  let t: TestApp;
  let leader: TestUser;
  let agent: TestUser;
  let helpdesk: TestUser;
  let roleId: string;
  const agentRef = `agent-${randomUUID().slice(0, 8)}`;

  const ledger = async () =>
    (
      await t.query<{ credits: number; postings: number; keys: number }>(
        `SELECT (SELECT count(*)::int FROM credits) AS credits, (SELECT count(*)::int FROM postings) AS postings,
                (SELECT count(*)::int FROM idempotency_keys) AS keys`,
      )
    )[0];

  beforeAll(async () => {
    t = await TestApp.start();
    roleId = await createRole(t);
    const teamId = await createTeam(t);
    leader = await createUser(t, ['leader']);
    agent = await createUser(t, ['agent'], { roleId, teamId });
    expect((await t.request('PATCH', `/v1/users/${agent.id}`, { body: { externalRef: agentRef } })).status).toBe(200);
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 5000, perAgentDay: 8000 }]);
    helpdesk = await createUser(t, ['integration'], { displayName: 'Helpdesk' });
  });

  afterAll(() => t.close());

  it('holds integration alone: it cannot be combined with another access level', async () => {
    for (const access of [
      ['integration', 'agent'],
      ['admin', 'integration'],
    ]) {
      const res = await t.request('POST', '/v1/users', { body: { displayName: 'Mixed', access } });
      expectProblem(res, 400, 'validation');
      expect(res.body.errors).toEqual([
        { field: 'access', message: 'access may hold integration only on its own (a program holds no other level)' },
      ]);
    }
    const patched = await t.request('PATCH', `/v1/users/${helpdesk.id}`, {
      body: { access: ['integration', 'leader'] },
    });
    expectProblem(patched, 400, 'validation');
    // A person's account never becomes a program's, nor the other way round (sessions are people's).
    const becomes = await t.request('PATCH', `/v1/users/${leader.id}`, { body: { access: ['integration'] } });
    expectProblem(becomes, 400, 'validation');
    expect(becomes.body.errors[0].field).toBe('access');
    expectProblem(
      await t.request('PATCH', `/v1/users/${helpdesk.id}`, { body: { access: ['agent'] } }),
      400,
      'validation',
    );
    const [row] = await t.query<{ access: string[] }>(`SELECT access FROM users WHERE id = $1`, [helpdesk.id]);
    expect(row.access).toEqual(['integration']);
  });

  it("logs a credit for the agent named by agentRef, split by the agent's limits, with its source", async () => {
    const key = `zd-refund-${randomUUID()}`;
    const body = { ...creditBody({ amount: 7000, caseRef: 'CASE-INT-1', customerRef: 'CUST-7' }), agentRef };
    const res = await postCredit(t, helpdesk.token, body, key);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/credits/${res.body.id}`);
    // The answer: the credit and its source, nothing about the agent's discretion.
    expect(res.body).toEqual({
      id: expect.any(String),
      agentRef,
      amount: 7000,
      currency: 'EUR',
      kind: 'refund',
      reasonCode: 'late_delivery',
      caseRef: 'CASE-INT-1',
      customerRef: 'CUST-7',
      channel: 'phone',
      note: null,
      occurredAt: expect.any(String),
      recordedAt: expect.any(String),
      source: { system: 'Helpdesk', externalId: key },
    });
    // The agent sees it as their own, split exactly as if they had logged it.
    const own = await t.as(agent.token).get(`/v1/credits/${res.body.id}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      agentId: agent.id,
      roleId,
      withinDiscretion: 5000,
      overrun: 2000,
      bindingLimit: 'perCredit',
      source: { system: 'Helpdesk', externalId: key },
    });
    // It used the agent's day: their own next credit has 1,000 left within discretion.
    const next = await postCredit(t, agent.token, creditBody({ amount: 3000 }));
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({
      withinDiscretion: 1000,
      overrun: 2000,
      bindingLimit: 'perAgentDay',
      source: null,
    });
    // An event for the commerce system, with the source and without the split.
    const [event] = await t.query<{ data: Record<string, unknown> }>(
      `SELECT data FROM events WHERE type = 'credit.logged' AND subject_id = $1`,
      [res.body.id],
    );
    expect(event.data).toMatchObject({ creditId: res.body.id, source: { system: 'Helpdesk', externalId: key } });
    expect(event.data).not.toHaveProperty('withinDiscretion');
    expect(event.data).not.toHaveProperty('overrun');
  });

  it('replays the same externalId and body, refuses it with another body, and scopes keys to the caller', async () => {
    const key = `zd-${randomUUID()}`;
    const body = { ...creditBody({ amount: 100 }), agentRef };
    const first = await postCredit(t, helpdesk.token, body, key);
    expect(first.status).toBe(201);
    const before = await ledger();
    const again = await postCredit(t, helpdesk.token, body, key);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expectProblem(await postCredit(t, helpdesk.token, { ...body, amount: 101 }, key), 422, 'idempotency-key-reused');
    expect(await ledger()).toEqual(before);
    // The agent's own key space is their own: the same string is a new credit of theirs.
    const agents = await postCredit(t, agent.token, creditBody({ amount: 100 }), key);
    expect(agents.status).toBe(201);
    expect(agents.body.id).not.toBe(first.body.id);
  });

  it('makes exactly one credit from simultaneous retries of one externalId', async () => {
    const key = `zd-race-${randomUUID()}`;
    const body = { ...creditBody({ amount: 150 }), agentRef };
    const before = await ledger();
    const replies = await Promise.all(Array.from({ length: 12 }, () => postCredit(t, helpdesk.token, body, key)));
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of replies) expect([201, 409]).toContain(r.status);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect((await ledger()).credits).toBe(before.credits + 1);
  });

  it('refuses an unknown, deactivated or non-agent agentRef with 422 naming agentRef, writing nothing', async () => {
    const gone = await createUser(t, ['agent'], { roleId });
    const goneRef = `gone-${randomUUID().slice(0, 8)}`;
    await t.request('PATCH', `/v1/users/${gone.id}`, { body: { externalRef: goneRef, active: false } });
    const leaderRef = `leader-${randomUUID().slice(0, 8)}`;
    await t.request('PATCH', `/v1/users/${leader.id}`, { body: { externalRef: leaderRef } });
    const before = await ledger();
    const key = `zd-${randomUUID()}`;
    for (const ref of ['nobody-at-all', goneRef, leaderRef]) {
      const res = await postCredit(t, helpdesk.token, { ...creditBody(), agentRef: ref }, key);
      expectProblem(res, 422, 'unknown-agent');
      expect(res.body.errors).toEqual([{ field: 'agentRef', message: 'no active agent has this externalRef' }]);
    }
    expect(await ledger()).toEqual(before);
    // The refused key was not kept: once the reference is right, the same key logs the credit.
    expect((await postCredit(t, helpdesk.token, { ...creditBody(), agentRef }, key)).status).toBe(201);
  });

  it('asks an integration for agentRef, and refuses agentRef from an agent', async () => {
    const missing = await postCredit(t, helpdesk.token, creditBody());
    expectProblem(missing, 400, 'validation');
    expect(missing.body.errors[0].field).toBe('agentRef');
    const fromAgent = await postCredit(t, agent.token, { ...creditBody(), agentRef });
    expectProblem(fromAgent, 400, 'validation');
    expect(fromAgent.body.errors[0].field).toBe('agentRef');
  });

  it('lets an integration read only who it is and the reason catalogue', async () => {
    const as = t.as(helpdesk.token);
    expect((await as.get('/v1/me')).body).toMatchObject({ id: helpdesk.id, access: ['integration'] });
    expect((await as.get('/v1/reasons')).status).toBe(200);
    for (const url of [
      '/v1/credits',
      '/v1/me/headroom',
      '/v1/reports/spend',
      '/v1/ledger/balances',
      '/v1/teams',
      '/v1/roles',
      '/v1/users',
      '/v1/me/sessions',
    ]) {
      expectProblem(await as.get(url), 403, 'forbidden');
    }
  });

  it('never signs an integration in: no sign-in link is issued for it', async () => {
    const res = await t.request('POST', `/v1/users/${helpdesk.id}/sign-in-links`);
    expectProblem(res, 409, 'conflict');
    expect(res.body.detail).toContain('API token');
  });

  it('keeps every ledger invariant', async () => {
    expect((await checkInvariants(t.dataSource)).filter((r) => !r.ok)).toEqual([]);
  });
});
