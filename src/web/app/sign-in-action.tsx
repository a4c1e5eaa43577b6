import { useEffect, useRef, useState } from 'preact/hooks';
import type { Language, Translate } from './i18n';
import { acceptHandOver, isFramed, openSignInPopup, popupAddress } from './popup-sign-in';
import { freshMark, keepSession, rememberReturn } from './session';

/**
 * "Sign in" for someone signed out. In a tab it goes to the sign-in page and comes back; in a
 * helpdesk's frame, which an identity provider refuses to load, it opens the sign-in page in a
 * window of its own and waits for that window to hand the session back (see popup-sign-in.ts).
 */
export function SignInAction(props: { t: Translate; language: Language; onSession: (token: string) => void }) {
  const { t } = props;
  const popup = useRef<Window | null>(null);
  // Kept in memory only: this document, which opened the window, is the only one that may take its answer.
  const mark = useRef<string | null>(null);
  const onSession = useRef(props.onSession);
  onSession.current = props.onSession;
  const [state, setState] = useState<'idle' | 'waiting' | 'blocked'>('idle');

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const session = acceptHandOver(event, { origin: location.origin, popup: popup.current, mark: mark.current });
      if (!session) return;
      popup.current = null;
      mark.current = null;
      keepSession(session);
      onSession.current(session);
    };
    addEventListener('message', onMessage);
    return () => removeEventListener('message', onMessage);
  }, []);

  const openPopup = (event: Event) => {
    event.preventDefault();
    if (popup.current && !popup.current.closed) {
      popup.current.focus();
      return;
    }
    mark.current = freshMark();
    popup.current = openSignInPopup(popupAddress(mark.current, props.language));
    setState(popup.current ? 'waiting' : 'blocked');
  };

  if (!isFramed()) {
    return (
      <p>
        <a href="/sign-in" onClick={() => rememberReturn(location.pathname + location.search)}>
          {t('app.signIn')}
        </a>
      </p>
    );
  }
  return (
    <>
      <p>
        <a href="/sign-in" onClick={openPopup}>
          {t('app.signIn')}
        </a>
      </p>
      {state === 'blocked' ? (
        <div role="alert">
          <p class="error">{t('app.popupBlocked')}</p>
          <p>
            <a href={popupAddress(mark.current ?? '', props.language)} target="_blank" onClick={openPopup}>
              {t('app.popupOpen')}
            </a>
          </p>
        </div>
      ) : (
        <p role="status">{state === 'waiting' ? t('app.popupWaiting') : ''}</p>
      )}
    </>
  );
}
