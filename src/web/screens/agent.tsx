import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { CHANNELS as SERVICE_CHANNELS, CREDIT_KINDS } from '../../credits/credit-kinds';
import { ApiError, NetworkError, Schemas } from '../api/client';
import { big, formatDate, useApp } from '../app/context';
import { CURRENCY_DIGITS } from '../../common/currencies';
import { currencyDigits, formatAmountInput, formatMoney, parseAmount, separators } from '../app/money';
import { ErrorNote, Section, useAction } from '../app/ui';
import { tabStorage } from '../app/storage';

type Credit = Schemas['CreditView'];
type Logged = Schemas['LoggedCreditView'];
type Headroom = Schemas['HeadroomView'];

// The service's own lists (plain constants, bundled as they are); the generated API types check them.
export const KINDS: readonly Credit['kind'][] = CREDIT_KINDS;
export const CHANNELS: readonly NonNullable<Credit['channel']>[] = SERVICE_CHANNELS;
const LIMITS = ['perCredit', 'perCase', 'perAgentDay', 'perAgentMonth'] as const;

/** One attempt to log a credit: its key and body stay the same across retries, so it lands once. */
interface Attempt {
  key: string;
  /** The service's own request schema (generated from its OpenAPI document), money as bigint. */
  body: Omit<Schemas['CreateCreditDto'], 'amount'> & { amount: bigint };
}

/** Why an attempt is waiting for the agent: no answer, an answer that settles nothing, or a reload. */
type Unsettled = 'lost' | 'unconfirmed' | 'resumed';

const PENDING = 'leeway.pendingCredit';

/**
 * An attempt without a final answer outlives the page (a reload, the helpdesk re-opening the sidebar),
 * so the retry still carries its Idempotency-Key: kept in this tab's session storage until settled.
 */
const pending = {
  save(attempt: Attempt): void {
    tabStorage().setItem(
      PENDING,
      JSON.stringify({ ...attempt, body: { ...attempt.body, amount: String(attempt.body.amount) } }),
    );
  },
  load(): Attempt | null {
    try {
      const saved = JSON.parse(tabStorage().getItem(PENDING) ?? 'null') as {
        key: string;
        body: Attempt['body'] & { amount: string };
      } | null;
      if (!saved || typeof saved.key !== 'string' || !/^\d+$/.test(saved.body?.amount)) return null;
      return { key: saved.key, body: { ...saved.body, amount: BigInt(saved.body.amount) } };
    } catch {
      return null;
    }
  },
  clear(): void {
    tabStorage().removeItem(PENDING);
  },
};

/**
 * The agent at the point of service: headroom first, then the credit, typed as money, answered in
 * plain words. Opened from a helpdesk with ?caseRef=&customerRef=&channel= to prefill the case.
 */
