import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './service-process';

/**
 * A real PostgreSQL server in its own process (`test/support/pg-server.mjs`), stoppable and
 * restartable on the same port and data; `env` reaches the server too (a fake clock, say).
 */
export async function startPostgres(
  dir: string,
  port: number,
  env: Record<string, string> = {},
): Promise<{ url: string; server: ChildProcess }> {
  const server = spawn(process.execPath, [join(ROOT, 'test/support/pg-server.mjs'), dir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) done(JSON.parse(line).url);
    });
    server.once('exit', (code) => fail(new Error(`postgres exited with ${code}`)));
  });
  return { url, server };
}

export function stopPostgres(server: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (server.exitCode !== null) return done();
    server.once('exit', () => done());
    server.kill('SIGTERM');
  });
}
