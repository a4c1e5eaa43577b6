// Starts the PostgreSQL the e2e suite runs against, unless one is given by URL.
// Plain Node (not transformed by Jest); it uses the service's own embedded PostgreSQL from dist/,
// which `npm test` builds first.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const BUILT = resolve(import.meta.dirname, '../../dist/src/database/embedded-postgres.js');

export default async function globalSetup() {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) {
    process.env.LEEWAY_TEST_ADMIN_URL = given;
    return;
  }
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run the suite with npm test (it builds first)`);
  const { startEmbeddedPostgres } = require(BUILT);
  const dir = await mkdtemp(join(tmpdir(), 'leeway-test-pg-'));
  // When running as root the server runs as user postgres, which must be able to enter the folder.
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir, () => undefined, {
    settings: { max_connections: '300', fsync: 'off', full_page_writes: 'off' },
  });
  globalThis.__LEEWAY_TEST_PG__ = { db, dir };
  const admin = new URL(db.url);
  admin.pathname = '/postgres';
  process.env.LEEWAY_TEST_ADMIN_URL = admin.toString();
}