export function AgentScreen() {
  const { api, t, locale, me } = useApp();
  const params = new URLSearchParams(location.search);
  // A currency the helpdesk names (?currency=) is offered first; else the role's; EUR if there is neither.
  const asked = CURRENCY_DIGITS.has(params.get('currency') ?? '') ? params.get('currency')! : null;
  const [currencies, setCurrencies] = useState<string[]>([asked ?? 'EUR']);
  const [currency, setCurrency] = useState(asked ?? 'EUR');
  const [reasons, setReasons] = useState<Schemas['ReasonView'][]>([]);
  const [caseRef, setCaseRef] = useState(params.get('caseRef') ?? '');
  const [customerRef, setCustomerRef] = useState(params.get('customerRef') ?? '');
  type Channel = (typeof CHANNELS)[number];
  const [channel, setChannel] = useState<Channel>(
    CHANNELS.includes(params.get('channel') as Channel) ? (params.get('channel') as Channel) : 'phone',
  );
  const [kind, setKind] = useState<Credit['kind']>('refund');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [amountText, setAmountText] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const [caseError, setCaseError] = useState<string | null>(null);
  const [headroom, setHeadroom] = useState<Headroom | null>(null);
  const [answer, setAnswer] = useState<Logged | null>(null);
  const [attempt, setAttempt] = useState<Attempt | null>(pending.load);
  const [unsettled, setUnsettled] = useState<Unsettled | null>(() => (pending.load() ? 'resumed' : null));
  const [recent, setRecent] = useState<Credit[]>([]);
  const [busy, error, run] = useAction();
  const [loadError, setLoadError] = useState<unknown>(null);

  const example = useMemo(
    () => formatAmountInput(2550n * 10n ** BigInt(Math.max(0, currencyDigits(currency) - 2)), currency, locale),
    [currency, locale],
  );

  useEffect(() => {
    (async () => {
      const list = await api.get<Schemas['ReasonListView']>('/v1/reasons');
      const active = list.data.filter((r) => r.active);
      setReasons(active);
      setReason((r) => r || active[0]?.code || '');
      if (me.role) {
        const role = await api.get<Schemas['RoleView']>(`/v1/roles/${me.role.id}`);
        const own = role.limits.map((l) => l.currency);
        if (own.length > 0) {
          setCurrencies([...new Set(asked ? [asked, ...own] : own)]);
          if (!asked) setCurrency(own[0]);
        }
      }
    })().catch(setLoadError);
  }, []);

  const loadHeadroom = () => {
    const query = new URLSearchParams({ currency, ...(caseRef.trim() ? { caseRef: caseRef.trim() } : {}) });
    api
      .get<Schemas['HeadroomListView']>(`/v1/me/headroom?${query}`)
      .then((h) => setHeadroom(h.data[0] ?? null))
      .catch(setLoadError);
  };
  const loadRecent = () =>
    api
      .get<Schemas['CreditViewPage']>(`/v1/credits?limit=10&agentId=${me.id}`)
      .then((p) => setRecent(p.data))
      .catch(setLoadError);
  useEffect(loadHeadroom, [currency]);
  useEffect(() => void loadRecent(), []);

  const settle = () => {
    pending.clear();
    setAttempt(null);
    setUnsettled(null);
  };

  const send = async (current: Attempt) => {
    setUnsettled(null);
    pending.save(current);
    await run(async () => {
      try {
        const logged = await api.post<Logged>('/v1/credits', current.body, { 'idempotency-key': current.key });
        settle();
        setAnswer(logged);
        setHeadroom(logged.headroom);
        setAmountText('');
        setNote('');
        void loadRecent();
      } catch (e) {
        // No final answer (no answer at all, a timeout, "still in progress", a gateway's 5xx): the
        // credit may or may not exist. Keep the attempt, so a retry replays it under the same key.
        if (e instanceof NetworkError) setUnsettled(e.timedOut ? 'unconfirmed' : 'lost');
        else if (e instanceof ApiError && e.unsettled) setUnsettled('unconfirmed');
        else settle();
        throw e;
      }
    });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setAnswer(null);
    const parsed = parseAmount(amountText, currency, locale);
    if (!parsed.ok || parsed.minor <= 0n) {
      setAmountError(
        !parsed.ok && parsed.reason === 'too-precise'
          ? t('agent.amountTooPrecise', { currency, digits: currencyDigits(currency) })
          : !parsed.ok && parsed.reason === 'grouping'
            ? t('agent.amountGrouping', { decimal: separators(locale).decimal, example })
            : t('agent.amountInvalid', { example }),
      );
      document.getElementById('amount')?.focus();
      return;
    }
    setAmountError(null);
    if (!caseRef.trim()) {
      setCaseError(t('agent.caseRequired'));
      document.getElementById('case-ref')?.focus();
      return;
    }
    setCaseError(null);
    const next: Attempt = {
      key: crypto.randomUUID(),
      body: {
        amount: parsed.minor,
        currency,
        kind,
        reasonCode: reason,
        caseRef: caseRef.trim(),
        ...(customerRef.trim() ? { customerRef: customerRef.trim() } : {}),
        channel,
        ...(note.trim() ? { note: note.trim() } : {}),
      },
    };
    setAttempt(next);
    await send(next);
  };

  const money = (v: number | bigint | null | undefined, c = currency) => formatMoney(big(v) ?? 0n, c, locale);
  // What the field will send, shown as it is typed: a misread amount is seen before it is given.
  const reading = useMemo(() => {
    const parsed = parseAmount(amountText, currency, locale);
    return parsed.ok && parsed.minor > 0n ? t('agent.amountReads', { amount: money(parsed.minor) }) : null;
  }, [amountText, currency, locale]);

  return (
    <div class="agent">
      <Section title={t('agent.headroom')}>
        <ErrorNote error={loadError} />
        {headroom && <HeadroomView headroom={headroom} money={(v) => money(v, headroom.currency)} />}
      </Section>
      <Section title={t('agent.title')}>
        <form onSubmit={submit} noValidate>
          <div class="row">
            <label class="grow">
              {t('agent.amount')}
              <input
                id="amount"
                inputMode="decimal"
                autoComplete="off"
                required
                value={amountText}
                aria-invalid={amountError ? 'true' : undefined}
                aria-describedby="amount-hint"
                onInput={(e) => setAmountText((e.target as HTMLInputElement).value)}
              />
            </label>
            <label>
              {t('agent.currency')}
              <select value={currency} onChange={(e) => setCurrency((e.target as HTMLSelectElement).value)}>
                {currencies.map((c) => (
                  <option value={c}>{c}</option>
                ))}
              </select>
            </label>
          </div>
          <p id="amount-hint" class={amountError ? 'error' : 'hint'} role={amountError ? 'alert' : undefined}>
            {amountError ?? reading ?? t('agent.amountHint', { example })}
          </p>
          <label>
            {t('agent.kind')}
            <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Credit['kind'])}>
              {KINDS.map((k) => (
                <option value={k}>{t(`kind.${k}`)}</option>
              ))}
            </select>
          </label>
          <label>
            {t('agent.reason')}
            <select value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
              {reasons.map((r) => (
                <option value={r.code}>{r.label}</option>
              ))}
            </select>
          </label>
          <label>
            {t('agent.caseRef')}
            <input
              id="case-ref"
              required
              value={caseRef}
              aria-invalid={caseError ? 'true' : undefined}
              aria-describedby={caseError ? 'case-error' : undefined}
              onInput={(e) => setCaseRef((e.target as HTMLInputElement).value)}
              onBlur={loadHeadroom}
            />
          </label>
          {caseError && (
            <p id="case-error" class="error" role="alert">
              {caseError}
            </p>
          )}
          <label>
            {t('agent.customerRef')}
            <input value={customerRef} onInput={(e) => setCustomerRef((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {t('agent.channel')}
            <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value as Channel)}>
              {CHANNELS.map((c) => (
                <option value={c}>{t(`channel.${c}`)}</option>
              ))}
            </select>
          </label>
          <label>
            {t('agent.note')}
            <input value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" disabled={busy || unsettled !== null}>
            {busy ? t('agent.giving') : t('agent.give')}
          </button>
        </form>
        {unsettled && attempt ? (
          <div role="alert" class="lost">
            <p>
              {unsettled === 'resumed'
                ? t('agent.resume', {
                    amount: money(attempt.body.amount, attempt.body.currency),
                    caseRef: attempt.body.caseRef,
                  })
                : t(unsettled === 'lost' ? 'agent.lost' : 'agent.unconfirmed')}
            </p>
            <button type="button" disabled={busy} onClick={() => send(attempt)}>
              {t('agent.retry')}
            </button>{' '}
            <button type="button" class="link" disabled={busy} onClick={settle}>
              {t('agent.discard')}
            </button>
          </div>
        ) : (
          <ErrorNote error={error instanceof ApiError ? error : null} />
        )}
        {answer && (
          <p role="status" class="answer" id="answer">
            {answerText(answer, money, t)}
          </p>
        )}
      </Section>
      <Section title={t('agent.recent')}>
        {recent.length === 0 ? <p>{t('agent.noRecent')}</p> : <Recent credits={recent} onChange={loadRecent} />}
      </Section>
    </div>
  );
}

