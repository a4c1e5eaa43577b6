import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { Team } from '../teams/team.entity';
import { Role } from '../roles/role.entity';
import { User } from '../access/user.entity';
import { Token } from '../access/token.entity';

export const entities = [Team, Role, User, Token];

export interface DataSourceOverrides {
  poolSize?: number;
  applicationName?: string;
  /** For migrations and the seed: no statement, query or idle-in-transaction time limits. */
  longRunning?: boolean;
}

/** The one set of options the app, the migration CLI and the tests use. */
export function dataSourceOptions(url: string, overrides: DataSourceOverrides = {}): DataSourceOptions {
  // Migrations and the seed may rewrite large tables: no statement limits for them.
  const limit = (ms: number) => (overrides.longRunning ? 0 : ms);
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logging: false,
    poolSize: overrides.poolSize ?? 20,
    applicationName: overrides.applicationName ?? 'leeway',
    extra: {
      // Fail fast instead of queueing forever when the database is away.
      connectionTimeoutMillis: 3000,
      query_timeout: limit(30000) || undefined,
      statement_timeout: limit(30000),
      lock_timeout: 10000,
      idle_in_transaction_session_timeout: limit(60000),
      keepAlive: true,
      // Report groupings sort and hash tens of thousands of rollup rows: keep that in memory.
      options: '-c work_mem=32MB',
    },
  };
}

export function createDataSource(url: string, overrides?: DataSourceOverrides): DataSource {
  return new DataSource(dataSourceOptions(url, overrides));
}
