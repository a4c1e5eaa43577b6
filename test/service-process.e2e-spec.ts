import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, portOpen, postmasterOf, spawnService, stopAll } from './support/process';
import { freePort } from './support/service-process';

/**
 * The built service as operators run it (`node dist/src/main.js`; `npm test` builds first):
 * refusing bad configuration at start, and a full life on the embedded PostgreSQL —
 * start, serve, SIGTERM, start again on the same data directory.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'leeway-process-'));
  // As root, the embedded PostgreSQL runs as user postgres, which must be able to enter the folder.
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await stopAll(dirs);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('invalid configuration stops the service at start, naming the variable', () => {
  it.each([
    ['LEEWAY_MIN_COHORT', '1'],
    ['LEEWAY_MIN_COHORT', 'five'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LEEWAY_TIMEZONE', 'Mars/Base'],
    ['LEEWAY_REVERSAL_WINDOW_HOURS', '-1'],
    ['LEEWAY_REVERSAL_WINDOW_HOURS', '1.5'],
    ['DATABASE_URL', 'mysql://leeway:pw@127.0.0.1:3306/leeway'],
    ['DATABASE_URL', 'not a url'],
    ['LEEWAY_BOOTSTRAP_TOKEN', 'short'],
    ['LEEWAY_BOOTSTRAP_TOKEN', 'has spaces in the middle of it'],
    ['LOG_LEVEL', 'loud'],
    ['LEEWAY_DB_POOL_SIZE', '0'],
  ])(
    '%s=%p → non-zero exit naming it, nothing started',
    async (variable, value) => {
      const dataDir = tempDir();
      const port = await freePort();
      const service = spawnService({ LEEWAY_DATA_DIR: dataDir, PORT: String(port), [variable]: value });
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        service.exited,
        new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000))),
      ]);
      clearTimeout(timer);
      if (exit === 'timeout') await service.stop('SIGKILL');
      expect(exit).not.toBe('timeout');
      if (exit === 'timeout') return;
      expect(exit.signal).toBeNull();
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(service.output()).toContain(variable);
      expect(service.output()).not.toMatch(/listening/i);
      // Refused before anything was started: no embedded PostgreSQL files, nothing on the port.
      expect(readdirSync(dataDir)).toEqual([]);
      expect(await portOpen(port)).toBe(false);
    },
    30_000,
  );
});

describe('embedded PostgreSQL: start, serve, SIGTERM, start again', () => {
  const token = `process-test-${randomUUID()}`;
  let dataDir: string;
  const teamName = `Night shift ${randomUUID().slice(0, 8)}`;
  let teamId: string;

  beforeAll(() => {
    dataDir = tempDir();
  });

  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  async function start(port: number) {
    const service = spawnService({
      LEEWAY_DATA_DIR: dataDir,
      PORT: String(port),
      LEEWAY_BOOTSTRAP_TOKEN: token,
      LOG_LEVEL: 'info',
    });
    const line = await service.waitForLog((l) => typeof l.url === 'string' && typeof l.docs === 'string', 90_000);
    return { service, line };
  }

  it('announces its URL and docs URL, serves, and on SIGTERM exits 0 with PostgreSQL stopped', async () => {
    const port = await freePort();
    const { service, line } = await start(port);
    const base = `http://127.0.0.1:${port}`;
    expect(line).toMatchObject({ url: base, docs: `${base}/docs`, database: 'embedded' });
    expect(String(line.msg)).toContain(base);
    expect(String(line.msg)).toContain(`${base}/docs`);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect((await fetch(String(line.docs))).status).toBe(200);
    expect(line.migrationsApplied).toBeGreaterThan(0);
    // Production starts with one info line: route tables and framework chatter are debug.
    const beforeRequests = service.logLines().filter((l) => l.level === 30 && !('req' in l) && !('res' in l));
    expect(beforeRequests).toEqual([line]);
    // The log never carries the bootstrap token.
    expect(service.output()).not.toContain(token);

    const created = await call(base, 'POST', '/v1/teams', { name: teamName });
    expect(created.status).toBe(201);
    teamId = created.body.id;

    const pm = postmasterOf(dataDir);
    expect(pm).not.toBeNull();
    expect(alive(pm!.pid)).toBe(true);
    expect(await portOpen(pm!.port)).toBe(true);

    const exit = await service.stop('SIGTERM', 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(alive(pm!.pid)).toBe(false);
    expect(await portOpen(pm!.port)).toBe(false);
    expect(await portOpen(port)).toBe(false);
  }, 120_000);

  it('starts again on the same data directory with the data kept and one bootstrap admin', async () => {
    expect(teamId).toBeDefined();
    const port = await freePort();
    const { service, line } = await start(port);
    const base = `http://127.0.0.1:${port}`;
    const ready = await call(base, 'GET', '/health/ready');
    expect(ready).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });
    const teams = await call(base, 'GET', '/v1/teams?limit=200');
    expect(teams.status).toBe(200);
    expect(teams.body.data).toContainEqual(expect.objectContaining({ id: teamId, name: teamName }));
    const users = await call(base, 'GET', '/v1/users?limit=200');
    expect(users.body.data.filter((u: { displayName: string }) => u.displayName === 'bootstrap')).toHaveLength(1);
    // No second "migrations applied": the schema was already in place.
    expect(line.migrationsApplied).toBe(0);

    const pm = postmasterOf(dataDir);
    expect(pm).not.toBeNull();
    const exit = await service.stop('SIGTERM', 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(alive(pm!.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 120_000);

  it('SIGINT (Ctrl-C) shuts down just as cleanly', async () => {
    const port = await freePort();
    const { service } = await start(port);
    const pm = postmasterOf(dataDir);
    expect(pm).not.toBeNull();
    const exit = await service.stop('SIGINT', 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(alive(pm!.pid)).toBe(false);
    expect(service.logLines().map((l) => l.msg)).toEqual(expect.arrayContaining(['stopped']));
  }, 120_000);

  it('SIGTERM during start-up, with PostgreSQL already running, leaves no PostgreSQL behind', async () => {
    const early = tempDir();
    const service = spawnService({ LEEWAY_DATA_DIR: early, PORT: String(await freePort()), LOG_LEVEL: 'info' });
    // Wait for the real postmaster (initdb's bootstrap writes a negative pid first).
    let pm = postmasterOf(early);
    const deadline = Date.now() + 60_000;
    while (!(pm && pm.pid > 0 && alive(pm.pid)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      pm = postmasterOf(early);
    }
    expect(pm && pm.pid > 0).toBe(true);
    const exit = await service.stop('SIGTERM', 30_000);
    expect(exit.signal).toBeNull();
    for (let i = 0; i < 100 && alive(pm!.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pm!.pid)).toBe(false);
    expect(await portOpen(pm!.port)).toBe(false);
  }, 120_000);
});
