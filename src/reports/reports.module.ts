import { MonthRows } from './month-rows';
import { Module } from '@nestjs/common';
import { ReleaseReader } from './release-reader';
import { ReleasesService } from './releases.service';
import { ReportsController } from './reports.controller';

@Module({
  controllers: [ReportsController],
  providers: [ReleasesService, ReleaseReader, MonthRows],
  exports: [ReleaseReader],
})
export class ReportsModule {}
