import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { Allow } from '../access/allow.decorator';
import { csvLine, wantsCsv } from '../common/csv';
import { ApiJsonOrCsv } from '../common/openapi';
import { LimitFitQueryDto, SpendReportQueryDto } from './dto/report-query.dto';
import { LimitFitView, MonthsView, MonthToDateView, SpendReportView } from './dto/report-view.dto';
import { emptySum } from './release-sums';
import { ReleaseReader, ReleaseSpendReport } from './release-reader';

const CSV_COLUMNS = [
  'line',
  'period',
  'reason',
  'kind',
  'role_id',
  'role_name',
  'team_id',
  'team_name',
  'channel',
  'currency',
  'credits',
  'reversals',
  'amount',
  'within_discretion',
  'overrun',
  'credits_with_overrun',
];

/**
 * The report as CSV lines: one per row, then the notShown line and the total of each currency, then
 * a `withheld` line per currency-month that exists but publishes nothing (as JSON's `withheld`), so
 * that a reader of the file knows the totals leave it out.
 */
function* csvLines(report: ReleaseSpendReport): Generator<string> {
  yield csvLine(CSV_COLUMNS);
  const figures = (f: ReleaseSpendReport['totals'][number]) => [
    f.currency,
    f.credits,
    f.reversals,
    f.amount,
    f.withinDiscretion,
    f.overrun,
    f.creditsWithOverrun,
  ];
  for (const r of report.rows) {
    yield csvLine([
      'row',
      r.period,
      r.reason,
      r.kind,
      r.role?.id,
      r.role?.name,
      r.team?.id,
      r.team?.name,
      r.channel,
      ...figures(r),
    ]);
  }
  // The notShown line of every currency, zeros included: the file says that nothing is missing.
  for (const total of report.totals) {
    const n = report.notShown.find((x) => x.currency === total.currency) ?? emptySum(null, total.currency, {});
    yield csvLine(['not_shown', ...Array(8).fill(null), ...figures(n)]);
  }
  for (const t of report.totals) yield csvLine(['total', ...Array(8).fill(null), ...figures(t)]);
  for (const w of report.withheld)
    yield csvLine(['withheld', w.month, ...Array(7).fill(null), w.currency, ...Array(6).fill(null)]);
}

/**
 * Reports read closed-month releases only (see ReleasesService): every figure is a sum of whole
 * published blocks, the same in every report and forever.
 */
@ApiTags('reports')
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reader: ReleaseReader) {}

  @Get('months')
  @Allow('finance', 'leader')
  @ApiOperation({ summary: 'Which months are released, due, awaiting close or open' })
  @ApiOkResponse({ type: MonthsView })
  async months(): Promise<MonthsView> {
    return { data: await this.reader.months() };
  }

  @Get('spend')
  @Allow('finance', 'leader')
  @ApiOperation({
    summary: 'Goodwill spend of closed months: sums of published blocks, each covering at least minCohort agents',
  })
  @ApiJsonOrCsv(
    SpendReportView,
    `Columns: ${CSV_COLUMNS.join(', ')}; line is row, not_shown, total or withheld (a currency-month, its month ` +
      'in period, that exists but publishes nothing; its figures are empty)',
  )
  async spend(@Query() q: SpendReportQueryDto, @Headers('accept') accept: string | undefined) {
    const report = await this.reader.spend({
      from: q.from,
      to: q.to,
      period: q.period ?? 'none',
      groupBy: q.groupBy ?? [],
      currency: q.currency,
    });
    if (!wantsCsv(q.format, accept)) return report;
    return new StreamableFile(Readable.from(csvLines(report)), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="spend-${report.from ?? 'none'}-${report.to ?? 'none'}.csv"`,
    });
  }

  @Get('month-to-date')
  @Allow('finance', 'leader')
  @ApiOperation({ summary: 'The open month’s running total per currency, over all agents, by whole days' })
  @ApiOkResponse({ type: MonthToDateView })
  monthToDate() {
    return this.reader.monthToDate();
  }

  @Get('limit-fit')
  @Allow('finance', 'leader')
  @ApiOperation({
    summary: 'How each job role’s limits fit the credits given in closed months: bucketed percentiles and shares',
  })
  @ApiOkResponse({ type: LimitFitView, description: 'Per job role and currency' })
  limitFit(@Query() q: LimitFitQueryDto) {
    return this.reader.limitFit(q);
  }
}
