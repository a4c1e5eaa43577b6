import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { formatDate, useApp } from '../app/context';
import { ErrorNote, Section, useAction } from '../app/ui';

/** A person's own sessions: where they are signed in, and a way to end any of them. */
export function SessionsScreen(props: { onSignedOut: () => void }) {
  const { api, t, locale } = useApp();
  const [sessions, setSessions] = useState<Schemas['SessionView'][]>([]);
  const [busy, error, run] = useAction();
  const load = () =>
    api.get<Schemas['SessionListView']>('/v1/me/sessions').then((s) => setSessions(s.data.filter((x) => x.active)));
  useEffect(() => void run(load), []);
  return (
    <Section title={t('sessions.title')}>
      <ErrorNote error={error} />
      <ul>
        {sessions.map((s) => (
          <li>
            {t(`sessions.via.${s.signedInWith ?? 'link'}`)},{' '}
            {t('sessions.until', { at: formatDate(s.expiresAt!, locale) })}
            {s.current && ` (${t('sessions.current')})`}{' '}
            {s.userAgent && <span class="muted">· {s.userAgent.slice(0, 60)}</span>}{' '}
            <button
              type="button"
              class="link"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await api.delete(`/v1/me/sessions/${s.id}`);
                  if (s.current) props.onSignedOut();
                  else await load();
                })
              }
            >
              {t('sessions.end')}
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}
