import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError, Schemas } from './api/client';
import { initialLanguage, Language, LANGUAGES, translator } from './app/i18n';
import { takePopupRequest } from './app/popup-sign-in';
import { markedReturn, pendingMark, safeReturn, takeReturn } from './app/session';
import './styles.css';

/**
 * Signing in: with a sign-in link (its secret is in the fragment, never sent to a server), used on
 * a click so that a mail scanner opening the page does not use it up; or through the identity
 * provider.
 */
function SignIn() {
  // Opened by a helpdesk's sidebar (#popup=<mark>): come back with the sidebar's mark, in its language.
  const [popup] = useState(() => takePopupRequest(location.hash));
  const [language] = useState<Language>(() =>
    popup?.language && popup.language in LANGUAGES ? (popup.language as Language) : initialLanguage(),
  );
  const t = useMemo(() => translator(language), [language]);
  const api = useMemo(() => new Api({ token: null, onUnauthenticated: () => undefined }), []);
  const [link] = useState(() => new URLSearchParams(location.hash.slice(1)).get('link'));
  const [options, setOptions] = useState<Schemas['SignInOptionsView'] | null>(null);
  const [status, setStatus] = useState('');
  // Back to where the person came from: the app's own note, or ?returnTo= (a helpdesk's sidebar link).
  const [returnTo] = useState(() => {
    const asked = new URLSearchParams(location.search).get('returnTo');
    const remembered = takeReturn();
    return asked ? safeReturn(asked) : remembered;
  });
  const [mark] = useState(() => popup?.mark ?? pendingMark());
  useEffect(() => {
    document.documentElement.lang = language;
    if (popup || link) history.replaceState(null, '', location.pathname + location.search);
    if (link) return;
    void api.get<Schemas['SignInOptionsView']>('/v1/sign-in').then(setOptions);
  }, []);
  const useLink = async () => {
    setStatus(t('signIn.signingIn'));
    try {
      const session = await api.post<Schemas['StartedSessionView']>('/v1/sessions', { link });
      location.replace(`${markedReturn(returnTo, mark)}#session=${session.token}`);
    } catch (e) {
      setStatus(t('signIn.failed', { detail: e instanceof ApiError ? e.detail : String(e) }));
    }
  };
  return (
    <main id="main" class="signed-out">
      <h1>{t('signIn.title')}</h1>
      {popup && <p>{t('signIn.forSidebar')}</p>}
      {link ? (
        <>
          <p>{t('signIn.withLink')}</p>
          <button type="button" onClick={useLink}>
            {t('app.signIn')}
          </button>
        </>
      ) : options?.oidc ? (
        <p>
          <a href={`${options.oidcStartPath}?returnTo=${encodeURIComponent(markedReturn(returnTo, mark))}`}>
            {t('signIn.withProvider')}
          </a>
        </p>
      ) : (
        options && <p>{t('signIn.askAdmin')}</p>
      )}
      <p id="status" role="status">
        {status}
      </p>
    </main>
  );
}

render(<SignIn />, document.getElementById('app')!);
