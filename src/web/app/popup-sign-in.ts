import { takeLanding } from './session';
import { tabStorage } from './storage';

/**
 * Signing in from a helpdesk sidebar. Identity providers refuse to be framed, and a frame keeps its
 * own session storage, so the frame opens Leeway's sign-in page in a window of its own. That window
 * signs in as a tab would, with the frame's mark in its return address, and hands the session to
 * the frame that opened it with postMessage, then closes. The frame takes it only from that window,
 * from Leeway's own origin, with the mark it made for this attempt: nothing else signs it in.
 */

const POPUP = 'leeway.popup';
const MESSAGE = 'leeway.session';
/** What freshMark makes (crypto.randomUUID). */
const MARK_SHAPE = /^[0-9a-f-]{36}$/;

export interface HandOver {
  type: typeof MESSAGE;
  session: string;
  mark: string;
}

/** Whether the app runs inside another page's frame (a helpdesk's sidebar). */
export function isFramed(): boolean {
  return window.top !== window;
}

/**
 * The sign-in window's address: the mark and the reader's language ride in the fragment, which no
 * server sees; the mark reaches Leeway's service only as the return address's `signin`, as always.
 */
export function popupAddress(mark: string, language: string): string {
  return `/sign-in#${new URLSearchParams({ popup: mark, lang: language }).toString()}`;
}

export function openSignInPopup(address: string): Window | null {
  return window.open(address, '_blank', 'popup,width=480,height=680');
}

/**
 * The session in a message, when it is the hand-over this frame waits for: from Leeway's own
 * origin, from the window it opened, with the mark it made. Anything else gives null.
 */
export function acceptHandOver(
  message: { origin: string; source: unknown; data: unknown },
  expected: { origin: string; popup: unknown; mark: string | null },
): string | null {
  if (message.origin !== expected.origin) return null;
  if (!expected.popup || message.source !== expected.popup) return null;
  const data = message.data as Partial<HandOver> | null;
  if (typeof data !== 'object' || data === null || data.type !== MESSAGE) return null;
  if (!expected.mark || typeof data.mark !== 'string' || data.mark !== expected.mark) return null;
  return typeof data.session === 'string' && data.session.length > 0 ? data.session : null;
}

/**
 * In the sign-in page: whether it was opened as a sign-in window (`#popup=<mark>`), and if so
 * which mark to carry. Recorded in this window's own session storage, so that the app it comes
 * back to knows to hand the session over rather than keep it.
 */
export function takePopupRequest(fragment: string): { mark: string; language: string | null } | null {
  const asked = new URLSearchParams(fragment.replace(/^#/, ''));
  const mark = asked.get('popup');
  if (!mark || !MARK_SHAPE.test(mark)) return null;
  tabStorage().setItem(POPUP, mark);
  return { mark, language: asked.get('lang') };
}

export type HandOverOutcome = { kind: 'handed' } | { kind: 'orphaned'; session: string };

/**
 * In the app a sign-in window comes back to: hands the session to the frame that opened this
 * window, and closes it. Null when this is not a sign-in window coming back (the app runs as usual).
 */
export function handOverToOpener(): HandOverOutcome | null {
  const expected = tabStorage().getItem(POPUP);
  if (!expected) return null;
  const url = new URL(location.href);
  if (url.searchParams.get('signin') !== expected) return null;
  const { session, mark } = takeLanding();
  tabStorage().removeItem(POPUP);
  if (!session || mark !== expected) return null;
  const opener = window.opener as Window | null;
  if (!opener || opener.closed) return { kind: 'orphaned', session };
  const message: HandOver = { type: MESSAGE, session, mark };
  // Only a window of Leeway's own origin can receive it; the frame checks the rest.
  opener.postMessage(message, location.origin);
  window.close();
  return { kind: 'handed' };
}
