/**
 * Money in the web app: integer minor units as bigint from the wire to the screen, never a JS
 * float. Formatting hands Intl an exact decimal string; parsing reads the digits a person typed.
 */

import { CURRENCY_DIGITS } from '../../common/currencies';

/** The currency's minor-unit digits as the service counts them (ISO 4217), not as Intl guesses them. */
export function currencyDigits(currency: string): number {
  return CURRENCY_DIGITS.get(currency) ?? 2;
}

/** The exact decimal string of `minor` units ("-1234.50" for -123450 EUR cents). */
function decimalString(minor: bigint, digits: number): string {
  const negative = minor < 0n;
  const text = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = digits > 0 ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
  return negative ? `-${whole}` : whole;
}

/** "30,00 €", "€30.00", "30.000 ₫": the reader's locale, the currency's own digits. */
export function formatMoney(minor: bigint, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // A decimal string is formatted exactly (Intl.NumberFormat v3), without passing through a float.
  return format.format(decimalString(minor, digits) as unknown as number);
}

/** What an amount field shows for `minor`: the locale's digits and separators, no symbol. */
export function formatAmountInput(minor: bigint, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(decimalString(minor, digits) as unknown as number);
}

export function separators(locale: string): { decimal: string; group: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
  return {
    decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    group: parts.find((p) => p.type === 'group')?.value ?? ',',
  };
}

/**
 * How the locale groups a whole number: the last group's size and the size of those before it
 * (3 and 3 in most locales; 3 and 2 in Indian English, "12,34,567").
 */
function groupSizes(locale: string): { last: number; other: number } {
  const groups = new Intl.NumberFormat(locale)
    .formatToParts(1234567890)
    .filter((p) => p.type === 'integer')
    .map((p) => p.value.length);
  return { last: groups.at(-1) ?? 3, other: groups.length > 2 ? groups.at(-2)! : (groups.at(-1) ?? 3) };
}

export type ParsedAmount =
  { ok: true; minor: bigint } | { ok: false; reason: 'empty' | 'invalid' | 'too-precise' | 'grouping' };

const SPACE = /[\s\u00a0\u202f]/;
const GROUP = '\u0000';

/**
 * Reads an amount typed in the reader's locale ("1 234,56" in Polish, "1,234.56" in English) as
 * minor units of `currency`. Grouping may be left out; where it is typed (with the locale's group
 * separator or a space) every group must be whole, so "12,50" in English (a decimal comma) is
 * refused, never read as 1,250. The decimal separator is the locale's; more decimals than the
 * currency has are refused rather than rounded.
 */
export function parseAmount(text: string, currency: string, locale: string): ParsedAmount {
  const { decimal, group } = separators(locale);
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty' };
  let marked = [...trimmed].map((c) => (SPACE.test(c) ? GROUP : c)).join('');
  if (!SPACE.test(group)) marked = marked.split(group).join(GROUP);
  const pieces = marked.split(decimal);
  if (pieces.length > 2) return { ok: false, reason: 'invalid' };
  const [whole, fraction = ''] = pieces;
  if (!/^[\d\u0000]*$/.test(whole) || !/^\d*$/.test(fraction) || (whole === '' && fraction === ''))
    return { ok: false, reason: fraction.includes(GROUP) ? 'grouping' : 'invalid' };
  const groups = whole.split(GROUP);
  if (groups.length > 1) {
    const { last, other } = groupSizes(locale);
    const fits = groups.every((g, i) =>
      i === 0
        ? g.length >= 1 && g.length <= other && !g.startsWith('0')
        : g.length === (i === groups.length - 1 ? last : other),
    );
    if (!fits) return { ok: false, reason: 'grouping' };
  }
  const digits = currencyDigits(currency);
  if (fraction.length > digits) return { ok: false, reason: 'too-precise' };
  return { ok: true, minor: BigInt(`${groups.join('') || '0'}${fraction.padEnd(digits, '0')}`) };
}
