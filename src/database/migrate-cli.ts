import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config';
import { resolveDatabase } from './database-url';
import { runMigrations } from './migrate';

/**
 * `npm run migration:run`: applies pending migrations to DATABASE_DIRECT_URL when given, otherwise to
 * DATABASE_URL or the embedded database.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { migrationUrl, embedded } = await resolveDatabase(config, () => undefined);
  try {
    const ran = await runMigrations(migrationUrl);
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'no pending migrations\n');
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `migration failed: ${error instanceof Error ? error.message : String(error)}`}\n`,
  );
  process.exit(1);
});
