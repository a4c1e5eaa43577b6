import { DynamicModule, Global, Module } from '@nestjs/common';
import { DATABASE_LISTEN_URL } from '../database/database-url';
import { APP_CONFIG, AppConfig } from './config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, database: { listenUrl: string }): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DATABASE_LISTEN_URL, useValue: database.listenUrl },
      ],
      exports: [APP_CONFIG, DATABASE_LISTEN_URL],
    };
  }
}
