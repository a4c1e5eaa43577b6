import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { CreateCreditDto } from '../../credits/dto/create-credit.dto';
import { NoControlCharacters } from '../../common/validators';
import { IDEMPOTENCY_KEY } from '../../credits/idempotency-key';

export class ImportQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Admins: the integration the credits come from (its name becomes their source system, and ' +
      'externalId is unique within it). An integration imports as itself and leaves this out.',
  })
  @IsOptional()
  @IsUUID()
  integrationId?: string;
}

/**
 * One row of an import: a credit as an integration logs it, with its id in the source system and
 * an occurredAt that is required and may lie in the past.
 */
export class ImportRowDto extends OmitType(CreateCreditDto, ['agentRef', 'occurredAt'] as const) {
  @IsString()
  @Matches(IDEMPOTENCY_KEY, { message: 'externalId must be 1 to 255 visible ASCII characters' })
  externalId!: string;

  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  agentRef!: string;

  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  @Matches(/T.*(Z|[+-]\d{2}:?\d{2})$/, { message: 'occurredAt must include a time and a UTC offset' })
  occurredAt!: string;
}

export class ImportResultView {
  @ApiProperty({ example: 'Zendesk', description: 'The source system the credits are recorded under' })
  system!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Rows in the file (the header not counted)' })
  rows!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Credits logged by this import' })
  created!: number;
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Rows whose externalId was already logged with the same values: nothing changed',
  })
  unchanged!: number;
}
