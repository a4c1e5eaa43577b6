import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ReportsModule } from '../reports/reports.module';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';

@Module({ imports: [ReportsModule, AuditModule], controllers: [LedgerController], providers: [LedgerService] })
export class LedgerModule {}
