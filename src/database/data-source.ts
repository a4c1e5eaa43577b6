import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { Team } from '../teams/team.entity';
import { Role } from '../roles/role.entity';
import { User } from '../access/user.entity';
import { Token } from '../access/token.entity';

export const entities = [Team, Role, User, Token];

/** The one set of options the app, the migration CLI and the tests use. */
export function dataSourceOptions(
  url: string,
  overrides: { poolSize?: number; applicationName?: string } = {},
): DataSourceOptions {
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
      query_timeout: 30000,
      statement_timeout: 30000,
      lock_timeout: 10000,
      idle_in_transaction_session_timeout: 60000,
      keepAlive: true,
    },
  };
}

export function createDataSource(url: string, overrides?: { poolSize?: number; applicationName?: string }): DataSource {
  return new DataSource(dataSourceOptions(url, overrides));
}
