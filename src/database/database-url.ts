import { AppConfig } from '../config/config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres';

/**
 * Where a process LISTENs for NOTIFY: DATABASE_DIRECT_URL when given (a pooler in transaction mode
 * drops notifications), otherwise the pool's own database.
 */
export const DATABASE_LISTEN_URL = Symbol('DATABASE_LISTEN_URL');

export interface ResolvedDatabase {
  /** What the service's pool connects to: DATABASE_URL (perhaps a PgBouncer) or the embedded database. */
  url: string;
  /** What migrations connect to: DATABASE_DIRECT_URL when given (bypassing a pooler), otherwise `url`. */
  migrationUrl: string;
  embedded: EmbeddedDatabase | null;
}

/** DATABASE_URL when given, otherwise an embedded PostgreSQL kept in LEEWAY_DATA_DIR. */
export async function resolveDatabase(config: AppConfig, log: (line: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, migrationUrl: config.databaseDirectUrl ?? config.databaseUrl, embedded: null };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, log);
  return { url: embedded.url, migrationUrl: embedded.url, embedded };
}
