import { createTestDatabase, TestDatabase } from './support/database';
import { freePort, startServiceProcess, ServiceProcess } from './support/service-process';
import { httpCall } from './support/http';

/**
 * Sign-in as real service processes see it: the first start prints a one-time link that makes its
 * holder the first admin, and a deactivation in one process ends a session in every other at once.
 */

let db: TestDatabase;
const running: ServiceProcess[] = [];

const call = (service: ServiceProcess, method: string, path: string, token?: string, body?: unknown) =>
  httpCall(service.url, method, path, { token, body });

async function start(): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    DATABASE_URL: db.url,
    LOG_LEVEL: 'info',
    PORT: String(await freePort()),
  });
  running.push(service);
  return service;
}

function startLine(service: ServiceProcess): { msg: string; adminExists: boolean } {
  const line = service
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; adminExists?: boolean })
    .find((l) => l.msg.startsWith('Leeway listening'));
  if (!line) throw new Error(`no start line in: ${service.output()}`);
  return { msg: line.msg, adminExists: line.adminExists! };
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const service of running) await service.stop();
  await db?.drop();
});

describe('the first admin', () => {
  let first: ServiceProcess;
  let adminToken: string;

  it('comes from a one-time link in the start-up line, which works once', async () => {
    first = await start();
    const line = startLine(first);
    expect(line.adminExists).toBe(false);
    const url = /open (http:\/\/\S+#link=lw_[\w-]{43}) within 24 hours to become the first admin/.exec(line.msg)?.[1];
    expect(url).toBeDefined();
    expect(url!.startsWith(`${first.url}/sign-in#link=`)).toBe(true);
    // A second process starting meanwhile prints its own link.
    const second = await start();
    const otherUrl = /open (\S+) within/.exec(startLine(second).msg)![1];
    expect(otherUrl).not.toBe(url);

    const link = url!.split('#link=')[1];
    const signedIn = await call(first, 'POST', '/v1/sessions', undefined, { link });
    expect(signedIn.status).toBe(201);
    adminToken = signedIn.body.token;
    const me = await call(first, 'GET', '/v1/me', adminToken);
    expect(me.body).toMatchObject({ displayName: 'Admin', access: ['admin'] });
    expect((await call(first, 'POST', '/v1/sessions', undefined, { link })).status).toBe(401);
    // The other link no longer makes anyone an admin: there is one now.
    const late = await call(second, 'POST', '/v1/sessions', undefined, { link: otherUrl.split('#link=')[1] });
    expect(late.status).toBe(401);
    // Using one ended the others printed meanwhile.
    expect(late.body.detail).toMatch(/expired/);
    const [admins] = await Promise.all([call(first, 'GET', '/v1/users', adminToken)]);
    expect(admins.body.data.filter((u: { access: string[] }) => u.access.includes('admin'))).toHaveLength(1);
  });

  it('is not offered again once an admin exists', async () => {
    const again = await start();
    const line = startLine(again);
    expect(line.adminExists).toBe(true);
    expect(line.msg).not.toContain('#link=');
  });

  it('deactivating a user in one process ends their session in every process at once', async () => {
    const other = running[1];
    const user = await call(first, 'POST', '/v1/users', adminToken, { displayName: 'Sam', access: ['agent'] });
    const link = await call(first, 'POST', `/v1/users/${user.body.id}/sign-in-links`, adminToken);
    const session = await call(other, 'POST', '/v1/sessions', undefined, { link: link.body.url.split('#link=')[1] });
    expect(session.status).toBe(201);
    for (const service of running) expect((await call(service, 'GET', '/v1/me', session.body.token)).status).toBe(200);
    expect((await call(first, 'PATCH', `/v1/users/${user.body.id}`, adminToken, { active: false })).status).toBe(200);
    for (const service of running) expect((await call(service, 'GET', '/v1/me', session.body.token)).status).toBe(401);
  });
});
