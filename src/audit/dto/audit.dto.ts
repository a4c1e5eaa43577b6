import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ApiId, ApiInstant } from '../../common/openapi';
import { PageQueryDto } from '../../common/pagination';

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
