import { Module } from '@nestjs/common';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';
import { RollupFolder } from './rollup-folder';

@Module({ controllers: [ReportsController], providers: [ReportsService, RollupFolder] })
export class ReportsModule {}
