import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { built, ROOT } from './service-process';

/** Variables the service reads; a spawned service gets only the ones a test sets. */
const SERVICE_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATABASE_DIRECT_URL',
  'TEST_DATABASE_URL',
  'LEEWAY_DATA_DIR',
  'LEEWAY_BOOTSTRAP_TOKEN',
  'LEEWAY_TIMEZONE',
  'LEEWAY_MIN_COHORT',
  'LEEWAY_REVERSAL_WINDOW_HOURS',
  'LEEWAY_DB_POOL_SIZE',
  'LEEWAY_TRUST_PROXY',
  'LEEWAY_FRAME_ANCESTORS',
  'LEEWAY_METRICS_TOKEN',
  'LEEWAY_OIDC_ISSUER',
  'LEEWAY_OIDC_CLIENT_ID',
  'LEEWAY_OIDC_CLIENT_SECRET',
  'LEEWAY_OIDC_CLAIM',
  'LEEWAY_PUBLIC_URL',
  'LEEWAY_SESSION_HOURS',
  'LEEWAY_SCIM_USER_REF',
  'LOG_LEVEL',
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedService {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** stdout lines that parse as JSON (the pino log). */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves with the first log line matching, or rejects on exit or timeout. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  exited: Promise<Exit>;
  /** Sends the signal and waits for the exit, at most timeoutMs (then SIGKILL). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const live = new Set<SpawnedService>();

/** Starts `node dist/src/main.js` with a clean service environment plus `env`. */
export function spawnService(env: Record<string, string>, as: { uid?: number; gid?: number } = {}): SpawnedService {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete base[name];
  const child = spawn(process.execPath, [built('dist/src/main.js')], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...as,
  });
  let out = '';
  let stdout = '';
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  child.stdout?.on('data', (d) => {
    out += String(d);
    stdout += String(d);
    notify();
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
    notify();
  });
  const exited = new Promise<Exit>((done) => {
    child.once('exit', (code, signal) => {
      done({ code, signal });
      notify();
    });
  });
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));

  const logLines = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });

  const service: SpawnedService = {
    child,
    output: () => out,
    logLines,
    exited,
    waitForLog: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = logLines().find(match);
          if (found) return finish(() => resolve(found));
          if (exit) return finish(() => reject(new Error(`service exited (${JSON.stringify(exit)}): ${out}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no matching log line within ${timeoutMs} ms: ${out}`))),
          timeoutMs,
        );
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM', timeoutMs = 30_000) => {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  live.add(service);
  void exited.then(() => live.delete(service));
  return service;
}

/** The postmaster's pid and port from `<dataDir>/pg/postmaster.pid`, if the file exists. */
export function postmasterOf(dataDir: string): { pid: number; port: number } | null {
  const file = join(dataDir, 'pg', 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch (error) {
    // Not there, or removed as PostgreSQL stopped between a look and a read: no server.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** True while the process runs; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Stops every service this helper started and still running (SIGTERM, then SIGKILL), then any
 * PostgreSQL left running in the given data directories, by the pid in its postmaster.pid.
 */
export async function stopAll(dataDirs: string[] = []): Promise<void> {
  await Promise.all([...live].map((s) => s.stop('SIGTERM', 20_000)));
  for (const dir of dataDirs) {
    const pm = postmasterOf(dir);
    if (!pm || !Number.isInteger(pm.pid) || pm.pid <= 0 || !alive(pm.pid)) continue;
    process.kill(pm.pid, 'SIGINT');
    for (let i = 0; i < 100 && alive(pm.pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pm.pid)) process.kill(pm.pid, 'SIGKILL');
  }
}
