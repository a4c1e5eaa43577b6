import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ApiCount, ApiInstant, ApiMoney } from '../../common/openapi';
import { LIMIT_KEYS } from '../../roles/limits';
import { LimitsView } from '../../roles/dto/role.dto';
import { MONTH } from '../../common/validators';
import { GROUP_KEYS, PERIODS } from './report-query.dto';

/** Response shapes of the reports API, as the document describes them. */

const SPLIT = 'null where the agents with an overrun in the figure would not pass the release rules (never 0)';
const MONTH_OR_NULL = { type: String, pattern: MONTH.source, nullable: true, example: '2026-11' } as const;

export class NamedGroupView {
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null groups credits without one' })
  id!: string | null;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

/** Sums of whole published blocks: credits and reversals recorded in the months, net amounts. */
export class FiguresView {
  @ApiCount({ description: 'Credits recorded' }) credits!: number;
  @ApiCount({ description: 'Reversals recorded (of credits from any month)' }) reversals!: number;
  @ApiMoney({ description: 'Net: credits minus reversals recorded in the period' }) amount!: bigint;
  @ApiMoney({ nullable: true, description: SPLIT }) withinDiscretion!: bigint | null;
  @ApiMoney({ nullable: true, description: SPLIT }) overrun!: bigint | null;
  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, description: SPLIT })
  creditsWithOverrun!: number | null;
}

/** A row carries only the keys it is grouped by (and `period` unless period=none). */
export class SpendRowView extends FiguresView {
  @ApiPropertyOptional({ example: '2026-11', description: '2026-11, 2026-Q4 or 2026' }) period?: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'late_delivery' }) reason?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'refund' }) kind?: string | null;
  @ApiPropertyOptional({ type: NamedGroupView }) role?: NamedGroupView;
  @ApiPropertyOptional({ type: NamedGroupView }) team?: NamedGroupView;
  @ApiPropertyOptional({ type: String, nullable: true }) channel?: string | null;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class CurrencyFiguresView extends FiguresView {
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class WithheldMonthView {
  @ApiProperty({ type: String, pattern: MONTH.source, example: '2026-11' }) month!: string;
  @ApiProperty({ example: 'GBP' }) currency!: string;
}

export class SpendReportView {
  @ApiProperty({ type: 'integer', minimum: 3, description: 'Fewest distinct agents any published block covers' })
  minCohort!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, description: 'The p% dominance rule' })
  dominancePercent!: number;
  @ApiProperty({ ...MONTH_OR_NULL, description: 'First month; null while no month is closed' }) from!: string | null;
  @ApiProperty({ ...MONTH_OR_NULL, description: 'Last month; null while no month is closed' }) to!: string | null;
  @ApiProperty({ enum: PERIODS }) period!: string;
  @ApiProperty({ enum: GROUP_KEYS, isArray: true }) groupBy!: string[];
  @ApiPropertyOptional({ example: 'EUR' }) currency?: string;
  @ApiProperty({ type: [SpendRowView] }) rows!: SpendRowView[];
  @ApiProperty({
    type: [CurrencyFiguresView],
    description: 'Per currency: blocks coarser than the grouping (they lack one of its keys), so in no row',
  })
  notShown!: CurrencyFiguresView[];
  @ApiProperty({ type: [CurrencyFiguresView], description: 'Per currency: every published block' })
  totals!: CurrencyFiguresView[];
  @ApiProperty({
    type: [WithheldMonthView],
    description: 'Currency-months that exist but could not be published at all (too few agents)',
  })
  withheld!: WithheldMonthView[];
}

export class LimitFitRoleView {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class SuppressedLimitFitRowView {
  @ApiProperty({ type: LimitFitRoleView }) role!: LimitFitRoleView;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: [true], description: 'No month in range with minCohort agents: nothing is shown' })
  suppressed!: true;
}

