import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The project root, from test/support (ts-jest/swc) or dist/test/support (built). */
export const ROOT = resolve(__dirname, __dirname.includes(`${join('dist', 'test')}`) ? '../../..' : '../..');

/**
 * The path of a built script (`dist/src/main.js`). Without a build there is nothing to run: this
 * says so at once, rather than after a spec has waited minutes for a service that never starts.
 */
export function built(relative: string): string {
  const path = join(ROOT, relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (npm test does)`);
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown, no goodbye. */
  kill(): Promise<void>;
}

/** Starts the built service (`npm test` builds first) and resolves once /health/ready answers 200. */
export async function startServiceProcess(
  env: Record<string, string>,
  readyWithinMs = 60_000,
): Promise<ServiceProcess> {
  const main = built('dist/src/main.js');
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service not ready within ${readyWithinMs} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = () =>
    new Promise<number | null>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
      child.once('exit', (code) => done(code));
    });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      const done = exited();
      child.kill('SIGTERM');
      return done;
    },
    kill: async () => {
      const done = exited();
      child.kill('SIGKILL');
      await done;
    },
  };
}
