import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, postmasterOf, spawnService, SpawnedService, stopAll } from './support/process';
import { built, freePort, ROOT } from './support/service-process';

/**
 * Several Leeway processes on one LEEWAY_DATA_DIR share its embedded PostgreSQL: a second service,
 * a migration or the seed never stops the database under the first, in either order, and the last
 * one to leave stops it. Also: the service as root from a private (mode 700) directory, and as an
 * ordinary user.
 */

const dirs: string[] = [];
function tempDir(mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), 'leeway-share-'));
  chmodSync(dir, mode);
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await stopAll(dirs.map((d) => join(d, 'data')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function start(dataDir: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const service = spawnService({ LEEWAY_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', ...extra });
  const line = await service.waitForLog((l) => typeof l.url === 'string', 90_000);
  return { service, line, base: `http://127.0.0.1:${port}`, port };
}

async function ready(base: string): Promise<number> {
  return (await fetch(`${base}/health/ready`)).status;
}

/** Runs a CLI of the service (`dist/src/...`) to completion on the data directory. */
function cli(script: string, dataDir: string, args: string[] = []) {
  return spawnSync(process.execPath, [built(script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LEEWAY_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('a second process on the same data directory never harms the first', () => {
  it('service first: a migration, the seed, a second service and a taken port leave it serving', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await start(dataDir);
    expect(first.line.database).toBe('embedded');
    const pm = postmasterOf(dataDir)!;

    const migrate = cli('dist/src/database/migrate-cli.js', dataDir);
    expect({ status: migrate.status, out: migrate.stdout.trim() }).toEqual({
      status: 0,
      out: 'no pending migrations',
    });
    expect(await ready(first.base)).toBe(200);

    const seeded = cli('dist/src/seed/seed-cli.js', dataDir, ['--credits', '200', '--agents', '10', '--days', '5']);
    expect(seeded.status).toBe(0);
    expect(seeded.stdout).toMatch(/seeded 200 credits/);
    expect(await ready(first.base)).toBe(200);

    // The same port: refused in one line before touching the database.
    const clash = spawnService({ LEEWAY_DATA_DIR: dataDir, PORT: String(first.port), LOG_LEVEL: 'info' });
    const clashExit = await clash.exited;
    expect(clashExit.code).toBe(1);
    expect(clash.output().trim()).toBe(
      `Leeway failed to start: port ${first.port} on 127.0.0.1 is already in use (another Leeway?): stop that process or set PORT`,
    );
    expect(await ready(first.base)).toBe(200);

    const second = await start(dataDir);
    expect(second.line.database).toBe('embedded, shared');
    expect(await ready(second.base)).toBe(200);
    expect(await second.service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await ready(first.base)).toBe(200);
    expect(alive(pm.pid)).toBe(true);

    expect(await first.service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(alive(pm.pid)).toBe(false);
  }, 240_000);

  it('second process first: the one that started PostgreSQL leaves, the other keeps serving', async () => {
    const dataDir = join(tempDir(), 'data');
    const starter = await start(dataDir);
    const joiner = await start(dataDir);
    expect(joiner.line.database).toBe('embedded, shared');
    const pm = postmasterOf(dataDir)!;

    expect(await starter.service.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(alive(pm.pid)).toBe(true);
    expect(await ready(joiner.base)).toBe(200);

    // The last one out stops PostgreSQL.
    expect(await joiner.service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(alive(pm.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 240_000);

  it('a process killed outright leaves a server that the next start adopts', async () => {
    const dataDir = join(tempDir(), 'data');
    const killed = await start(dataDir);
    const pm = postmasterOf(dataDir)!;
    await killed.service.stop('SIGKILL');
    expect(alive(pm.pid)).toBe(true);

    const next = await start(dataDir);
    expect(next.line.database).toBe('embedded');
    expect(postmasterOf(dataDir)!.pid).toBe(pm.pid);
    expect(await ready(next.base)).toBe(200);
    expect(await next.service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(alive(pm.pid)).toBe(false);
  }, 240_000);
});

const asRoot = process.getuid?.() === 0;
// The ordinary-user run needs a checkout and a Node that user can reach (not inside root's private home).
const asNobody = (test: string, path: string) =>
  spawnSync('test', [test, path], { uid: 65534, gid: 65534 }).status === 0;
const nobodyCanRead = asRoot && asNobody('-r', join(ROOT, 'dist/src/main.js')) && asNobody('-x', process.execPath);

(asRoot ? describe : describe.skip)('as root, from a private directory, and as an ordinary user', () => {
  it('as root with LEEWAY_DATA_DIR inside a mode-700 directory: serves, files kept where postgres can reach', async () => {
    const dataDir = join(tempDir(0o700), 'data');
    const { service, base } = await start(dataDir);
    expect(await ready(base)).toBe(200);
    const note = readFileSync(join(dataDir, 'WHERE-IS-POSTGRES.txt'), 'utf8');
    const cluster = /\n(\/var\/lib\/leeway\/clusters\/[0-9a-f]+)\n/.exec(note)?.[1];
    expect(cluster).toBeDefined();
    expect(existsSync(join(cluster!, 'PG_VERSION'))).toBe(true);
    expect(await service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    rmSync(cluster!, { recursive: true, force: true });
  }, 240_000);

  (nobodyCanRead ? it : it.skip)(
    'as an ordinary user (nobody): the server runs as that user, no account switch',
    async () => {
      const home = tempDir(0o700);
      chownSync(home, 65534, 65534);
      const dataDir = join(home, 'data');
      mkdirSync(dataDir);
      chownSync(dataDir, 65534, 65534);
      const port = await freePort();
      const service: SpawnedService = spawnService(
        { LEEWAY_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', HOME: home },
        { uid: 65534, gid: 65534 },
      );
      await service.waitForLog((l) => typeof l.url === 'string', 90_000);
      expect(await ready(`http://127.0.0.1:${port}`)).toBe(200);
      const pm = postmasterOf(dataDir)!;
      const owner = readFileSync(`/proc/${pm.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
      expect(owner).toBe('65534');
      expect(await service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(alive(pm.pid)).toBe(false);
    },
    240_000,
  );
});
