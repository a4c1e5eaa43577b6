import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOpen } from './process';
import { freePort } from './service-process';

/** Debian's PgBouncer (CI installs the package; see .ci/run). */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Throws one line naming the fix when PgBouncer is not installed, so the spec fails at once. */
export function requirePgBouncer(): void {
  if (!existsSync(PGBOUNCER)) {
    throw new Error(`PgBouncer is not installed (${PGBOUNCER}): apt-get install pgbouncer`);
  }
}

export interface PgBouncer {
  port: number;
  /** The server URL's user, password and host replaced by this PgBouncer, for `database`. */
  url(database: string): string;
  /** What PgBouncer has logged so far. */
  log(): string;
  /** Stops it (SIGTERM: immediate shutdown, every client connection dropped). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same configuration. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  dispose(): Promise<void>;
}

/** PgBouncer refuses to run as root: then it runs as `postgres`, which must read its files. */
function account(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) throw new Error('running as root, PgBouncer needs a "postgres" account: create it');
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/**
 * A real PgBouncer in transaction pooling mode in front of the PostgreSQL at `serverUrl`, every
 * database name passed through, authenticating the server URL's user with its password. It does not
 * ignore any startup parameter: a client sending one PgBouncer does not track is refused, as a
 * production PgBouncer would.
 */
export async function startPgBouncer(serverUrl: string): Promise<PgBouncer> {
  requirePgBouncer();
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const runAs = account();
  const dir = await mkdtemp(join(tmpdir(), 'leeway-pgbouncer-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const userlist = join(dir, 'userlist.txt');
  const ini = join(dir, 'pgbouncer.ini');
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  await writeFile(userlist, `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = plain',
      `auth_file = ${userlist}`,
      'pool_mode = transaction',
      'max_client_conn = 500',
      'default_pool_size = 20',
      // Come back quickly after the server was away.
      'server_login_retry = 1',
      'logfile =',
      'pidfile =',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  if (runAs) {
    await chown(dir, runAs.uid, runAs.gid);
    await chown(userlist, runAs.uid, runAs.gid);
    await chown(ini, runAs.uid, runAs.gid);
  }

  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const proc = spawn(PGBOUNCER, [ini], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
    child = proc;
    proc.stdout?.on('data', (d) => (output += String(d)));
    proc.stderr?.on('data', (d) => (output += String(d)));
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`pgbouncer exited (${proc.exitCode ?? proc.signalCode}): ${output.trim()}`);
      }
      if (Date.now() > deadline) throw new Error(`pgbouncer not listening on ${port} within 10 s: ${output.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((done) => proc.once('exit', done));
    proc.kill('SIGTERM');
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  };
  await start();
  return {
    port,
    url: (database) => {
      const u = new URL(serverUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      u.pathname = `/${database}`;
      return u.toString();
    },
    log: () => output,
    stop,
    start,
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
