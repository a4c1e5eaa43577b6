import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsOptional, ValidateNested } from 'class-validator';
import { IsCurrency, IsMinorUnits, MAX_LIMIT } from '../../common/money';

export class CurrencyLimitsDto {
  @ApiProperty({ example: 'EUR' })
  @IsCurrency()
  currency!: string;

  @ApiPropertyOptional({ description: 'Largest single credit within discretion (minor units); absent = unlimited' })
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perCredit?: number;

  @ApiPropertyOptional({ description: 'All agents together on one case' })
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perCase?: number;

  @ApiPropertyOptional({ description: 'One agent per local day' })
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perAgentDay?: number;

  @ApiPropertyOptional({ description: 'One agent per local month' })
  @IsOptional()
  @IsMinorUnits(MAX_LIMIT, 0n)
  perAgentMonth?: number;
}

export class SetLimitsDto {
  @ApiProperty({ type: [CurrencyLimitsDto], description: 'The complete set; currencies left out get no discretion' })
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
