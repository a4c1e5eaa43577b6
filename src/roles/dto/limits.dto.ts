import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsOptional, ValidateNested } from 'class-validator';
import { IsCurrency, IsMinorUnits, MAX_LIMIT } from '../../common/money';
import { ApiMoney, MAX_SAFE_MONEY } from '../../common/openapi';

/** A limit as sent: whole minor units; null or absent = no limit in that window. */
const limit = (description: string) =>
  ApiMoney({ required: false, nullable: true, minimum: 0, maximum: MAX_SAFE_MONEY, description });

export class CurrencyLimitsDto {
  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code, listed once' })
  @IsCurrency()
  currency!: string;

  @limit('Largest single credit within discretion (minor units); null or absent = unlimited')
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perCredit?: number | null;

  @limit('All agents together on one case')
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perCase?: number | null;

  @limit('One agent per local day')
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perAgentDay?: number | null;

  @limit('One agent per local month')
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perAgentMonth?: number | null;
}

export class SetLimitsDto {
  @ApiProperty({
    type: [CurrencyLimitsDto],
    maxItems: 200,
    description: 'The complete set; currencies left out get no discretion; [] removes all discretion',
  })
  @IsArray()
  @ArrayMaxSize(200)
  @IsObject({
    each: true,
    message: 'each entry of limits must be an object such as { "currency": "EUR", "perCredit": 2500 }',
  })
  @ValidateNested({ each: true })
  @Type(() => CurrencyLimitsDto)
  limits!: CurrencyLimitsDto[];
}
