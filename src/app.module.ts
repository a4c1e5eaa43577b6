import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessGuard } from './access/access.guard';
import { AccessModule } from './access/access.module';
import { AuditModule } from './audit/audit.module';
import { ProblemFilter } from './common/problem.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { HealthModule } from './health/health.module';
import { RolesModule } from './roles/roles.module';
import { TeamsModule } from './teams/teams.module';
import { ReasonsModule } from './reasons/reasons.module';
import { CreditsModule } from './credits/credits.module';
import { LedgerModule } from './ledger/ledger.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReportsModule } from './reports/reports.module';
import { SignInModule } from './sign-in/sign-in.module';
import { ScimModule } from './scim/scim.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { ImportsModule } from './imports/imports.module';

/**
 * The whole application. Pipes, filters and guards are declared here as APP_* providers so that
 * tests importing AppModule get exactly the production pipeline.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, { listenUrl: config.databaseDirectUrl ?? databaseUrl }),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, { poolSize: config.dbPoolSize })),
        AuditModule,
        AccessModule,
        SignInModule,
        ScimModule,
        HealthModule,
        TeamsModule,
        RolesModule,
        ReasonsModule,
        CreditsModule,
        LedgerModule,
        ReportsModule,
        MetricsModule,
        WebhooksModule,
        ImportsModule,
      ],
      providers: [
        { provide: APP_PIPE, useClass: AppValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
    };
  }
}
