import { randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase } from './support/database';
import { Receiver } from './support/receiver';
import { ServiceProcess, startServiceProcess } from './support/service-process';
import { httpCall } from './support/http';

/**
 * Webhook delivery as real service processes do it: a process killed (SIGKILL) in the middle of a
 * delivery loses nothing, since another sends it again once the lease runs out; and several
 * processes share the deliveries without losing any.
 */

const ADMIN = `webhooks-admin-${randomUUID()}`;
let db: TestDatabase;
let receiver: Receiver;
const running: ServiceProcess[] = [];

const call = (service: ServiceProcess, method: string, path: string, token: string, body?: unknown, key?: string) =>
  httpCall(service.url, method, path, { token, body, headers: key ? { 'idempotency-key': key } : {} });

async function start(): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    DATABASE_URL: db.url,
    LEEWAY_BOOTSTRAP_TOKEN: ADMIN,
    LEEWAY_WEBHOOK_ALLOW_PRIVATE: 'true',
    LEEWAY_WEBHOOK_TIMEOUT_SECONDS: '1',
  });
  running.push(service);
  return service;
}

const credit = (n: number) => ({
  amount: 1000 + n,
  currency: 'EUR',
  kind: 'refund',
  reasonCode: 'late_delivery',
  caseRef: `CASE-${n}`,
});

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await Receiver.start();
});

afterAll(async () => {
  for (const service of running) await service.stop().catch(() => undefined);
  await receiver?.stop();
  await db?.drop();
});

it('a process killed mid-delivery loses nothing; several processes share the deliveries', async () => {
  const a = await start();
  const user = await call(a, 'POST', '/v1/users', ADMIN, { displayName: 'Sam', access: ['agent'] });
  const agent = (await call(a, 'POST', `/v1/users/${user.body.id}/tokens`, ADMIN, {})).body.token as string;
  const hook = await call(a, 'POST', '/v1/webhooks', ADMIN, { url: receiver.url, eventTypes: ['credit.logged'] });
  expect(hook.status).toBe(201);

  // A takes the delivery and the receiver never answers; A dies with the request in flight.
  receiver.next({ hang: true });
  expect((await call(a, 'POST', '/v1/credits', agent, credit(0), randomUUID())).status).toBe(201);
  await receiver.waitFor(1);
  await a.kill();

  // B starts; once A's lease runs out, B sends the same event again and the receiver takes it.
  const b = await start();
  const [first, second] = await receiver.waitFor(2, 30_000);
  expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
  let log = await call(b, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`, ADMIN);
  for (let i = 0; i < 100 && log.body.data[0].state !== 'delivered'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    log = await call(b, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`, ADMIN);
  }
  expect(log.body.data[0]).toMatchObject({ state: 'delivered', attempts: 2 });
  // The killed attempt left no result; the one that succeeded did.
  expect(log.body.data[0].attemptLog).toEqual([expect.objectContaining({ attempt: 2, status: 200 })]);

  // Two processes, forty credits logged through both: every event arrives, and each delivery settles once.
  const c = await start();
  const logged = await Promise.all(
    Array.from({ length: 40 }, (_, n) =>
      call(n % 2 ? b : c, 'POST', '/v1/credits', agent, credit(n + 1), randomUUID()),
    ),
  );
  expect(logged.every((r) => r.status === 201)).toBe(true);
  const all = await receiver.waitFor(42, 30_000);
  const ids = new Set(all.slice(2).map((r) => String(r.headers['webhook-id'])));
  expect(ids.size).toBe(40);
  const states = async () =>
    (await call(c, 'GET', `/v1/webhooks/${hook.body.id}/deliveries?limit=100`, ADMIN)).body.data.map(
      (d: { state: string }) => d.state,
    ) as string[];
  for (let i = 0; i < 100 && (await states()).some((s) => s !== 'delivered'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await states()).toEqual(Array(41).fill('delivered'));
});
