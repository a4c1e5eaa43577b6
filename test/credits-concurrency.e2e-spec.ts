import { randomUUID } from 'node:crypto';
import { TestApp } from './support/app';
import { createRole, createUser, creditBody, postCredit, setLimits, TestUser } from './support/factories';

describe('POST /v1/credits under concurrency and retries', () => {
  let t: TestApp;
  let leader: TestUser;
  let roleId: string;

  beforeAll(async () => {
    t = await TestApp.start();
    leader = await createUser(t, ['leader']);
    roleId = await createRole(t);
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perAgentDay: 10000, perCase: 1_000_000 }]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('40 simultaneous 10.00 credits against a 100.00 daily limit put exactly 100.00 within discretion', async () => {
    const agent = await createUser(t, ['agent'], { roleId });
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        postCredit(t, agent.token, creditBody({ amount: 1000, caseRef: `RACE-${i}` })),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(40).fill(201));
    const within = replies.reduce((sum, r) => sum + BigInt(r.body.withinDiscretion), 0n);
    const overrun = replies.reduce((sum, r) => sum + BigInt(r.body.overrun), 0n);
    expect(within).toBe(10000n);
    expect(overrun).toBe(30000n);
    const [stored] = await t.query<{ within: string; overrun: string; n: string }>(
      `SELECT sum(within_discretion)::text AS within, sum(overrun)::text AS overrun, count(*)::text AS n
         FROM credits WHERE agent_id = $1`,
      [agent.id],
    );
    expect(stored).toEqual({ within: '10000', overrun: '30000', n: '40' });
  });

  it('simultaneous credits on one case by different agents respect perCase', async () => {
    const role = await createRole(t);
    await setLimits(t, leader.token, role, [{ currency: 'EUR', perCase: 5000 }]);
    const agents = await Promise.all(Array.from({ length: 10 }, () => createUser(t, ['agent'], { roleId: role })));
    const caseRef = `SHARED-${randomUUID()}`;
    const replies = await Promise.all(agents.map((a) => postCredit(t, a.token, creditBody({ amount: 1500, caseRef }))));
    expect(replies.every((r) => r.status === 201)).toBe(true);
    const within = replies.reduce((sum, r) => sum + BigInt(r.body.withinDiscretion), 0n);
    expect(within).toBe(5000n);
  });

  it('20 simultaneous requests with one Idempotency-Key produce exactly one credit', async () => {
    const agent = await createUser(t, ['agent'], { roleId });
    const key = randomUUID();
    const body = creditBody({ amount: 700 });
    const replies = await Promise.all(Array.from({ length: 20 }, () => postCredit(t, agent.token, body, key)));
    for (const r of replies) expect([201, 409]).toContain(r.status);
    const created = replies.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(created.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    const rows = await t.query(`SELECT id FROM credits WHERE agent_id = $1`, [agent.id]);
    expect(rows).toHaveLength(1);
  });

  it('replays the first response for the same key and body, and refuses the key with another body', async () => {
    const agent = await createUser(t, ['agent'], { roleId });
    const key = `key-${randomUUID()}`;
    const body = creditBody({ amount: 1234, note: 'parcel arrived late' });
    const first = await postCredit(t, agent.token, body, key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body, keys in another order: still the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await postCredit(t, agent.token, reordered, key);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.text).toBe(first.text);
    const other = await postCredit(t, agent.token, { ...body, amount: 1235 }, key);
    expect(other.status).toBe(422);
    expect(other.headers['content-type']).toContain('application/problem+json');
    // Keys are scoped to the caller: another agent may use the same key for their own credit.
    const someoneElse = await createUser(t, ['agent'], { roleId });
    const theirs = await postCredit(t, someoneElse.token, body, key);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
    const rows = await t.query(`SELECT count(*)::int AS n FROM credits WHERE agent_id = ANY($1)`, [
      [agent.id, someoneElse.id],
    ]);
    expect(rows[0].n).toBe(2);
  });
});
