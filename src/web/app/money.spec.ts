import fc from 'fast-check';
import { CURRENCY_DIGITS } from '../../common/currencies';
import { minorUnitsOf } from '../../common/money';
import { currencyDigits, formatAmountInput, formatMoney, parseAmount, separators } from './money';

const LOCALES = ['en', 'en-GB', 'en-IN', 'vi', 'pl', 'de', 'fr-CH', 'es'];
// Intl's data disagrees with ISO 4217 on HUF, IDR and IQD (0 digits): the app must follow ISO.
const CURRENCIES = ['EUR', 'GBP', 'PLN', 'VND', 'JPY', 'BHD', 'USD', 'HUF', 'IDR', 'IQD'];
const SPACES = /[\s\u00a0\u202f]/g;

const ungrouped = (typed: string, locale: string) => typed.split(separators(locale).group).join('').replace(SPACES, '');

describe('amounts typed as money', () => {
  it('counts minor units exactly as the service does, for every currency', () => {
    for (const code of CURRENCY_DIGITS.keys())
      expect({ code, digits: currencyDigits(code) }).toEqual({ code, digits: minorUnitsOf(code) });
  });

  it('every amount a person can type round-trips exactly, in every locale and currency', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000_000_000n }),
        fc.constantFrom(...LOCALES),
        fc.constantFrom(...CURRENCIES),
        fc.boolean(),
        (minor, locale, currency, grouped) => {
          const formatted = formatAmountInput(minor, currency, locale);
          // People often leave the grouping out.
          const typed = grouped ? formatted : ungrouped(formatted, locale);
          expect(parseAmount(typed, currency, locale)).toEqual({ ok: true, minor });
        },
      ),
      { numRuns: 3000 },
    );
  });

  // With three decimals ("1,001" BHD in French is 1,001 BHD in English) the two readings cannot be
  // told apart by their shape; the field shows how it reads the amount before it is sent.
  it('an amount written in another locale’s format is refused or read as the same amount, never as another', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000_000_000n }),
        fc.constantFrom(...LOCALES),
        fc.constantFrom(...LOCALES),
        fc.constantFrom(...CURRENCIES.filter((c) => currencyDigits(c) !== 3)),
        (minor, writer, reader, currency) => {
          const parsed = parseAmount(formatAmountInput(minor, currency, writer), currency, reader);
          if (parsed.ok) expect(parsed.minor).toBe(minor);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a separator in the wrong place is refused, never taken as grouping', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 10n, max: 1_000_000_000_000n }),
        fc.constantFrom(...LOCALES.filter((l) => l !== 'en-IN')),
        fc.constantFrom(...CURRENCIES),
        fc.nat(),
        fc.boolean(),
        (whole, locale, currency, at, space) => {
          const digits = whole.toString();
          const cut = 1 + (at % (digits.length - 1));
          const typed = `${digits.slice(0, cut)}${space ? ' ' : separators(locale).group}${digits.slice(cut)}`;
          // Groups of three after the first, which has one to three digits: the one fair grouping.
          const fair = digits.length - cut === 3 && cut <= 3;
          expect(parseAmount(typed, currency, locale)).toEqual(
            fair
              ? { ok: true, minor: whole * 10n ** BigInt(currencyDigits(currency)) }
              : { ok: false, reason: 'grouping' },
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads fewer decimals than the currency has, and refuses more, letters, misplaced and doubled separators', () => {
    expect(parseAmount('30', 'EUR', 'en')).toEqual({ ok: true, minor: 3000n });
    expect(parseAmount('30,5', 'EUR', 'pl')).toEqual({ ok: true, minor: 3050n });
    expect(parseAmount('1 234,56', 'PLN', 'pl')).toEqual({ ok: true, minor: 123456n });
    expect(parseAmount('1.234.567', 'VND', 'vi')).toEqual({ ok: true, minor: 1234567n });
    expect(parseAmount('1.005', 'BHD', 'en')).toEqual({ ok: true, minor: 1005n });
    expect(parseAmount('12,34,567.50', 'INR', 'en-IN')).toEqual({ ok: true, minor: 123456750n });
    expect(parseAmount('1,234,567.50', 'INR', 'en-IN')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('10000', 'HUF', 'en')).toEqual({ ok: true, minor: 1000000n });
    expect(parseAmount('12,50', 'EUR', 'en')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('12,50', 'EUR', 'en-GB')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('12.5', 'EUR', 'vi')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('25.50', 'EUR', 'vi')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('12 50', 'PLN', 'pl')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('1,2,3', 'EUR', 'en')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('1.234,56', 'EUR', 'en')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('0,001', 'BHD', 'en')).toEqual({ ok: false, reason: 'grouping' });
    expect(parseAmount('30.001', 'EUR', 'en')).toEqual({ ok: false, reason: 'too-precise' });
    expect(parseAmount('12.5', 'JPY', 'en')).toEqual({ ok: false, reason: 'too-precise' });
    expect(parseAmount('12a', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('1.2.3', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('-5', 'EUR', 'en')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseAmount('  ', 'EUR', 'en')).toEqual({ ok: false, reason: 'empty' });
  });

  it('formats beyond the float range exactly, with ISO 4217 digits', () => {
    expect(formatMoney(900719925474099399n, 'EUR', 'en')).toBe('€9,007,199,254,740,993.99');
    expect(formatMoney(-2550n, 'EUR', 'de')).toMatch(/^-25,50\s€$/);
    expect(formatMoney(30000n, 'VND', 'vi')).toMatch(/^30\.000\s₫$/);
    expect(formatMoney(1000000n, 'HUF', 'en')).toMatch(/^HUF\s10,000\.00$/);
  });
});
