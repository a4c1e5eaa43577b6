import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { csvLine, wantsCsv } from '../common/csv';
import { IsCurrency } from '../common/money';
import { ApiInstant, ApiJsonOrCsv, ApiMoney } from '../common/openapi';
import { LedgerService } from './ledger.service';

const MONTH_OR_DAY = /^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/;

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

/**
 * The books. Finance reads closed months only, from the releases (exact, but merged or withheld
 * where a month covers too few agents); auditors read live balances and daily totals, and every
 * such read is written to the audit log.
 */
@ApiTags('ledger')
@Controller('v1/ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Get('balances')
  @ApiOperation({ summary: 'Account balances: as at the last close (finance), or live (auditors, audited)' })
  @Allow('finance', 'auditor')
  @ApiOkResponse({ type: BalancesView, description: 'Per account and currency' })
  balances(@Query() q: BalancesQueryDto, @CurrentUser() user: Principal): Promise<BalancesView> {
    return this.ledger.balances(user, q.currency);
  }

  @Get('journal')
  @ApiOperation({ summary: 'Journal totals per closed month (finance) or per day (auditors, audited)' })
  @Allow('finance', 'auditor')
  @ApiJsonOrCsv(JournalView, 'Columns: period, account, currency, debits, credits, net')
  async journal(
    @Query() q: JournalQueryDto,
    @CurrentUser() user: Principal,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const journal = await this.ledger.journal(user, q);
    if (!wantsCsv(q.format, accept)) return journal;
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="journal-${journal.from}-${journal.to}.csv"`);
    return (
      csvLine(['period', 'account', 'currency', 'debits', 'credits', 'net']) +
      journal.data.map((r) => csvLine([r.period, r.account, r.currency, r.debits, r.credits, r.net])).join('')
    );
  }
}
