import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsCurrency, IsMinorUnits, MAX_AMOUNT } from '../../common/money';
import { Channel, CHANNELS, CREDIT_KINDS, CreditKind } from '../credit-kinds';

const PRINTABLE = /^[^\p{Cc}\p{Cs}]*$/u;
const PRINTABLE_MULTILINE = /^[^\p{Cs}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/u;

export class CreateCreditDto {
  @ApiProperty({ example: 2500, description: 'Positive integer in minor units (2500 = 25.00 EUR), at most 10^12' })
  @IsMinorUnits(MAX_AMOUNT)
  amount!: number;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' })
  @IsCurrency()
  currency!: string;

  @ApiProperty({ enum: CREDIT_KINDS, description: 'Non-monetary kinds carry their cost to the business' })
  @IsIn(CREDIT_KINDS, { message: `kind must be one of ${CREDIT_KINDS.join(', ')}` })
  kind!: CreditKind;

  @ApiProperty({ example: 'late_delivery', description: 'An active code from /v1/reasons' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{1,49}$/, { message: 'reasonCode must be a reason code such as late_delivery' })
  reasonCode!: string;

  @ApiProperty({ example: 'CASE-48213', description: 'The support case this credit belongs to' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[^\p{Cc}\p{Cs}\p{Zl}\p{Zp}]+$/u, { message: 'caseRef must not contain control characters' })
  @Matches(/\S/, { message: 'caseRef must not be blank' })
  caseRef!: string;

  @ApiPropertyOptional({ example: 'CUST-991' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(PRINTABLE, { message: 'customerRef must not contain control characters' })
  customerRef?: string;

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS, { message: `channel must be one of ${CHANNELS.join(', ')}` })
  channel?: Channel;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(0, 2000)
  @Matches(PRINTABLE_MULTILINE, { message: 'note must not contain control characters' })
  note?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 instant; default now; at most 7 days ago and 5 minutes ahead' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  @Matches(/T.*(Z|[+-]\d{2}:?\d{2})$/, { message: 'occurredAt must include a time and a UTC offset' })
  occurredAt?: string;
}

export class ReverseCreditDto {
  @ApiProperty({ example: 'Logged on the wrong case' })
  @IsString()
  @Length(1, 500)
  @Matches(PRINTABLE_MULTILINE, { message: 'reason must not contain control characters' })
  reason!: string;
}
