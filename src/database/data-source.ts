import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { QUERY_TIMEOUT_MS, transactionSettingsSubscriber } from './transaction-settings';

export interface DataSourceOverrides {
  poolSize?: number;
  applicationName?: string;
  /** For migrations and the seed: no statement, query or idle-in-transaction time limits. */
  longRunning?: boolean;
}

/** The one set of options the app, the migration CLI and the tests use. */
export function dataSourceOptions(url: string, overrides: DataSourceOverrides = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // Plain SQL throughout (typed rows per module): no entities.
    entities: [],
    migrations,
    // Server settings (timeouts, work_mem) go into every transaction, not the connection, so that
    // they hold through PgBouncer in transaction pooling mode: see transaction-settings.ts.
    subscribers: [transactionSettingsSubscriber(overrides.longRunning)],
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logging: false,
    poolSize: overrides.poolSize ?? 20,
    applicationName: overrides.applicationName ?? 'leeway',
    extra: {
      // Fail fast instead of queueing forever when the database is away.
      connectionTimeoutMillis: 3000,
      // Bounds statements outside a transaction too, which no server setting reaches through a pooler.
      query_timeout: overrides.longRunning ? undefined : QUERY_TIMEOUT_MS,
      keepAlive: true,
    },
  };
}

export function createDataSource(url: string, overrides?: DataSourceOverrides): DataSource {
  return new DataSource(dataSourceOptions(url, overrides));
}