const PERCENTILE = 'The upper edge of the bucket holding this percentile of credit amounts (1-2-5 steps)';
const SHARE = { type: Number, format: 'double', minimum: 0, maximum: 1 } as const;
const SHARE_WITHHELD =
  'null (withheld, never 0) when, in a month of the range, the agents with an overrun in the role fall short of ' +
  'minCohort or the p% rule, or a block of the role withholds its split';

export class LimitFitRowView {
  @ApiProperty({ type: LimitFitRoleView }) role!: LimitFitRoleView;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiCount({
    description:
      "Credits in the role's release blocks, over the months the role shows in (each month's figure is the spend " +
      "report's row for the role); cells rolled into a block without the role are not counted",
  })
  credits!: number;
  @ApiProperty({ type: LimitsView, nullable: true, description: 'Current limits; null when none in this currency' })
  limits!: LimitsView | null;
  @ApiMoney({ minimum: 0, description: PERCENTILE }) p50!: bigint;
  @ApiMoney({ minimum: 0, description: PERCENTILE }) p90!: bigint;
  @ApiMoney({ minimum: 0, description: PERCENTILE }) p95!: bigint;
  @ApiMoney({ minimum: 0, description: PERCENTILE }) p99!: bigint;
  @ApiProperty({
    ...SHARE,
    nullable: true,
    description: `Share of credits above the perCredit in force when each was logged (net of the months' reversals). ${SHARE_WITHHELD}`,
  })
  shareOverPerCredit!: number | null;
  @ApiProperty({
    ...SHARE,
    nullable: true,
    description: `Share of credits with an overrun (net of the months' reversals). ${SHARE_WITHHELD}`,
  })
  shareWithOverrun!: number | null;
  @ApiProperty({
    enum: [...LIMIT_KEYS, 'none'],
    nullable: true,
    description: `The limit that bound most often. ${SHARE_WITHHELD}`,
  })
  bindingLimit!: string | null;
  @ApiMoney({ minimum: 0, description: 'A perCredit covering 95% of credits (a bucket edge)' })
  suggestedPerCredit!: bigint;
}

@ApiExtraModels(LimitFitRowView, SuppressedLimitFitRowView)
export class LimitFitView {
  @ApiProperty({ type: 'integer', minimum: 3 }) minCohort!: number;
  @ApiProperty({ ...MONTH_OR_NULL, description: 'First month counted' }) from!: string | null;
  @ApiProperty({ ...MONTH_OR_NULL, description: 'Last month counted' }) to!: string | null;
  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(LimitFitRowView) }, { $ref: getSchemaPath(SuppressedLimitFitRowView) }] },
  })
  rows!: Array<LimitFitRowView | SuppressedLimitFitRowView>;
}

export class MonthStatusView {
  @ApiProperty({ type: String, pattern: MONTH.source, example: '2026-11' }) month!: string;
  @ApiProperty({
    enum: ['released', 'due', 'awaiting_close', 'open'],
    description:
      'released: its figures are published; due: closed, released on the next read; awaiting_close: ended, ' +
      'but entries could still be recording into it; open: the current month',
  })
  state!: string;
  @ApiInstant({ nullable: true }) releasedAt!: Date | null;
}

export class MonthsView {
  @ApiProperty({ type: [MonthStatusView] }) data!: MonthStatusView[];
}

export class MonthToDateRowView {
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiMoney({ description: 'Net amount recorded this month up to asOf, over all agents' }) amount!: bigint;
  @ApiCount() credits!: number;
  @ApiProperty({
    type: String,
    format: 'date',
    nullable: true,
    description: 'The last day counted: days whose increment covers fewer than minCohort agents carry forward',
  })
  asOf!: string | null;
}

export class MonthToDateView {
  @ApiProperty({ type: String, pattern: MONTH.source }) month!: string;
  @ApiProperty({ type: 'integer', minimum: 3 }) minCohort!: number;
  @ApiProperty({ type: [MonthToDateRowView] }) data!: MonthToDateRowView[];
}
