import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { BarChart } from '../app/bar-chart';
import { big, formatDate, formatMonth, useApp } from '../app/context';
import { currencyDigits, formatAmountInput, formatMoney, parseAmount } from '../app/money';
import { AddByName, ErrorNote, Section, Table, useAction } from '../app/ui';

type Role = Schemas['RoleView'];
type Fit = Schemas['LimitFitRowView'];
const LIMITS = ['perCredit', 'perCase', 'perAgentDay', 'perAgentMonth'] as const;
type LimitKey = (typeof LIMITS)[number];

/** Leaders: job roles and their discretion limits (with who set what, when), reasons, limit fit. */
export function LeaderScreen() {
  const { api, t } = useApp();
  const [roles, setRoles] = useState<Role[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, error, run] = useAction();
  const load = () =>
    api.get<Schemas['RoleViewPage']>('/v1/roles?limit=200').then((p) => {
      setRoles(p.data);
      setSelected((s) => s ?? p.data[0]?.id ?? null);
    });
  useEffect(() => void run(load), []);
  const role = roles.find((r) => r.id === selected) ?? null;
  return (
    <div>
      <Section title={t('leader.roles')}>
        <ErrorNote error={error} />
        <ul class="pills" role="list">
          {roles.map((r) => (
            <li>
              <button type="button" aria-pressed={r.id === selected} onClick={() => setSelected(r.id)}>
                {r.name}
              </button>
            </li>
          ))}
        </ul>
        <AddByName
          label={t('leader.newRole')}
          busy={busy}
          onAdd={(name) =>
            run(async () => {
              const made = await api.post<Role>('/v1/roles', { name });
              await load();
              setSelected(made.id);
            })
          }
        />
      </Section>
      {role && <LimitsEditor key={role.id} role={role} onSaved={load} />}
      <Reasons />
      <LimitFit />
    </div>
  );
}

