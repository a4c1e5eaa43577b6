import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { FastifyReply } from 'fastify';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { csvLine, wantsCsv } from '../common/csv';

import { ApiJsonOrCsv } from '../common/openapi';
import { LedgerService } from './ledger.service';
import { BalancesQueryDto, JournalQueryDto, BalancesView, JournalView } from './dto/ledger.dto';

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
