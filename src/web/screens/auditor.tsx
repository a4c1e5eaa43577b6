import { useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { big, formatDate, useApp } from '../app/context';
import { formatMoney } from '../app/money';
import { ErrorNote, Section, Table, useAction } from '../app/ui';
import { answerText } from './agent';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The instant a day (`2026-11-30`) begins in the reader's time zone, `plusDays` later. */
function localMidnight(day: string, plusDays: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** Auditors: individual credits by agent and date; each search is in the audit log, and says so. */
export function AuditorScreen() {
  const { api, t, locale } = useApp();
  const [agentId, setAgentId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState<Schemas['CreditViewPage'] | null>(null);
  const [busy, error, run] = useAction();
  const search = (cursor?: string) =>
    run(async () => {
      const q = new URLSearchParams({ limit: '50' });
      const agent = agentId.trim();
      // Leeway's id, or the reference the helpdesk and identity provider know the agent by.
      if (agent) q.set(UUID.test(agent) ? 'agentId' : 'agentRef', agent);
      // Days in the reader's own time zone, both ends included ("To" is the last day shown).
      if (from) q.set('from', localMidnight(from, 0));
      if (to) q.set('to', localMidnight(to, 1));
      if (cursor) q.set('cursor', cursor);
      const next = await api.get<Schemas['CreditViewPage']>(`/v1/credits?${q}`);
      setPage((prev) => (cursor && prev ? { data: [...prev.data, ...next.data], nextCursor: next.nextCursor } : next));
    });
  const money = (v: number | bigint, c?: string) => formatMoney(big(v)!, c ?? 'EUR', locale);
  return (
    <div>
      <p class="banner" role="note">
        {t('auditor.banner')}
      </p>
      <Section title={t('auditor.results')}>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void search();
          }}
        >
          <label>
            {t('auditor.agentId')}
            <input value={agentId} onInput={(e) => setAgentId((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {t('finance.from')}
            <input type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {t('finance.to')}
            <input type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" disabled={busy}>
            {t('auditor.search')}
          </button>
        </form>
        <ErrorNote error={error} />
        {page && (
          <Table
            caption={t('auditor.results')}
            rows={page.data}
            columns={[
              { label: t('auditor.recorded'), cell: (c) => formatDate(c.recordedAt, locale) },
              { label: t('auditor.agent'), cell: (c) => <code>{c.agentId}</code> },
              { label: t('agent.caseRef'), cell: (c) => c.caseRef },
              { label: t('agent.kind'), cell: (c) => t(`kind.${c.kind}`) },
              { label: t('agent.reason'), cell: (c) => c.reasonCode },
              { label: t('agent.channel'), cell: (c) => (c.channel ? t(`channel.${c.channel}`) : '—') },
              { label: t('finance.amount'), cell: (c) => money(c.amount, c.currency), numeric: true },
              { label: '', cell: (c) => (c.reversedBy ? t('agent.reversed') : answerText(c, money, t)) },
            ]}
          />
        )}
        {page?.nextCursor && (
          <button type="button" onClick={() => void search(page.nextCursor!)}>
            {t('admin.more')}
          </button>
        )}
      </Section>
    </div>
  );
}
