import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TestApp } from './support/app';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';
import { expectProblem } from './support/problems';
import { Received, Receiver } from './support/receiver';

/**
 * Events out: the outbox written with each change, and a real HTTP receiver (started and stopped
 * here) getting them signed as Standard Webhooks do, in order per credit, retried, parked, replayed.
 * Signatures are checked with the `standardwebhooks` library, not with the service's own code.
 */

let t: TestApp;
let receiver: Receiver;
let leader: TestUser;
let agent: TestUser;
let roleId: string;

async function endpoint(body: Record<string, unknown>) {
  const res = await t.request('POST', '/v1/webhooks', { body: { url: receiver.url, ...body } });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; url: string };
}

/** The deliveries recorded for an endpoint, oldest first. */
async function deliveries(id: string) {
  const res = await t.request('GET', `/v1/webhooks/${id}/deliveries?limit=200`);
  expect(res.status).toBe(200);
  return (res.body.data as Array<Record<string, any>>).reverse();
}

/** Pretends the backoff has passed: every pending delivery is due now. */
async function backoffPassed() {
  await t.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE state = 'pending'`);
}

function verified(secret: string, r: Received) {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; data: Record<string, unknown> };
}

async function until(check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await TestApp.start({ webhookAllowPrivate: true, webhookTimeoutSeconds: 1 });
  receiver = await Receiver.start();
  leader = await createUser(t, ['leader']);
  roleId = await createRole(t);
  await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 2000 }]);
  agent = await createUser(t, ['agent'], { roleId });
  await t.request('PATCH', `/v1/users/${agent.id}`, { body: { externalRef: 'sam.rivera@example.com' } });
});

afterAll(async () => {
  await receiver?.stop();
  await t?.close();
});

afterEach(async () => {
  // Each test's endpoints go, so the next test hears only its own.
  for (const w of (await t.request('GET', '/v1/webhooks')).body.data) await t.request('DELETE', `/v1/webhooks/${w.id}`);
  receiver.received.length = 0;
});

describe('webhook endpoints', () => {
  it('show the signing secret once, and a credit reaches the receiver signed, without the agent', async () => {
    const hook = await endpoint({ eventTypes: ['credit.logged'] });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const listed = await t.request('GET', '/v1/webhooks');
    expect(listed.body.data).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret);

    const credit = await postCredit(t, agent.token, creditBody({ amount: 2500, customerRef: 'CUST-9' }));
    expect(credit.status).toBe(201);
    const [got] = await receiver.waitFor(1);
    const message = verified(hook.secret, got);
    expect(message.type).toBe('credit.logged');
    expect(message.data).toMatchObject({
      creditId: credit.body.id,
      amount: 2500,
      currency: 'EUR',
      kind: 'refund',
      caseRef: credit.body.caseRef,
      customerRef: 'CUST-9',
    });
    // Who gave it, and how much of it was over a limit, stay out of it.
    for (const key of ['agentRef', 'agentId', 'withinDiscretion', 'overrun', 'bindingLimit'])
      expect(message.data).not.toHaveProperty(key);
    expect(got.body).not.toContain(agent.id);
    // A tampered body or another secret does not verify.
    expect(() => verified(hook.secret, { ...got, body: got.body.replace('2500', '2501') })).toThrow();
    expect(() => verified(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, got)).toThrow();
    await until(async () => (await deliveries(hook.id))[0]?.state === 'delivered');
    const [log] = await deliveries(hook.id);
    expect(log).toMatchObject({ eventType: 'credit.logged', attempts: 1, attemptLog: [{ attempt: 1, status: 200 }] });
    expect(got.headers['webhook-id']).toBe(log.eventId);
  });

  it("carry the agent's externalRef only where the endpoint asks for it", async () => {
    const hook = await endpoint({ eventTypes: ['credit.logged'], includeAgentRef: true });
    await postCredit(t, agent.token, creditBody());
    const [got] = await receiver.waitFor(1);
    expect(verified(hook.secret, got).data.agentRef).toBe('sam.rivera@example.com');
  });

  it('deliver in order per credit: a reversal waits for its credit, which is retried after a 500', async () => {
    const hook = await endpoint({ eventTypes: ['credit.logged', 'credit.reversed'] });
    receiver.next({ status: 500 });
    const credit = await postCredit(t, agent.token, creditBody());
    await receiver.waitFor(1);
    const reversed = await t.as(agent.token).post(`/v1/credits/${credit.body.id}/reversal`, { reason: 'typo' });
    expect(reversed.status).toBe(201);
    await until(async () => (await deliveries(hook.id)).length === 2);
    // The failed delivery waits out its backoff; the reversal may not overtake it.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.received).toHaveLength(1);
    const [failed] = await deliveries(hook.id);
    expect(failed).toMatchObject({ state: 'pending', attempts: 1, attemptLog: [{ status: 500, error: 'HTTP 500' }] });
    const wait = Date.parse(failed.nextAttemptAt) - Date.parse(failed.attemptLog[0].at);
    expect(wait).toBeGreaterThanOrEqual(4_000);
    expect(wait).toBeLessThan(7_000);
    await backoffPassed();
    const all = await receiver.waitFor(3);
    expect(all.map((r) => verified(hook.secret, r).type)).toEqual([
      'credit.logged',
      'credit.logged',
      'credit.reversed',
    ]);
    expect(all[0].headers['webhook-id']).toBe(all[1].headers['webhook-id']);
    expect(verified(hook.secret, all[2]).data).toMatchObject({ creditId: credit.body.id, reason: 'typo' });
  });

  it('handle a slow receiver, a redirect and one that is down, and park a delivery after its last attempt', async () => {
    const hook = await endpoint({ eventTypes: ['credit.logged'] });
    receiver.next({ status: 200, delayMs: 3_000 }, { redirect: 'http://127.0.0.1:9/elsewhere' });
    await postCredit(t, agent.token, creditBody());
    await until(async () => (await deliveries(hook.id))[0]?.attemptLog.length === 1);
    expect((await deliveries(hook.id))[0].attemptLog[0]).toMatchObject({ status: null, error: 'timed out' });
    await backoffPassed();
    await until(async () => (await deliveries(hook.id))[0]?.attemptLog.length === 2);
    expect((await deliveries(hook.id))[0].attemptLog[1]).toMatchObject({
      status: 302,
      error: 'HTTP 302: redirects are not followed',
    });
    expect(receiver.received.every((r) => r.headers.host?.endsWith(new URL(receiver.url).port))).toBe(true);
    // Down: the endpoint now points at a closed port. The last attempt of the schedule parks it.
    await t.request('PATCH', `/v1/webhooks/${hook.id}`, { body: { url: 'http://127.0.0.1:9/hooks' } });
    await t.query(`UPDATE webhook_deliveries SET attempts = 7 WHERE endpoint_id = $1`, [hook.id]);
    await backoffPassed();
    await until(async () => (await deliveries(hook.id))[0]?.state === 'parked');
    const [parked] = await deliveries(hook.id);
    expect(parked.attemptLog.at(-1)).toMatchObject({ attempt: 8, status: null, error: 'connection refused' });
    expect(parked.nextAttemptAt).toBeNull();
  });

  it('replay any event on an admin’s word, with the same webhook-id', async () => {
    const hook = await endpoint({ eventTypes: ['credit.logged'] });
    await postCredit(t, agent.token, creditBody());
    await receiver.waitFor(1);
    await until(async () => (await deliveries(hook.id))[0]?.state === 'delivered');
    const [first] = await deliveries(hook.id);
    const replay = await t.request('POST', `/v1/webhooks/${hook.id}/replays`, { body: { eventId: first.eventId } });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ eventId: first.eventId, replayOf: first.id, state: 'pending' });
    const [a, b] = await receiver.waitFor(2);
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(verified(hook.secret, b).data).toEqual(verified(hook.secret, a).data);
    const audit = await t.query(`SELECT 1 FROM audit_events WHERE action = 'webhook.replayed' AND subject_id = $1`, [
      hook.id,
    ]);
    expect(audit).toHaveLength(1);
    expectProblem(
      await t.request('POST', `/v1/webhooks/${hook.id}/replays`, { body: { eventId: randomUUID() } }),
      400,
      'validation',
    );
  });

  it('hear limits changes with the new limits', async () => {
    const hook = await endpoint({ eventTypes: ['limits.changed'] });
    await setLimits(t, leader.token, roleId, [
      { currency: 'GBP', perCredit: 1500 },
      { currency: 'EUR', perCredit: 2000, perAgentDay: 9000 },
    ]);
    const [got] = await receiver.waitFor(1);
    const message = verified(hook.secret, got);
    expect(message).toMatchObject({
      type: 'limits.changed',
      data: {
        roleId,
        limits: [
          { currency: 'EUR', perCredit: 2000, perCase: null, perAgentDay: 9000, perAgentMonth: null },
          { currency: 'GBP', perCredit: 1500, perCase: null, perAgentDay: null, perAgentMonth: null },
        ],
      },
    });
  });

  it('refuse this service itself and URLs that are not http(s), naming the field, and change nothing', async () => {
    const base = await t.listen();
    for (const url of [`${base}/v1/credits`, 'ftp://files.example.com/x', 'not a url']) {
      const res = await t.request('POST', '/v1/webhooks', { body: { url, eventTypes: ['credit.logged'] } });
      expectProblem(res, 400, 'validation');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'url' })]);
    }
    expect((await t.request('GET', '/v1/webhooks')).body.data).toEqual([]);
  });
});

describe('the outbox', () => {
  it('writes one event with each change that commits, and none for one that does not', async () => {
    const count = async () => (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM events`))[0].n;
    const before = await count();
    const refused = await postCredit(t, agent.token, creditBody({ reasonCode: 'no_such_reason' }));
    expect(refused.status).toBe(400);
    expect(await count()).toBe(before);
    const ok = await postCredit(t, agent.token, creditBody());
    const key = randomUUID();
    await postCredit(t, agent.token, creditBody({ caseRef: 'CASE-REPLAY' }), key);
    await postCredit(t, agent.token, creditBody({ caseRef: 'CASE-REPLAY' }), key);
    expect(await count()).toBe(before + 2);
    const [event] = await t.query<{ type: string; subject_id: string }>(
      `SELECT type, subject_id FROM events WHERE subject_id = $1`,
      [ok.body.id],
    );
    expect(event).toEqual({ type: 'credit.logged', subject_id: ok.body.id });
    // Events are history: they cannot be changed or removed.
    await expect(t.query(`DELETE FROM events`)).rejects.toThrow();
  });
});

describe('destinations', () => {
  let strict: TestApp;

  beforeAll(async () => {
    strict = await TestApp.start();
  });

  afterAll(async () => {
    await strict?.close();
  });

  it('refuse loopback, private and link-local addresses unless LEEWAY_WEBHOOK_ALLOW_PRIVATE is set', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hooks',
      'http://localhost/hooks',
      'http://10.1.2.3/hooks',
      'http://172.16.0.9/hooks',
      'http://192.168.1.1/hooks',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hooks',
      'http://[fd00::1]/hooks',
      'http://[::ffff:127.0.0.1]/hooks',
      'http://0.0.0.0/hooks',
    ]) {
      const res = await strict.request('POST', '/v1/webhooks', { body: { url, eventTypes: ['credit.logged'] } });
      expectProblem(res, 400, 'validation');
      expect(res.body.errors[0]).toMatchObject({
        field: 'url',
        message: expect.stringMatching(/private|resolve|itself/),
      });
    }
    expect((await strict.request('GET', '/v1/webhooks')).body.data).toEqual([]);
  });
});
