import { CHANNELS, CREDIT_KINDS } from '../../credits/credit-kinds';
import { en } from './i18n-en';
import { DICTIONARIES, initialLanguage, translator } from './i18n';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  it.each(Object.entries(DICTIONARIES))(
    '%s has every key, each with the same placeholders, none left in English by accident',
    (language, dictionary) => {
      expect(Object.keys(dictionary).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) {
        const translated = (dictionary as Record<string, string>)[key];
        expect({ key, text: translated.trim().length > 0 }).toEqual({ key, text: true });
        expect({ key, placeholders: placeholders(translated) }).toEqual({ key, placeholders: placeholders(text) });
      }
      if (language !== 'en') {
        const same = Object.keys(en).filter(
          (k) => (dictionary as Record<string, string>)[k] === (en as Record<string, string>)[k],
        );
        // Names and loan words may stay as they are; anything else must be translated.
        expect(same.sort()).toEqual(
          ['app.name', 'channel.email', 'finance.csv'].filter((k) => same.includes(k)).sort(),
        );
      }
    },
  );

  it('picks the browser’s first language it has, else English; a choice made here wins', () => {
    expect(initialLanguage(['pl-PL', 'en'], null)).toBe('pl');
    expect(initialLanguage(['de-DE', 'vi-VN'], null)).toBe('vi');
    expect(initialLanguage(['de-DE'], null)).toBe('en');
    expect(initialLanguage(['pl-PL'], 'vi')).toBe('vi');
  });

  // Finance labels rows from report data (`kind.<kind>`, `channel.<channel>`): the one place a key is
  // built from data the compiler cannot check, so the service's own lists are checked here.
  it('names every kind and channel the service knows', () => {
    const keys = [...CREDIT_KINDS.map((k) => `kind.${k}`), ...CHANNELS.map((c) => `channel.${c}`)];
    expect(keys.filter((k) => !(k in en))).toEqual([]);
  });

  it('falls back to English, then to the key, for a key it lacks', () => {
    const t = translator('pl') as (key: string) => string;
    expect(t('no.such.key')).toBe('no.such.key');
  });

  it('fills placeholders', () => {
    expect(translator('en')('app.signedInAs', { name: 'Sam' })).toBe('Signed in as Sam');
  });
});
