import { render } from 'preact';
import type { ComponentType } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, NetworkError, Schemas } from './api/client';
import { Ctx, AppContext } from './app/context';
import { initialLanguage, Language, LANGUAGES, rememberLanguage, translator } from './app/i18n';
import { handOverToOpener, HandOverOutcome } from './app/popup-sign-in';
import { forgetSession, takeSession } from './app/session';
import { SignInAction } from './app/sign-in-action';
import './styles.css';

type Screen = 'agent' | 'leader' | 'finance' | 'auditor' | 'admin' | 'sessions';

/** Each screen is its own chunk: an agent's browser loads the agent screen and nothing else. */
const SCREENS: Record<Screen, () => Promise<ComponentType<{ onSignedOut: () => void }>>> = {
  agent: () => import('./screens/agent').then((m) => m.AgentScreen),
  leader: () => import('./screens/leader').then((m) => m.LeaderScreen),
  finance: () => import('./screens/finance').then((m) => m.FinanceScreen),
  auditor: () => import('./screens/auditor').then((m) => m.AuditorScreen),
  admin: () => import('./screens/admin').then((m) => m.AdminScreen),
  sessions: () => import('./screens/sessions').then((m) => m.SessionsScreen),
};

function screensFor(me: Schemas['MeView']): Screen[] {
  const has = (level: string) => me.access.includes(level as never);
  const list: Screen[] = [];
  if (has('agent')) list.push('agent');
  if (has('leader')) list.push('leader');
  if (has('finance') || has('leader')) list.push('finance');
  if (has('auditor')) list.push('auditor');
  if (has('admin')) list.push('admin');
  list.push('sessions');
  return list;
}

function currentScreen(): string {
  return location.hash.replace(/^#\/?/, '');
}

/** A sign-in window that came back: it handed the session to the sidebar that opened it, or could not. */
function HandedOver(props: { outcome: HandOverOutcome }) {
  const t = useMemo(() => translator(initialLanguage()), []);
  const { outcome } = props;
  useEffect(() => {
    document.documentElement.lang = initialLanguage();
    // Nobody will use this session: end it rather than leave it open for its hours.
    if (outcome.kind === 'orphaned') void signOutOf(new Api({ token: outcome.session, onUnauthenticated: () => {} }));
  }, []);
  return (
    <main id="main" class="signed-out">
      <h1>{t('app.name')}</h1>
      <p id="status" role="status">
        {outcome.kind === 'handed' ? t('app.popupDone') : t('app.popupOrphaned')}
      </p>
    </main>
  );
}

/** Ends the session this API client signs in with, if it can; signing out locally follows anyway. */
async function signOutOf(api: Api): Promise<void> {
  const mine = await api.get<Schemas['SessionListView']>('/v1/me/sessions').catch(() => null);
  const current = mine?.data.find((s) => s.current);
  if (current) await api.delete(`/v1/me/sessions/${current.id}`).catch(() => undefined);
}

function App() {
  const [language, setLanguage] = useState<Language>(initialLanguage());
  const t = useMemo(() => translator(language), [language]);
  const [token, setToken] = useState<string | null>(() => takeSession());
  const [me, setMe] = useState<Schemas['MeView'] | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [route, setRoute] = useState(currentScreen());
  const [Screen, setScreen] = useState<{ C: ComponentType<{ onSignedOut: () => void }> } | null>(null);
  const signOut = () => {
    forgetSession();
    setToken(null);
    setMe(null);
  };
  const api = useMemo(() => new Api({ token, onUnauthenticated: signOut }), [token]);
  const locale = navigator.languages.find((l) => l.toLowerCase().startsWith(language)) ?? language;

  useEffect(() => {
    document.documentElement.lang = language;
    rememberLanguage(language);
  }, [language]);
  useEffect(() => {
    const onHash = () => setRoute(currentScreen());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (!token) return;
    api.get<Schemas['MeView']>('/v1/me').then(setMe, setFailure);
  }, [token]);

  const screens = me ? screensFor(me) : [];
  const active = (screens.includes(route as Screen) ? route : screens[0]) as Screen | undefined;
  useEffect(() => {
    if (!active) return;
    setScreen(null);
    void SCREENS[active]().then((C) => setScreen({ C }));
  }, [active]);

  const languagePicker = (
    <label class="language">
      {t('app.language')}
      <select value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Language)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );

  if (!token) {
    return (
      <main id="main" class="signed-out">
        <h1>{t('app.name')}</h1>
        <p id="status" role="status">
          {t('app.notSignedIn')}
        </p>
        <SignInAction t={t} language={language} onSession={setToken} />
        {languagePicker}
      </main>
    );
  }
  if (!me) {
    return (
      <main id="main">
        <p role="status">{failure ? '' : t('app.loading')}</p>
        {failure !== null && (
          <p role="alert" class="error">
            {failure instanceof NetworkError
              ? t('app.networkError')
              : t('app.error', { detail: (failure as Error).message })}
          </p>
        )}
      </main>
    );
  }
  const ctx: AppContext = { api, t, language, locale, me };
  return (
    <Ctx.Provider value={ctx}>
      <header class="top">
        <strong class="brand">{t('app.name')}</strong>
        <nav aria-label={t('app.nav')}>
          <ul>
            {screens.map((s) => (
              <li>
                <a href={`#/${s}${''}`} aria-current={s === active ? 'page' : undefined}>
                  {t(`nav.${s}`)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" id="who">
          {me.displayName}
        </span>
        {languagePicker}
        <button
          type="button"
          onClick={async () => {
            await signOutOf(api);
            signOut();
          }}
        >
          {t('app.signOut')}
        </button>
      </header>
      <main id="main">
        {active && <h1 class="sr-only">{t(`nav.${active}`)}</h1>}
        {Screen ? <Screen.C onSignedOut={signOut} /> : <p role="status">{t('app.loading')}</p>}
      </main>
    </Ctx.Provider>
  );
}

// A sign-in window coming back hands its session over before the app would keep it for itself.
const handedOver = handOverToOpener();
render(handedOver ? <HandedOver outcome={handedOver} /> : <App />, document.getElementById('app')!);
