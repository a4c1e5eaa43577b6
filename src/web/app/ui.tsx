import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError, NetworkError } from '../api/client';
import { useApp } from './context';
import type { MessageKey } from './i18n-en';
import type { Translate } from './i18n';

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  const id = props.id ?? `s-${props.title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** The reader's words for a problem the API names (its type's last segment), else for its status. */
const PROBLEM_KEYS: Record<string, MessageKey> = {
  'already-reversed': 'problem.alreadyReversed',
  'reversal-window-closed': 'problem.windowClosed',
  'idempotency-key-in-flight': 'agent.unconfirmed',
  'rate-limited': 'problem.rateLimited',
};
const FIELD_KEYS: Record<string, MessageKey> = {
  amount: 'agent.amount',
  currency: 'agent.currency',
  kind: 'agent.kind',
  reasonCode: 'agent.reason',
  caseRef: 'agent.caseRef',
  customerRef: 'agent.customerRef',
  channel: 'agent.channel',
  note: 'agent.note',
  reason: 'agent.reverseReason',
  displayName: 'admin.displayName',
  externalRef: 'admin.externalRef',
};

function problemText(error: ApiError, t: Translate): string {
  const slug = error.type.split('/').pop() ?? '';
  if (PROBLEM_KEYS[slug]) return t(PROBLEM_KEYS[slug]);
  if (error.status === 400 || error.status === 422) {
    const fields = [...new Set(error.fields.map((f) => (FIELD_KEYS[f.field] ? t(FIELD_KEYS[f.field]) : f.field)))];
    return fields.length > 0 ? t('problem.fields', { fields: fields.join(', ') }) : t('problem.invalid');
  }
  if (error.status === 403) return t('problem.forbidden');
  if (error.status === 404) return t('problem.notFound');
  if (error.status === 409) return t('problem.conflict');
  if (error.status >= 500) return t('problem.unavailable');
  return t('problem.invalid');
}

/**
 * An error in words a person can act on: in English the API's own detail, which is the most
 * precise; in another language the reader's words first, then the API's detail as it came.
 */
export function ErrorNote(props: { error: unknown }) {
  const { t, language } = useApp();
  if (!props.error) return null;
  const text =
    props.error instanceof NetworkError
      ? t('app.networkError')
      : props.error instanceof ApiError
        ? language === 'en'
          ? props.error.detail
          : `${problemText(props.error, t)} (${props.error.detail})`
        : t('app.error', { detail: String((props.error as Error).message ?? props.error) });
  return (
    <p role="alert" class="error">
      {text}
    </p>
  );
}

/**
 * Puts `text` on the clipboard: the Clipboard API where the page may use it (a secure context, a
 * frame allowed to write), else the older copy command on the selected field. Says whether it did.
 */
async function copyText(text: string, field: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission in this frame): try the older way below.
  }
  if (!field) return false;
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A secret shown once (token, sign-in link), with a copy button that says only what happened. */
export function ShownOnce(props: { label: string; value: string }) {
  const { t } = useApp();
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const field = useRef<HTMLInputElement>(null);
  return (
    <div class="once" role="status">
      <p>{t('app.showOnce')}</p>
      <label>
        {props.label}
        <input ref={field} readOnly value={props.value} onFocus={(e) => (e.target as HTMLInputElement).select()} />
      </label>
      <button
        type="button"
        onClick={async () => setCopied((await copyText(props.value, field.current)) ? 'yes' : 'failed')}
      >
        {copied === 'yes' ? t('app.copied') : t('app.copy')}
      </button>
      {copied === 'failed' && (
        <p class="error" role="alert">
          {t('app.copyFailed')}
        </p>
      )}
    </div>
  );
}

export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  numeric?: boolean;
}

export function Table<T>(props: { caption: string; columns: Column<T>[]; rows: T[]; foot?: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" class={c.numeric ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              {props.columns.map((c) => (
                <td class={c.numeric ? 'num' : undefined}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
        {props.foot}
      </table>
    </div>
  );
}

/** Runs an async action, keeping its error for display and a busy flag for the button. */
export function useAction(): [boolean, unknown, (work: () => Promise<unknown>) => Promise<boolean>] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  /** True when the work succeeded; its error is kept for display otherwise. */
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run];
}

/** A one-field form that adds something by its name (a team, a job role). */
export function AddByName(props: { label: string; busy: boolean; onAdd: (name: string) => Promise<boolean> }) {
  const { t } = useApp();
  const [name, setName] = useState('');
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        // Kept on failure, so the person can correct it.
        void props.onAdd(name.trim()).then((added) => added && setName(''));
      }}
    >
      <label>
        {props.label}
        <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" disabled={props.busy || !name.trim()}>
        {t('app.add')}
      </button>
    </form>
  );
}
