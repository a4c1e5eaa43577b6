import { pageLanguage, refusalPage, REFUSAL_TEXTS } from './pages';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('sign-in refusal pages', () => {
  it.each(Object.entries(REFUSAL_TEXTS))('%s says everything English says, with the same placeholders', (_, texts) => {
    expect(Object.keys(texts).sort()).toEqual(Object.keys(REFUSAL_TEXTS.en).sort());
    for (const [key, text] of Object.entries(REFUSAL_TEXTS.en)) {
      const other = (texts as Record<string, typeof text>)[key];
      const parts =
        typeof text === 'string'
          ? [[text, other as string]]
          : [
              [text.title, (other as typeof text).title],
              [text.detail, (other as typeof text).detail],
            ];
      for (const [english, translated] of parts) {
        expect({ key, translated: translated.trim().length > 0 }).toEqual({ key, translated: true });
        expect({ key, placeholders: placeholders(translated) }).toEqual({ key, placeholders: placeholders(english) });
      }
    }
  });

  it('speaks the reader’s first language it knows', () => {
    expect(pageLanguage('pl-PL,pl;q=0.9,en;q=0.8')).toBe('pl');
    expect(pageLanguage('de-DE, vi;q=0.5')).toBe('vi');
    expect(pageLanguage('de-DE')).toBe('en');
    expect(pageLanguage(undefined)).toBe('en');
    expect(pageLanguage('vi;q=0, pl;q=0.4')).toBe('pl');
  });

  it('escapes every value', () => {
    const page = refusalPage('en', 'unknown', { value: '<script>x</script>' }, false);
    expect(page).not.toContain('<script>x');
    expect(page).toContain('&#60;script&#62;x');
  });
});
