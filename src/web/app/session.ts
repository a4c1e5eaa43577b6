import { tabStorage } from './storage';

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
  const { session: fresh, mark } = takeLanding();
  const pending = tabStorage().getItem(PENDING);
  if (fresh && mark && pending && mark === pending) {
    keepSession(fresh);
    tabStorage().removeItem(PENDING);
  }
  return tabStorage().getItem(KEY);
}

/**
 * What signing in left in the address (`?signin=<mark>#session=<token>`), taken out of the address
 * bar at once so that neither a reload nor a copied address carries it on.
 */
export function takeLanding(): { session: string | null; mark: string | null } {
  const url = new URL(location.href);
  const session = new URLSearchParams(url.hash.slice(1)).get('session');
  const mark = url.searchParams.get(MARK);
  if (session || mark) {
    url.searchParams.delete(MARK);
    history.replaceState(null, '', url.pathname + url.search);
  }
  return { session, mark };
}

/** Keeps a session this tab has checked the mark of (see takeSession). */
export function keepSession(token: string): void {
  tabStorage().setItem(KEY, token);
}

export function forgetSession(): void {
  tabStorage().removeItem(KEY);
}

/** A new mark, for one attempt at signing in (see pendingMark). */
export function freshMark(): string {
  return crypto.randomUUID();
}

/** The mark this tab expects back from signing in, made once per attempt. */
export function pendingMark(): string {
  let mark = tabStorage().getItem(PENDING);
  if (!mark) {
    mark = freshMark();
    tabStorage().setItem(PENDING, mark);
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
  tabStorage().setItem(RETURN, safeReturn(path));
}

export function takeReturn(): string {
  const path = tabStorage().getItem(RETURN);
  tabStorage().removeItem(RETURN);
  return safeReturn(path);
}
