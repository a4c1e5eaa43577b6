import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedPostgres, EmbeddedDatabase } from '../../src/database/embedded-postgres';
import { freePort } from '../support/service-process';

export { freePort };

export const ROOT = resolve(__dirname, '../../..');

/** A fresh embedded PostgreSQL in a temp folder, removed afterwards. */
export async function freshDatabase(): Promise<{ db: EmbeddedDatabase; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'leeway-bench-'));
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir);
  return {
    db,
    cleanup: async () => {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the built service as its own process and resolves once /health/ready answers. */
export async function startService(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  // As `npm start` runs it (package.json).
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=8', '--heap-growing-percent=20', ...nodeArgs, join(ROOT, 'dist/src/main.js')],
    {
      cwd: ROOT,
      // Request logs off (warn) so the figures measure the ledger, not log volume.
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('service did not become ready within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

export function findPgbench(): string | null {
  try {
    return execFileSync('which', ['pgbench']).toString().trim() || null;
  } catch {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return null;
    for (const version of readdirSync(base).sort().reverse()) {
      const candidate = join(base, version, 'bin', 'pgbench');
      if (existsSync(candidate)) return candidate;
    }
    return null;
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export async function api(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A process's resident memory (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}