/** The answer in plain, neutral words: what stayed within discretion, what went beyond it. */
export function answerText(
  credit: Pick<Logged, 'amount' | 'withinDiscretion' | 'overrun' | 'unbudgeted' | 'currency'>,
  money: (v: number | bigint, c?: string) => string,
  t: ReturnType<typeof useApp>['t'],
): string {
  const overrun = big(credit.overrun)!;
  const within = big(credit.withinDiscretion)!;
  if (credit.unbudgeted)
    return t('agent.answer.unbudgeted', { amount: money(credit.amount, credit.currency), currency: credit.currency });
  if (overrun === 0n) return t('agent.answer.within', { amount: money(within, credit.currency) });
  if (within === 0n) return t('agent.answer.over', { overrun: money(overrun, credit.currency) });
  return t('agent.answer.split', { within: money(within, credit.currency), overrun: money(overrun, credit.currency) });
}

function HeadroomView(props: { headroom: Headroom; money: (v: number | bigint) => string }) {
  const { t } = useApp();
  const h = props.headroom;
  if (h.unbudgeted) return <p>{t('agent.unbudgeted', { currency: h.currency })}</p>;
  return (
    <div>
      {h.available !== null && <p class="available">{t('agent.available', { amount: props.money(h.available) })}</p>}
      <dl class="limits">
        {LIMITS.map((key) => {
          const limit = h.limits?.[key];
          const remaining = h.remaining[key];
          return (
            <div>
              <dt>{t(`agent.limit.${key}`)}</dt>
              <dd>
                {limit === null || limit === undefined
                  ? t('agent.limit.noLimit')
                  : remaining === null
                    ? t('agent.limit.perCaseUntilKnown', { limit: props.money(limit) })
                    : t('agent.limit.remaining', { remaining: props.money(remaining), limit: props.money(limit) })}
              </dd>
            </div>
          );
        })}
      </dl>
    </div>
  );
}

