import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { Allow } from '../access/allow.decorator';
import { ApiPage } from '../common/openapi';
import { decodeCursor, toPage } from '../common/pagination';
import { AuditService } from './audit.service';
import { AuditQueryDto, AuditEventView } from './dto/audit.dto';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first' })
  @Allow('admin')
  @ApiPage(AuditEventView)
  async list(@Query() q: AuditQueryDto) {
    const limit = q.limit ?? 50;
    const before = decodeCursor(q.cursor, 1);
    if (before && !/^\d{1,18}$/.test(before[0])) decodeCursor('invalid', 1);
    const rows = await this.audit.list({
      limit: limit + 1,
      beforeId: before?.[0],
      action: q.action,
    });
    return toPage(
      rows,
      limit,
      (r) => ({ ...r, at: r.at.toISOString() }),
      (r) => [r.id],
    );
  }
}
