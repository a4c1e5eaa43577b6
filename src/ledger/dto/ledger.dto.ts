import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsCurrency } from '../../common/money';
import { ApiInstant, ApiMoney } from '../../common/openapi';
import { MONTH_OR_DAY } from '../../common/validators';

export class BalancesQueryDto {
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;
}

export class JournalQueryDto extends BalancesQueryDto {
  @ApiPropertyOptional({
    example: '2026-10',
    pattern: MONTH_OR_DAY.source,
    description: 'A closed month (`2026-10`, finance) or a day (`2026-10-03`, auditors only: each read is audited)',
  })
  @IsOptional()
  @Matches(MONTH_OR_DAY, {
    message: 'from must be a month such as 2026-10 (or, for auditors, a day such as 2026-10-03)',
  })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11', pattern: MONTH_OR_DAY.source, description: 'The same form as from' })
  @IsOptional()
  @Matches(MONTH_OR_DAY, { message: 'to must be a month such as 2026-11 (or, for auditors, a day such as 2026-11-30)' })
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class BalanceView {
  @ApiProperty({ example: 'goodwill:within-discretion' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiMoney({
    nullable: true,
    description: 'Signed: debits positive; sums to zero per currency. null: a month of this currency was withheld',
  })
  balance!: bigint | null;
}

export class BalancesView {
  @ApiInstant({
    nullable: true,
    description: 'The end of the last closed month (finance), or now (auditors); null while no month is closed',
  })
  asOf!: Date | null;
  @ApiProperty({ type: [BalanceView] }) data!: BalanceView[];
}

export class JournalRowView {
  @ApiProperty({ example: '2026-11', description: 'A month (finance) or a day (auditors)' }) period!: string;
  @ApiProperty({ example: 'goodwill:within-discretion' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiMoney({ minimum: 0, nullable: true, description: 'null where one side covers fewer than minCohort agents' })
  debits!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: 'null where one side covers fewer than minCohort agents' })
  credits!: bigint | null;
  @ApiMoney({ nullable: true, description: 'debits − credits; null for a currency-month that could not be published' })
  net!: bigint | null;
}

export class JournalView {
  @ApiProperty({ type: String, nullable: true }) from!: string | null;
  @ApiProperty({ type: String, nullable: true }) to!: string | null;
  @ApiProperty({ type: [JournalRowView], description: 'Totals per month (or day), account and currency' })
  data!: JournalRowView[];
}
