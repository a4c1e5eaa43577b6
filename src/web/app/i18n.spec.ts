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

  it('fills placeholders', () => {
    expect(translator('en')('app.signedInAs', { name: 'Sam' })).toBe('Signed in as Sam');
  });
});
