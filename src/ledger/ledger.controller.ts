import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { Allow } from '../access/allow.decorator';
import { csvLine, wantsCsv } from '../common/csv';
import { IsCurrency } from '../common/money';
import { ApiJsonOrCsv, ApiMoney } from '../common/openapi';
import { LedgerService } from './ledger.service';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class BalancesQueryDto {
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;
}

export class JournalQueryDto extends BalancesQueryDto {
  @ApiProperty({ example: '2026-11-01', format: 'date', description: 'First posting day (inclusive)' })
  @Matches(DATE, { message: 'from must be a date such as 2026-11-01' })
  @IsISO8601({ strict: true }, { message: 'from must be a real calendar date' })
  from!: string;

  @ApiProperty({ example: '2026-11-30', format: 'date', description: 'Last posting day (inclusive)' })
  @Matches(DATE, { message: 'to must be a date such as 2026-11-30' })
  @IsISO8601({ strict: true }, { message: 'to must be a real calendar date' })
  to!: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class BalanceView {
  @ApiProperty({ example: 'goodwill:within-discretion' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiMoney({ description: 'Signed: debits positive; sums to zero per currency' }) balance!: bigint;
}

export class BalancesView {
  @ApiProperty({ type: [BalanceView] }) data!: BalanceView[];
}

export class JournalRowView {
  @ApiProperty({ format: 'date' }) day!: string;
  @ApiProperty({ example: 'goodwill:within-discretion' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiMoney({ minimum: 0 }) debits!: bigint;
  @ApiMoney({ minimum: 0 }) credits!: bigint;
  @ApiMoney({ description: 'debits − credits' }) net!: bigint;
}

export class JournalView {
  @ApiProperty({ format: 'date' }) from!: string;
  @ApiProperty({ format: 'date' }) to!: string;
  @ApiProperty({ type: [JournalRowView], description: 'Totals per posting day, account and currency' })
  data!: JournalRowView[];
}

@ApiTags('ledger')
@Controller('v1/ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Get('balances')
  @ApiOperation({ summary: 'Account balances' })
  @Allow('finance', 'auditor')
  @ApiOkResponse({ type: BalancesView, description: 'Per account and currency' })
  async balances(@Query() q: BalancesQueryDto): Promise<BalancesView> {
    return { data: await this.ledger.balances(q.currency) };
  }

  @Get('journal')
  @ApiOperation({ summary: 'Journal totals per day, account and currency' })
  @Allow('finance')
  @ApiJsonOrCsv(JournalView, 'Columns: day, account, currency, debits, credits, net')
  async journal(
    @Query() q: JournalQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const rows = await this.ledger.journal(q.from, q.to, q.currency);
    if (!wantsCsv(q.format, accept)) return { from: q.from, to: q.to, data: rows };
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="journal-${q.from}-${q.to}.csv"`);
    return (
      csvLine(['day', 'account', 'currency', 'debits', 'credits', 'net']) +
      rows.map((r) => csvLine([r.day, r.account, r.currency, r.debits, r.credits, r.net])).join('')
    );
  }
}
