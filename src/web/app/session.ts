const KEY = 'leeway.session';
const RETURN = 'leeway.return';

/**
 * The session token for this browser tab. Signing in leaves it in the URL fragment (never sent to
 * a server); it is taken from there at once and the address bar cleaned.
 */
export function takeSession(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fresh = fragment.get('session');
  if (fresh) {
    sessionStorage.setItem(KEY, fresh);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

export function forgetSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Where to come back to after signing in (a helpdesk's ?caseRef=… included). */
export function rememberReturn(path: string): void {
  sessionStorage.setItem(RETURN, path);
}

export function takeReturn(): string {
  const path = sessionStorage.getItem(RETURN) ?? '/';
  sessionStorage.removeItem(RETURN);
  return /^\/(?![/\\])/.test(path) ? path : '/';
}
