import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayUnique, IsArray, IsIn, IsOptional, Matches } from 'class-validator';
import { IsCurrency } from '../../common/money';
import { MONTH } from '../../common/validators';

const MONTH_MESSAGE = (field: string) =>
  `${field} must be a month such as 2026-11: reports read whole closed months, never days`;

export const GROUP_KEYS = ['reason', 'kind', 'role', 'team', 'channel'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export const PERIODS = ['none', 'month', 'quarter', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** `groupBy=reason,team` (a repeated query parameter is refused by the validation pipe). */
function splitList({ value }: { value: unknown }): unknown {
  if (value === undefined || value === '') return [];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** A range of closed months; without one, the last twelve closed months. */
export class MonthRangeQueryDto {
  @ApiPropertyOptional({ example: '2026-01', pattern: MONTH.source, description: 'First month (inclusive)' })
  @IsOptional()
  @Matches(MONTH, { message: MONTH_MESSAGE('from') })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11',
    pattern: MONTH.source,
    description: 'Last month (inclusive); it must be closed. Default: the last closed month',
  })
  @IsOptional()
  @Matches(MONTH, { message: MONTH_MESSAGE('to') })
  to?: string;

  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;
}

export class SpendReportQueryDto extends MonthRangeQueryDto {
  @ApiPropertyOptional({ enum: PERIODS, default: 'none' })
  @IsOptional()
  @IsIn(PERIODS, {
    message:
      'period must be none, month, quarter or year: reports read closed-month releases, so days and weeks are not available',
  })
  period?: Period;

  @ApiPropertyOptional({
    description: `Comma-separated subset of ${GROUP_KEYS.join(', ')}. Reports never group by agent.`,
    example: 'reason,team',
    type: String,
  })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayUnique({ message: 'groupBy must not repeat a key' })
  @IsIn(GROUP_KEYS, {
    each: true,
    message: `groupBy may only contain ${GROUP_KEYS.join(', ')}; reports never group by person`,
  })
  groupBy?: GroupKey[];

  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class LimitFitQueryDto extends MonthRangeQueryDto {}
