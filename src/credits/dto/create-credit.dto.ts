import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsCurrency, IsMinorUnits, MAX_AMOUNT } from '../../common/money';
import { ApiMoney } from '../../common/openapi';
import { Channel, CHANNELS, CREDIT_KINDS, CreditKind } from '../credit-kinds';
import { IsCaseRef, IsReasonCode, NoControlCharacters, REASON_CODE } from '../../common/validators';

export class CreateCreditDto {
  @ApiMoney({
    minimum: 1,
    maximum: Number(MAX_AMOUNT),
    description: 'Positive integer in minor units (2500 = 25.00 EUR), at most 10^12',
  })
  @IsMinorUnits(MAX_AMOUNT)
  amount!: number;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' })
  @IsCurrency()
  currency!: string;

  @ApiProperty({ enum: CREDIT_KINDS, description: 'Non-monetary kinds carry their cost to the business' })
  @IsIn(CREDIT_KINDS, { message: `kind must be one of ${CREDIT_KINDS.join(', ')}` })
  kind!: CreditKind;

  @ApiProperty({
    example: 'late_delivery',
    pattern: REASON_CODE.source,
    description: 'An active code from /v1/reasons',
  })
  @IsString()
  @IsReasonCode()
  reasonCode!: string;

  @ApiProperty({
    example: 'CASE-48213',
    minLength: 1,
    maxLength: 100,
    description: 'The support case this credit belongs to; not blank, no control characters',
  })
  @IsCaseRef()
  caseRef!: string;

  @ApiPropertyOptional({ example: 'CUST-991', type: String, nullable: true, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  customerRef?: string | null;

  @ApiPropertyOptional({ enum: CHANNELS, nullable: true })
  @IsOptional()
  @IsIn(CHANNELS, { message: `channel must be one of ${CHANNELS.join(', ')}` })
  channel?: Channel | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(0, 2000)
  @NoControlCharacters({ multiline: true })
  note?: string | null;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'ISO 8601 instant with a UTC offset; default now; at most 7 days ago and 5 minutes ahead',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  @Matches(/T.*(Z|[+-]\d{2}:?\d{2})$/, { message: 'occurredAt must include a time and a UTC offset' })
  occurredAt?: string;

  @ApiPropertyOptional({
    example: 'agent-1042',
    minLength: 1,
    maxLength: 200,
    description:
      'Integrations only, and required for them: the externalRef of the active agent the credit is logged for',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  agentRef?: string;
}

export class ReverseCreditDto {
  @ApiProperty({ example: 'Logged on the wrong case', minLength: 1, maxLength: 500 })
  @IsString()
  @Length(1, 500)
  @NoControlCharacters({ multiline: true })
  reason!: string;
}