function LimitsEditor(props: { role: Role; onSaved: () => Promise<void> }) {
  const { api, t, locale } = useApp();
  const toText = (currency: string, v: number | null) =>
    v === null ? '' : formatAmountInput(big(v)!, currency, locale);
  const [rows, setRows] = useState(() =>
    props.role.limits.map((l) => ({
      currency: l.currency,
      values: Object.fromEntries(LIMITS.map((k) => [k, toText(l.currency, l[k])])) as Record<LimitKey, string>,
    })),
  );
  const [newCurrency, setNewCurrency] = useState('');
  const [saved, setSaved] = useState<number | null>(null);
  const [history, setHistory] = useState<Schemas['LimitsVersionView'][]>([]);
  const [busy, error, run] = useAction();
  const loadHistory = () =>
    api
      .get<Schemas['LimitsVersionViewPage']>(`/v1/roles/${props.role.id}/limits/history`)
      .then((h) => setHistory(h.data));
  useEffect(() => void run(loadHistory), []);
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const limits = rows.map((row) => {
        const out: Record<string, unknown> = { currency: row.currency };
        for (const key of LIMITS) {
          const text = row.values[key].trim();
          if (text === '') continue;
          const parsed = parseAmount(text, row.currency, locale);
          if (!parsed.ok) throw new Error(`${row.currency} ${t(`agent.limit.${key}`)}: ${text}`);
          out[key] = parsed.minor;
        }
        return out;
      });
      const version = await api.put<Schemas['LimitsVersionView']>(`/v1/roles/${props.role.id}/limits`, { limits });
      setSaved(version.version);
      await loadHistory();
      await props.onSaved();
    });
  };
  return (
    <Section title={t('leader.limits', { role: props.role.name })}>
      <form onSubmit={save}>
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{t('leader.limits', { role: props.role.name })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('agent.currency')}</th>
                {LIMITS.map((k) => (
                  <th scope="col">{t(`agent.limit.${k}`)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr>
                  <th scope="row">{row.currency}</th>
                  {LIMITS.map((k) => (
                    <td>
                      <input
                        inputMode="decimal"
                        aria-label={`${row.currency} ${t(`agent.limit.${k}`)}`}
                        placeholder={t('agent.limit.noLimit')}
                        value={row.values[k]}
                        onInput={(e) => {
                          const value = (e.target as HTMLInputElement).value;
                          setRows((all) =>
                            all.map((r, j) => (j === i ? { ...r, values: { ...r.values, [k]: value } } : r)),
                          );
                        }}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="inline">
          <label>
            {t('leader.addCurrency')}
            <input
              value={newCurrency}
              maxLength={3}
              onInput={(e) => setNewCurrency((e.target as HTMLInputElement).value.toUpperCase())}
            />
          </label>
          <button
            type="button"
            disabled={!/^[A-Z]{3}$/.test(newCurrency) || rows.some((r) => r.currency === newCurrency)}
            onClick={() => {
              setRows((all) => [
                ...all,
                { currency: newCurrency, values: { perCredit: '', perCase: '', perAgentDay: '', perAgentMonth: '' } },
              ]);
              setNewCurrency('');
            }}
          >
            {t('app.add')}
          </button>
          <button type="submit" disabled={busy}>
            {t('app.save')}
          </button>
        </div>
        <ErrorNote error={error} />
        {saved !== null && <p role="status">{t('leader.saved', { version: saved })}</p>}
      </form>
      <h3>{t('leader.history')}</h3>
      {history.length === 0 ? (
        <p>{t('leader.noLimits')}</p>
      ) : (
        <ol class="history">
          {history.map((v) => (
            <li>
              {t('leader.version', {
                version: v.version,
                by: v.setByName ?? v.setBy ?? '—',
                at: v.setAt ? formatDate(v.setAt, locale) : '—',
              })}
              :{' '}
              {v.limits
                .map((l) =>
                  LIMITS.filter((k) => l[k] !== null)
                    .map((k) => `${t(`agent.limit.${k}`)} ${formatMoney(big(l[k])!, l.currency, locale)}`)
                    .join(', '),
                )
                .join(' · ') || t('app.none')}
            </li>
          ))}
        </ol>
      )}
    </Section>
  );
}

function Reasons() {
  const { api, t } = useApp();
  const [reasons, setReasons] = useState<Schemas['ReasonView'][]>([]);
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('');
  const [busy, error, run] = useAction();
  const load = () => api.get<Schemas['ReasonListView']>('/v1/reasons?all=true').then((r) => setReasons(r.data));
  useEffect(() => void run(load), []);
  return (
    <Section title={t('leader.reasons')}>
      <ErrorNote error={error} />
      <Table
        caption={t('leader.reasons')}
        rows={reasons}
        columns={[
          { label: t('leader.reasonCode'), cell: (r) => <code>{r.code}</code> },
          { label: t('leader.reasonLabel'), cell: (r) => (r.active ? r.label : `${r.label} (${t('leader.retired')})`) },
          {
            label: '',
            cell: (r) => (
              <button
                type="button"
                class="link"
                aria-label={`${r.active ? t('leader.retire') : t('leader.restore')}: ${r.label}`}
                onClick={() =>
                  void run(async () => (await api.patch(`/v1/reasons/${r.code}`, { active: !r.active }), await load()))
                }
              >
                {r.active ? t('leader.retire') : t('leader.restore')}
              </button>
            ),
          },
        ]}
      />
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.post('/v1/reasons', { code: code.trim(), label: label.trim() });
            setCode('');
            setLabel('');
            await load();
          });
        }}
      >
        <label>
          {t('leader.reasonCode')}
          <input required value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('leader.reasonLabel')}
          <input required value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={busy}>
          {t('app.add')}
        </button>
      </form>
    </Section>
  );
}

function LimitFit() {
  const { api, t, locale } = useApp();
  const [fit, setFit] = useState<Schemas['LimitFitView'] | null>(null);
  const [, error, run] = useAction();
  useEffect(() => void run(async () => setFit(await api.get<Schemas['LimitFitView']>('/v1/reports/limit-fit'))), []);
  return (
    <Section title={t('leader.fit')}>
      <ErrorNote error={error} />
      {fit && fit.rows.length === 0 && <p>{t('finance.noMonths')}</p>}
      {fit?.from && fit.to && (
        <p class="hint">
          {t('leader.fitMonths', { from: formatMonth(fit.from, locale), to: formatMonth(fit.to, locale) })}
        </p>
      )}
      {fit?.rows.map((row) =>
        'suppressed' in row ? (
          <p>
            <strong>
              {row.role.name} · {row.currency}
            </strong>
            : {t('leader.fitSuppressed')}
          </p>
        ) : (
          <FitRow row={row} money={(v) => formatMoney(v, row.currency, locale)} />
        ),
      )}
    </Section>
  );
}

function FitRow(props: { row: Fit; money: (v: bigint) => string }) {
  const { t, locale } = useApp();
  const r = props.row;
  // Withheld (null) when the agents with an overrun are too few to show: a dash, never 0%.
  const percent =
    r.shareOverPerCredit === null
      ? `— (${t('finance.withheld')})`
      : new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(r.shareOverPerCredit);
  return (
    <article class="fit">
      <h3>
        {r.role.name} · {r.currency}
      </h3>
      <p>
        {t('leader.fitShare', { share: percent })}.{' '}
        {t('leader.suggested', { amount: props.money(big(r.suggestedPerCredit)!) })}
      </p>
      {/* Where the role's credit amounts fall (percentiles as 1-2-5 bucket edges), beside its
          per-credit limit today: never counts per bucket, which subtraction from spend could break. */}
      <BarChart
        label={t('leader.fitChart', { role: r.role.name ?? '', currency: r.currency })}
        labels={['p50', 'p90', 'p95', 'p99']}
        series={[
          {
            label: t('leader.fitAmounts'),
            values: [r.p50, r.p90, r.p95, r.p99].map((v) => big(v)!),
            format: props.money,
          },
          ...(r.limits?.perCredit !== undefined && r.limits?.perCredit !== null
            ? [
                {
                  label: t('leader.fitLimit'),
                  values: Array<bigint>(4).fill(big(r.limits.perCredit)!),
                  format: props.money,
                },
              ]
            : []),
        ]}
        digits={currencyDigits(r.currency)}
      />
      <p class="hint">
        p50 {props.money(big(r.p50)!)} · p90 {props.money(big(r.p90)!)} · p95 {props.money(big(r.p95)!)} · p99{' '}
        {props.money(big(r.p99)!)}
      </p>
    </article>
  );
}
