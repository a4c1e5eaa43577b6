import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { checkInvariants } from '../src/ledger/invariants';
import { startPostgres, stopPostgres } from './support/postgres-process';
import { freePort, ServiceProcess, startServiceProcess } from './support/service-process';

const BOOTSTRAP = `outage-test-${randomUUID()}`;

async function timed(fn: () => Promise<Response>): Promise<{ res: Response; ms: number; body: any }> {
  const started = Date.now();
  const res = await fn();
  const text = await res.text();
  return { res, ms: Date.now() - started, body: text ? JSON.parse(text) : undefined };
}

describe('database outage (e2e, real PostgreSQL stopped and started)', () => {
  let dir: string;
  let pg: { url: string; server: ChildProcess } | undefined;
  let service: ServiceProcess | undefined;

  afterAll(async () => {
    if (service && service.child.exitCode === null) await service.kill();
    if (pg) await stopPostgres(pg.server);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 quickly while the database is away and recovers by itself', async () => {
    dir = await mkdtemp(join(tmpdir(), 'leeway-outage-'));
    await chmod(dir, 0o755);
    const port = await freePort();
    pg = await startPostgres(dir, port);
    service = await startServiceProcess({ DATABASE_URL: pg.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP });
    const url = service.url;
    const json = { 'content-type': 'application/json' };
    const admin = { ...json, authorization: `Bearer ${BOOTSTRAP}` };
    const user = (await (
      await fetch(`${url}/v1/users`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ displayName: 'Agent', access: ['agent'] }),
      })
    ).json()) as { id: string };
    const { token } = (await (
      await fetch(`${url}/v1/users/${user.id}/tokens`, { method: 'POST', headers: admin, body: '{}' })
    ).json()) as { token: string };
    const agent = { ...json, authorization: `Bearer ${token}` };
    const credit = (key: string) =>
      fetch(`${url}/v1/credits`, {
        method: 'POST',
        headers: { ...agent, 'idempotency-key': key },
        body: JSON.stringify({
          amount: 700,
          currency: 'EUR',
          kind: 'voucher',
          reasonCode: 'long_wait',
          caseRef: 'C-1',
        }),
      });
    expect((await credit(randomUUID())).status).toBe(201);

    // The database goes away.
    await stopPostgres(pg.server);
    const ready = await timed(() => fetch(`${url}/health/ready`));
    expect(ready.res.status).toBe(503);
    expect(ready.ms).toBeLessThan(5000);
    const write = await timed(() => credit(randomUUID()));
    expect(write.res.status).toBe(503);
    expect(write.res.headers.get('content-type')).toContain('application/problem+json');
    expect(write.body).toMatchObject({ status: 503 });
    expect(write.ms).toBeLessThan(5000);
    const read = await timed(() => fetch(`${url}/v1/me`, { headers: agent }));
    expect(read.res.status).toBe(503);
    expect(read.ms).toBeLessThan(5000);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect(service.child.exitCode).toBeNull();

    // It comes back on the same address; the service recovers without a restart.
    pg = await startPostgres(dir, port);
    const back = Date.now();
    let recovered = false;
    while (Date.now() - back < 30_000) {
      const res = await credit(randomUUID()).catch(() => undefined);
      if (res?.status === 201) {
        recovered = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    expect(service.child.exitCode).toBeNull();

    // Nothing half-written: two credits before and after, ledger consistent.
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM credits`);
      expect(rows[0].n).toBe(2);
      expect((await checkInvariants(client)).filter((r) => !r.ok)).toEqual([]);
    } finally {
      await client.end();
    }
    expect(await service.stop()).toBe(0);
  }, 180_000);
});