/** Recent credits; those still inside the reversal window can be reversed, with a reason. */
function Recent(props: { credits: Credit[]; onChange: () => void }) {
  const { api, t, locale, me } = useApp();
  const [reversing, setReversing] = useState<string | null>(null);
  const [why, setWhy] = useState('');
  const reasonField = useRef<HTMLInputElement>(null);
  // Opening the reversal puts the keyboard in its reason; closing it returns to the list.
  useEffect(() => {
    if (reversing) reasonField.current?.focus();
  }, [reversing]);
  const [busy, error, run] = useAction();
  return (
    <div>
      <ErrorNote error={error} />
      <ul class="recent">
        {props.credits.map((c) => (
          <li>
            <span>
              {formatMoney(big(c.amount)!, c.currency, locale)} · {t(`kind.${c.kind}`)} · {c.caseRef} ·{' '}
              {formatDate(c.recordedAt, locale)}
            </span>
            {c.reversedBy ? (
              <span class="muted"> · {t('agent.reversed')}</span>
            ) : Date.parse(c.recordedAt) + me.reversalWindowHours * 3_600_000 <= Date.now() ? null : reversing ===
              c.id ? (
              <form
                class="inline"
                onSubmit={(e) => {
                  e.preventDefault();
                  void run(async () => {
                    await api.post(`/v1/credits/${c.id}/reversal`, { reason: why.trim() });
                    setReversing(null);
                    setWhy('');
                    props.onChange();
                  });
                }}
              >
                <label>
                  {t('agent.reverseReason')}
                  <input
                    ref={reasonField}
                    required
                    value={why}
                    onInput={(e) => setWhy((e.target as HTMLInputElement).value)}
                  />
                </label>
                <button type="submit" disabled={busy || !why.trim()}>
                  {t('agent.reverse')}
                </button>
                <button type="button" onClick={() => setReversing(null)}>
                  {t('app.cancel')}
                </button>
              </form>
            ) : (
              <button type="button" class="link" onClick={() => setReversing(c.id)}>
                {t('agent.reverse')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
