import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayUnique, IsArray, IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { IsCurrency } from '../../common/money';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const GROUP_KEYS = ['reason', 'kind', 'role', 'team', 'channel'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export const PERIODS = ['none', 'day', 'week', 'month', 'quarter'] as const;
export type Period = (typeof PERIODS)[number];

/** `groupBy=reason,team` (a repeated query parameter is refused by the validation pipe). */
function splitList({ value }: { value: unknown }): unknown {
  if (value === undefined || value === '') return [];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export class SpendReportQueryDto {
  @ApiProperty({ example: '2026-01-01', format: 'date', description: 'First local day of occurrence (inclusive)' })
  @Matches(DATE, { message: 'from must be a date such as 2026-01-01' })
  @IsISO8601({ strict: true }, { message: 'from must be a real calendar date' })
  from!: string;

  @ApiProperty({ example: '2026-12-31', format: 'date', description: 'Last local day of occurrence (inclusive)' })
  @Matches(DATE, { message: 'to must be a date such as 2026-12-31' })
  @IsISO8601({ strict: true }, { message: 'to must be a real calendar date' })
  to!: string;

  @ApiPropertyOptional({ enum: PERIODS, default: 'none' })
  @IsOptional()
  @IsIn(PERIODS, { message: `period must be one of ${PERIODS.join(', ')}` })
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

  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class LimitFitQueryDto {
  @ApiPropertyOptional({
    example: '2026-01-01',
    format: 'date',
    description: 'First month counted is the one holding this day',
  })
  @IsOptional()
  @Matches(DATE, { message: 'from must be a date such as 2026-01-01' })
  @IsISO8601({ strict: true }, { message: 'from must be a real calendar date' })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-12-31',
    format: 'date',
    description: 'Last month counted is the one holding this day',
  })
  @IsOptional()
  @Matches(DATE, { message: 'to must be a date such as 2026-12-31' })
  @IsISO8601({ strict: true }, { message: 'to must be a real calendar date' })
  to?: string;

  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;
}
