import fc from 'fast-check';
import { formatAmountInput, formatMoney, parseAmount, separators } from './money';

const LOCALES = ['en', 'en-GB', 'vi', 'pl', 'de', 'fr-CH'];
const CURRENCIES = ['EUR', 'GBP', 'PLN', 'VND', 'JPY', 'BHD', 'USD'];

describe('amounts typed as money', () => {
  it('every amount a person can type round-trips exactly, in every locale and currency', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000_000_000n }),
        fc.constantFrom(...LOCALES),
        fc.constantFrom(...CURRENCIES),
        fc.boolean(),
        (minor, locale, currency, grouped) => {
          let typed = formatAmountInput(minor, currency, locale);
          // People often leave the grouping out.
          if (!grouped)
            typed = typed
              .split(separators(locale).group)
              .join('')
              .replace(/[\s\u00a0\u202f]/g, '');
          expect(parseAmount(typed, currency, locale)).toEqual({ ok: true, minor });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads fewer decimals than the currency has, and refuses more, letters and two separators', () => {
    expect(parseAmount('30', 'EUR', 'en')).toEqual({ ok: true, minor: 3000n });
    expect(parseAmount('30,5', 'EUR', 'pl')).toEqual({ ok: true, minor: 3050n });
    expect(parseAmount('1 234,56', 'PLN', 'pl')).toEqual({ ok: true, minor: 123456n });
    expect(parseAmount('1.234.567', 'VND', 'vi')).toEqual({ ok: true, minor: 1234567n });
    expect(parseAmount('1.005', 'BHD', 'en')).toEqual({ ok: true, minor: 1005n });
    expect(parseAmount('30.001', 'EUR', 'en')).toEqual({ ok: false, reason: 'too-precise' });
    expect(parseAmount('12.5', 'JPY', 'en')).toEqual({ ok: false, reason: 'too-precise' });
    expect(parseAmount('12a', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('1.2.3', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('-5', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('  ', 'EUR', 'en')).toEqual({ ok: false, reason: 'empty' });
  });

  it('formats beyond the float range exactly', () => {
    expect(formatMoney(900719925474099399n, 'EUR', 'en')).toBe('€9,007,199,254,740,993.99');
    expect(formatMoney(-2550n, 'EUR', 'de')).toMatch(/^-25,50\s€$/);
    expect(formatMoney(30000n, 'VND', 'vi')).toMatch(/^30\.000\s₫$/);
  });
});
