import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { Allow } from '../access/allow.decorator';
import { csvLine, wantsCsv } from '../common/csv';
import { ApiJsonOrCsv } from '../common/openapi';
import { LimitFitQueryDto, SpendReportQueryDto } from './dto/report-query.dto';
import { LimitFitView, SpendReportView } from './dto/report-view.dto';
import { ReportsService, SpendReport } from './reports.service';

const CSV_COLUMNS = [
  'row',
  'period',
  'reason',
  'kind',
  'role_id',
  'role_name',
  'team_id',
  'team_name',
  'channel',
  'currency',
  'suppressed_rows',
  'credits',
  'amount',
  'within_discretion',
  'overrun',
  'credits_with_overrun',
];

/** The report as CSV lines: one per visible row, then one per suppressed bucket and one per total. */
function* csvLines(report: SpendReport): Generator<string> {
  yield csvLine(CSV_COLUMNS);
  for (const r of report.rows) {
    yield csvLine([
      'group',
      r.period,
      r.reason,
      r.kind,
      r.role?.id,
      r.role?.name,
      r.team?.id,
      r.team?.name,
      r.channel,
      r.currency,
      null,
      r.credits,
      r.amount,
      r.withinDiscretion,
      r.overrun,
      r.creditsWithOverrun,
    ]);
  }
  for (const s of report.suppressed) {
    yield csvLine([
      'suppressed',
      ...Array(8).fill(null),
      s.currency,
      s.rows,
      s.credits,
      s.amount,
      s.withinDiscretion,
      s.overrun,
      s.creditsWithOverrun,
    ]);
  }
  for (const t of report.totals) {
    yield csvLine([
      'total',
      ...Array(8).fill(null),
      t.currency,
      null,
      t.credits,
      t.amount,
      t.withinDiscretion,
      t.overrun,
      t.creditsWithOverrun,
    ]);
  }
}

@ApiTags('reports')
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('spend')
  @Allow('finance', 'leader')
  @ApiOperation({
    summary: 'Aggregate goodwill spend; every published number covers at least minCohort agents',
  })
  @ApiJsonOrCsv(SpendReportView, `Columns: ${CSV_COLUMNS.join(', ')}; row is group, suppressed or total`)
  async spend(@Query() q: SpendReportQueryDto, @Headers('accept') accept: string | undefined) {
    const report = await this.reports.spend(q);
    if (!wantsCsv(q.format, accept)) return report;
    return new StreamableFile(Readable.from(csvLines(report)), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="spend-${q.from}-${q.to}.csv"`,
    });
  }

  @Get('limit-fit')
  @Allow('finance', 'leader')
  @ApiOperation({
    summary: 'How each job role’s limits fit the credits given: percentiles, overrun share, a perCredit covering 95%',
  })
  @ApiOkResponse({ type: LimitFitView, description: 'Per job role and currency' })
  async limitFit(@Query() q: LimitFitQueryDto) {
    return this.reports.limitFit(q);
  }
}
