import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../access/allow.decorator';
import { DomainError } from '../common/domain-error';
import { ApiProblems } from '../common/openapi';
import { LiveView, ReadyView } from './dto/health.dto';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness' })
  @Public()
  @ApiOkResponse({ type: LiveView, description: 'The process is serving' })
  live(): LiveView {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database is reachable' })
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: ReadyView, description: 'The database is reachable' })
  @ApiProblems(503)
  async ready(): Promise<ReadyView> {
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
    } catch {
      throw new DomainError('UNAVAILABLE', 'The database is not reachable.');
    }
    return { status: 'ok', database: 'up' };
  }
}
