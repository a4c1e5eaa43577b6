const KEY = 'leeway.session';
const RETURN = 'leeway.return';
const PENDING = 'leeway.pending';
const MARK = 'signin';

/**
 * The session token for this browser tab. Signing in leaves it in the URL fragment (never sent to a
 * server), next to a mark in the query that must match the one this tab set before it left to sign
 * in: a link someone else made with their own token in it signs nobody in.
 */
export function takeSession(): string | null {
  const url = new URL(location.href);
  const fresh = new URLSearchParams(url.hash.slice(1)).get('session');
  const mark = url.searchParams.get(MARK);
  if (fresh || mark) {
    url.searchParams.delete(MARK);
    history.replaceState(null, '', url.pathname + url.search);
  }
  const pending = sessionStorage.getItem(PENDING);
  if (fresh && mark && pending && mark === pending) {
    sessionStorage.setItem(KEY, fresh);
    sessionStorage.removeItem(PENDING);
  }
  return sessionStorage.getItem(KEY);
}

export function forgetSession(): void {
  sessionStorage.removeItem(KEY);
}

/** The mark this tab expects back from signing in, made once per attempt. */
export function pendingMark(): string {
  let mark = sessionStorage.getItem(PENDING);
  if (!mark) {
    mark = crypto.randomUUID();
    sessionStorage.setItem(PENDING, mark);
  }
  return mark;
}

/** The app address to come back to, carrying this tab's mark. */
export function markedReturn(path: string, mark: string): string {
  const url = new URL(path, location.origin);
  url.searchParams.set(MARK, mark);
  return url.pathname + url.search;
}

/** Only the app itself (`/`, with a query such as a helpdesk's `?caseRef=`), as the service allows. */
export function safeReturn(path: string | null | undefined): string {
  return path && /^\/(\?[^\s#]*)?$/.test(path) && path.length <= 400 ? path : '/';
}

/** Where to come back to after signing in (a helpdesk's ?caseRef=… included). */
export function rememberReturn(path: string): void {
  sessionStorage.setItem(RETURN, safeReturn(path));
}

export function takeReturn(): string {
  const path = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  return safeReturn(path);
}
