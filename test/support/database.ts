import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrations } from '../../migrations';
import { runMigrations } from '../../src/database/migrate';

function adminUrl(): string {
  const url = process.env.LEEWAY_TEST_ADMIN_URL;
  if (!url) throw new Error('LEEWAY_TEST_ADMIN_URL is not set: the e2e globalSetup did not run');
  return url;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Template name changes whenever a migration changes, so a stale template is never reused. */
function templateName(): string {
  const digest = createHash('sha256');
  for (const m of migrations)
    digest.update(m.name).update(m.prototype.up.toString()).update(m.prototype.down.toString());
  return `leeway_tpl_${digest.digest('hex').slice(0, 16)}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one spec file, cloned from a migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  const template = templateName();
  const name = `leeway_test_${randomBytes(6).toString('hex')}`;
  try {
    // Jest workers share the server; one builds the template while the others wait.
    await admin.query(`SELECT pg_advisory_lock(hashtext('leeway.test-template'))`);
    const found = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
    if (found.rowCount === 0) {
      const building = `${template}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building}`);
      await admin.query(`CREATE DATABASE ${building}`);
      await runMigrations(withDatabase(adminUrl(), building));
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext('leeway.test-template'))`).catch(() => undefined);
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl(), name),
    name,
    drop: async () => {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
