import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { NoControlCharacters } from '../../common/validators';
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

  @ApiPropertyOptional({
    description: 'Auditors only: the agent by their externalRef (as the helpdesk or identity provider knows them)',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  agentRef?: string;
}
