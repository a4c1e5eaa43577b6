import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { Allow } from '../access/allow.decorator';
import { ApiId, ApiInstant, ApiPage } from '../common/openapi';
import { decodeCursor, PageQueryDto, toPage } from '../common/pagination';
import { AuditService } from './audit.service';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'token.issued', pattern: '^[a-z_]+\\.[a-z_]+$' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like token.issued' })
  action?: string;
}

export class AuditEventView {
  @ApiProperty({ pattern: '^[0-9]+$', description: 'Increasing event number (a string of digits)' }) id!: string;
  @ApiInstant() at!: string;
  @ApiId({ nullable: true, description: 'Who acted; null for the system' }) actorId!: string | null;
  @ApiProperty({ example: 'token.issued' }) action!: string;
  @ApiProperty({ example: 'token' }) subjectType!: string;
  @ApiProperty({ type: String, nullable: true, description: 'A UUID, or a reason code' }) subjectId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed, per action' })
  details!: Record<string, unknown>;
}

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
