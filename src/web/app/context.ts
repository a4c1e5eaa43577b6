import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api, Schemas } from '../api/client';
import type { Language, Translate } from './i18n';

export interface AppContext {
  api: Api;
  t: Translate;
  language: Language;
  /** BCP 47 tag for money and dates: the browser's own when it speaks the chosen language. */
  locale: string;
  me: Schemas['MeView'];
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('outside the app');
  return ctx;
}

/** A money value from the API: a bigint at runtime (see parseJson), typed as a number by the schema. */
export const big = (value: number | bigint | null | undefined): bigint | null =>
  value === null || value === undefined ? null : BigInt(value);

export function formatDate(iso: string, locale: string, withTime = true): string {
  return new Intl.DateTimeFormat(
    locale,
    withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' },
  ).format(new Date(iso));
}

export function formatMonth(month: string, locale: string): string {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(
    Date.UTC(y, m - 1, 1),
  );
}
