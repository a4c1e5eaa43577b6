import { en, MessageKey } from './i18n-en';
import { pl } from './i18n-pl';
import { vi } from './i18n-vi';
import { browserStorage } from './storage';

export const LANGUAGES = { en: 'English', vi: 'Tiếng Việt', pl: 'Polski' } as const;
export type Language = keyof typeof LANGUAGES;
export const DICTIONARIES = { en, vi, pl };
const STORED = 'leeway.language';

/** The reader's language: the one they chose here, else the first of the browser's we have. */
export function initialLanguage(
  preferred: readonly string[] = navigator.languages,
  stored = browserStorage().getItem(STORED),
): Language {
  if (stored && stored in LANGUAGES) return stored as Language;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base in LANGUAGES) return base as Language;
  }
  return 'en';
}

export function rememberLanguage(language: Language): void {
  browserStorage().setItem(STORED, language);
}

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(language: Language): Translate {
  const dictionary = DICTIONARIES[language];
  // A key missing at run time (one built from data the build could not check) falls back to
  // English, then to the key itself: a screen never fails for want of a word.
  return (key, vars = {}) =>
    (dictionary[key] ?? en[key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}
