import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { BarChart } from '../app/bar-chart';
import { big, formatDate, formatMonth, useApp } from '../app/context';
import type { MessageKey } from '../app/i18n-en';
import { currencyDigits, formatMoney } from '../app/money';
import { ErrorNote, Section, Table, useAction } from '../app/ui';

type Report = Schemas['SpendReportView'];
type Row = Schemas['SpendRowView'];
type Figures = Schemas['CurrencyFiguresView'];
const KEYS = ['reason', 'kind', 'role', 'team', 'channel'] as const;
type Key = (typeof KEYS)[number];
type Period = Report['period'];
const ZERO = { credits: 0, reversals: 0, amount: 0, withinDiscretion: 0, overrun: 0, creditsWithOverrun: 0 };

/** Finance: spend of closed months (never a day or the open month), the running month, the books. */
export function FinanceScreen() {
  const { api, t, locale, me } = useApp();
  const [months, setMonths] = useState<string[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [period, setPeriod] = useState<Period>('month');
  const [key, setKey] = useState<Key>('reason');
  const [report, setReport] = useState<Report | null>(null);
  const [busy, error, run] = useAction();
  const query = () => new URLSearchParams({ from, to, period, groupBy: key }).toString();
  const show = () => run(async () => setReport(await api.get<Report>(`/v1/reports/spend?${query()}`)));

  useEffect(() => {
    void run(async () => {
      const listed = await api.get<Schemas['MonthsView']>('/v1/reports/months');
      const closed = listed.data.filter((m) => m.state === 'released' || m.state === 'due').map((m) => m.month);
      setMonths(closed);
      if (closed.length > 0) {
        const last = closed[closed.length - 1];
        const first = closed[Math.max(0, closed.length - 12)];
        setFrom(first);
        setTo(last);
        setReport(
          await api.get<Report>(
            `/v1/reports/spend?${new URLSearchParams({ from: first, to: last, period, groupBy: key })}`,
          ),
        );
      }
    });
  }, []);

  const money = (v: number | bigint | null, currency: string) =>
    v === null ? t('finance.withheld') : formatMoney(big(v)!, currency, locale);
  const label = (row: Row) => {
    const value = row[key];
    const named = typeof value === 'object' && value !== null ? value.name : value;
    const text =
      named === null || named === undefined
        ? t('app.none')
        : key === 'kind' || key === 'channel'
          ? t(`${key}.${named}` as MessageKey)
          : named;
    return period === 'none' ? text : `${periodLabel(row.period!, locale)} · ${text}`;
  };
  const currencies = report ? [...new Set(report.totals.map((x) => x.currency))] : [];

  return (
    <div>
      <Section title={t('finance.spend')}>
        {months.length === 0 && !busy ? (
          <p>{t('finance.noMonths')}</p>
        ) : (
          <form
            class="filters"
            onSubmit={(e) => {
              e.preventDefault();
              void show();
            }}
          >
            <label>
              {t('finance.from')}
              <select value={from} onChange={(e) => setFrom((e.target as HTMLSelectElement).value)}>
                {months.map((m) => (
                  <option value={m}>{formatMonth(m, locale)}</option>
                ))}
              </select>
            </label>
            <label>
              {t('finance.to')}
              <select value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
                {months.map((m) => (
                  <option value={m}>{formatMonth(m, locale)}</option>
                ))}
              </select>
            </label>
            <label>
              {t('finance.period')}
              <select value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value as Period)}>
                {(['month', 'quarter', 'year', 'none'] as const).map((p) => (
                  <option value={p}>{t(`finance.period.${p}`)}</option>
                ))}
              </select>
            </label>
            <label>
              {t('finance.groupBy')}
              <select value={key} onChange={(e) => setKey((e.target as HTMLSelectElement).value as Key)}>
                {KEYS.map((k) => (
                  <option value={k}>{t(`finance.key.${k}`)}</option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={busy}>
              {t('finance.show')}
            </button>
            <button
              type="button"
              disabled={!report}
              onClick={() =>
                void run(() => api.download(`/v1/reports/spend?${query()}&format=csv`, `spend-${from}-${to}.csv`))
              }
            >
              {t('finance.csv')}
            </button>
          </form>
        )}
        <ErrorNote error={error} />
        {report && <p class="hint">{t('finance.rule', { cohort: report.minCohort })}</p>}
        {report && report.withheld.length > 0 && (
          <p class="hint withheld" role="note">
            {t('finance.withheldMonths', {
              cohort: report.minCohort,
              list: new Intl.ListFormat(locale, { type: 'conjunction' }).format(
                report.withheld.map((w) => `${formatMonth(w.month, locale)} ${w.currency}`),
              ),
            })}
          </p>
        )}
        {report &&
          currencies.map((currency) => {
            const rows = report.rows.filter((r) => r.currency === currency);
            const notShown = report.notShown.find((n) => n.currency === currency);
            const total = report.totals.find((n) => n.currency === currency)!;
            const figureColumns = [
              { label: t('leader.credits'), cell: (r: Figures | Row) => String(r.credits), numeric: true },
              { label: t('finance.amount'), cell: (r: Figures | Row) => money(r.amount, currency), numeric: true },
              {
                label: t('finance.within'),
                cell: (r: Figures | Row) => money(r.withinDiscretion, currency),
                numeric: true,
              },
              { label: t('finance.overrun'), cell: (r: Figures | Row) => money(r.overrun, currency), numeric: true },
            ];
            const foot = (name: string, f: Figures | undefined) => (
              <tr class={name === t('finance.total') ? 'total' : 'not-shown'}>
                <th scope="row">{name}</th>
                {figureColumns.map((c) => (
                  <td class="num">{c.cell(f ?? { ...ZERO, currency })}</td>
                ))}
              </tr>
            );
            return (
              <div>
                <BarChart
                  label={`${t('finance.spend')} ${currency}`}
                  labels={rows.map(label)}
                  series={[
                    {
                      label: t('finance.within'),
                      values: rows.map((r) => big(r.withinDiscretion) ?? 0n),
                      format: (v) => money(v, currency),
                    },
                    {
                      label: t('finance.overrun'),
                      values: rows.map((r) => big(r.overrun) ?? 0n),
                      format: (v) => money(v, currency),
                    },
                  ]}
                  digits={currencyDigits(currency)}
                />
                <Table
                  caption={`${t('finance.spend')} · ${currency}`}
                  rows={rows}
                  columns={[{ label: t(`finance.key.${key}`), cell: label }, ...figureColumns]}
                  foot={
                    <tfoot>
                      {foot(t('finance.notShown'), notShown)}
                      {foot(t('finance.total'), total)}
                    </tfoot>
                  }
                />
              </div>
            );
          })}
      </Section>
      <MonthToDate />
      {me.access.includes('finance') && <Books />}
    </div>
  );
}

function periodLabel(period: string, locale: string): string {
  return /^\d{4}-\d{2}$/.test(period) ? formatMonth(period, locale) : period;
}

function MonthToDate() {
  const { api, t, locale } = useApp();
  const [mtd, setMtd] = useState<Schemas['MonthToDateView'] | null>(null);
  const [, error, run] = useAction();
  useEffect(
    () => void run(async () => setMtd(await api.get<Schemas['MonthToDateView']>('/v1/reports/month-to-date'))),
    [],
  );
  return (
    <Section title={t('finance.mtd')}>
      <ErrorNote error={error} />
      {mtd && mtd.data.every((d) => d.asOf === null) && <p>{t('finance.mtdNone')}</p>}
      <ul>
        {mtd?.data
          .filter((d) => d.asOf !== null)
          .map((d) => (
            <li>
              <strong>{formatMoney(big(d.amount)!, d.currency, locale)}</strong> · {d.credits}{' '}
              {t('leader.credits').toLowerCase()} · {t('finance.mtdAsOf', { day: formatDate(d.asOf!, locale, false) })}
            </li>
          ))}
      </ul>
    </Section>
  );
}

function Books() {
  const { api, t, locale } = useApp();
  const [journal, setJournal] = useState<Schemas['JournalView'] | null>(null);
  const [balances, setBalances] = useState<Schemas['BalancesView'] | null>(null);
  const [, error, run] = useAction();
  useEffect(
    () =>
      void run(async () => {
        setJournal(await api.get<Schemas['JournalView']>('/v1/ledger/journal'));
        setBalances(await api.get<Schemas['BalancesView']>('/v1/ledger/balances'));
      }),
    [],
  );
  const money = (v: number | bigint | null, currency: string) =>
    v === null ? t('finance.withheld') : formatMoney(big(v)!, currency, locale);
  return (
    <>
      <Section title={t('finance.journal')}>
        <ErrorNote error={error} />
        {journal && (
          <Table
            caption={t('finance.journal')}
            rows={journal.data}
            columns={[
              { label: t('finance.month'), cell: (r) => periodLabel(r.period, locale) },
              { label: t('finance.account'), cell: (r) => r.account },
              { label: t('finance.debits'), cell: (r) => money(r.debits, r.currency), numeric: true },
              { label: t('finance.creditsAmount'), cell: (r) => money(r.credits, r.currency), numeric: true },
              { label: t('finance.net'), cell: (r) => money(r.net, r.currency), numeric: true },
            ]}
          />
        )}
      </Section>
      <Section title={t('finance.balances')}>
        {balances?.asOf && <p class="hint">{t('finance.asOf', { at: formatDate(balances.asOf, locale) })}</p>}
        {balances && (
          <Table
            caption={t('finance.balances')}
            rows={balances.data}
            columns={[
              { label: t('finance.account'), cell: (r) => r.account },
              { label: t('agent.currency'), cell: (r) => r.currency },
              { label: t('finance.balance'), cell: (r) => money(r.balance, r.currency), numeric: true },
            ]}
          />
        )}
      </Section>
    </>
  );
}
