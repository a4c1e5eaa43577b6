import { createDataSource } from './data-source';

const MIGRATION_LOCK = `hashtext('leeway.migrations')`;

/**
 * Runs pending migrations, each in its own transaction. Replicas starting together take turns on an
 * advisory lock, so each migration runs exactly once.
 *
 * The lock is transaction-scoped and held by a transaction kept open on its own connection for the
 * whole run. Through PgBouncer in transaction pooling mode that pins one server connection until
 * the run ends; a session lock would instead stay behind on whichever server connection took it, and
 * the unlock could reach another. The same code serves a direct connection (DATABASE_DIRECT_URL).
 */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = createDataSource(url, { poolSize: 1, applicationName: 'leeway-migrate-lock', longRunning: true });
  const work = createDataSource(url, { poolSize: 2, applicationName: 'leeway-migrate', longRunning: true });
  await lock.initialize();
  const holder = lock.createQueryRunner();
  try {
    await holder.startTransaction();
    // Wait for another replica's migrations however long they take, instead of failing after lock_timeout.
    await holder.query(`SET LOCAL lock_timeout = 0`);
    await holder.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await work.initialize();
    const ran = await work.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    if (work.isInitialized) await work.destroy();
    // Ending the transaction releases the lock; it wrote nothing.
    if (holder.isTransactionActive) await holder.rollbackTransaction().catch(() => undefined);
    await holder.release();
    await lock.destroy();
  }
}
