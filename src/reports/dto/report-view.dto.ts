import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ApiCount, ApiMoney } from '../../common/openapi';
import { LIMIT_KEYS } from '../../roles/limits';
import { LimitsView } from '../../roles/dto/role.dto';
import { GROUP_KEYS, PERIODS } from './report-query.dto';

/** Response shapes of the reports API, as the document describes them. */

export class NamedGroupView {
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null groups credits without one' })
  id!: string | null;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class FiguresView {
  @ApiCount() credits!: bigint;
  @ApiMoney({ minimum: 0 }) amount!: bigint;
  @ApiMoney({ minimum: 0 }) withinDiscretion!: bigint;
  @ApiMoney({ minimum: 0 }) overrun!: bigint;
  @ApiCount() creditsWithOverrun!: bigint;
}

/** A row carries only the keys it is grouped by (and `period` unless period=none). */
export class SpendRowView extends FiguresView {
  @ApiPropertyOptional({ example: '2026-11', description: '2026-11-03, 2026-W45, 2026-11 or 2026-Q4' }) period?: string;
  @ApiPropertyOptional({ example: 'late_delivery' }) reason?: string;
  @ApiPropertyOptional({ example: 'refund' }) kind?: string;
  @ApiPropertyOptional({ type: NamedGroupView }) role?: NamedGroupView;
  @ApiPropertyOptional({ type: NamedGroupView }) team?: NamedGroupView;
  @ApiPropertyOptional({ type: String, nullable: true }) channel?: string | null;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

/** Rows withheld in one currency; its figures are null when showing them would reveal a small group. */
export class SuppressedSpendView {
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiCount({ type: 'integer', description: 'How many rows are withheld' }) rows!: number;
  @ApiCount({ nullable: true }) credits!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true }) amount!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true }) withinDiscretion!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true }) overrun!: bigint | null;
  @ApiCount({ nullable: true }) creditsWithOverrun!: bigint | null;
}

export class SpendTotalView extends FiguresView {
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class SpendReportView {
  @ApiProperty({ type: 'integer', minimum: 3, description: 'Fewest distinct agents any published figure covers' })
  minCohort!: number;
  @ApiProperty({ format: 'date' }) from!: string;
  @ApiProperty({ format: 'date' }) to!: string;
  @ApiProperty({ enum: PERIODS }) period!: string;
  @ApiProperty({ enum: GROUP_KEYS, isArray: true }) groupBy!: string[];
  @ApiPropertyOptional({ example: 'EUR' }) currency?: string;
  @ApiProperty({ type: [SpendRowView] }) rows!: SpendRowView[];
  @ApiProperty({ type: [SuppressedSpendView] }) suppressed!: SuppressedSpendView[];
  @ApiProperty({ type: [SpendTotalView], description: 'Per currency covering at least minCohort agents' })
  totals!: SpendTotalView[];
}

export class LimitFitRoleView {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class SuppressedLimitFitRowView {
  @ApiProperty({ type: LimitFitRoleView }) role!: LimitFitRoleView;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: [true], description: 'Fewer than minCohort agents: nothing is shown' }) suppressed!: true;
}

const PERCENTILE = 'Nearest-rank percentile of credit amounts (a bucket edge); null without credits';
const SHARE = { type: Number, format: 'double', minimum: 0, maximum: 1, nullable: true } as const;

export class LimitFitRowView {
  @ApiProperty({ type: LimitFitRoleView }) role!: LimitFitRoleView;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiCount() credits!: bigint;
  @ApiProperty({ type: LimitsView, nullable: true, description: 'Current limits; null when none in this currency' })
  limits!: LimitsView | null;
  @ApiMoney({ minimum: 0, nullable: true, description: PERCENTILE }) p50!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: PERCENTILE }) p90!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: PERCENTILE }) p95!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: PERCENTILE }) p99!: bigint | null;
  @ApiProperty({ ...SHARE, description: 'Share of credits above perCredit (a fraction, 4 decimals)' })
  shareOverPerCredit!: number | null;
  @ApiProperty({ ...SHARE, description: 'Share of credits with an overrun (a fraction, 4 decimals)' })
  shareWithOverrun!: number | null;
  @ApiProperty({ enum: LIMIT_KEYS, nullable: true, description: 'The limit that bound most often' })
  bindingLimit!: string | null;
  @ApiMoney({ minimum: 0, nullable: true, description: 'A perCredit covering 95% of credits' })
  suggestedPerCredit!: bigint | null;
}

@ApiExtraModels(LimitFitRowView, SuppressedLimitFitRowView)
export class LimitFitView {
  @ApiProperty({ type: 'integer', minimum: 3 }) minCohort!: number;
  @ApiProperty({ format: 'date', description: 'First day of the first month counted' }) from!: string;
  @ApiProperty({ format: 'date', description: 'Last day of the last month counted' }) to!: string;
  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(LimitFitRowView) }, { $ref: getSchemaPath(SuppressedLimitFitRowView) }] },
  })
  rows!: Array<LimitFitRowView | SuppressedLimitFitRowView>;
}
