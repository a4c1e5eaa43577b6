import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';

export class ListCreditsDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'occurredAt on or after (ISO 8601 date or date-time)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'occurredAt before (ISO 8601 date or date-time)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', description: 'Auditors only' })
  @IsOptional()
  @IsUUID()
  agentId?: string;
}
