import { Global, Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Global so the write path and the jobs can count without importing this module. */
@Global()
@Module({
  imports: [AccessModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
