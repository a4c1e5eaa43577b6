import { createDataSource } from './data-source';

/**
 * Runs pending migrations. Replicas starting together take turns on an advisory lock, so each
 * migration runs exactly once.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = createDataSource(url, { poolSize: 1, applicationName: 'leeway-migrate-lock', longRunning: true });
  const work = createDataSource(url, { poolSize: 2, applicationName: 'leeway-migrate', longRunning: true });
  await lock.initialize();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('leeway.migrations'))`);
    await work.initialize();
    const ran = await work.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    if (work.isInitialized) await work.destroy();
    await lock.query(`SELECT pg_advisory_unlock(hashtext('leeway.migrations'))`).catch(() => undefined);
    await lock.destroy();
  }
}
