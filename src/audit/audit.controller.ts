import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { Allow } from '../access/allow.decorator';
import { decodeCursor, PageQueryDto, toPage } from '../common/pagination';
import { AuditService } from './audit.service';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'token.issued' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like token.issued' })
  action?: string;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Allow('admin')
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
