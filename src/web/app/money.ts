/**
 * Money in the web app: integer minor units as bigint from the wire to the screen, never a JS
 * float. Formatting hands Intl an exact decimal string; parsing reads the digits a person typed.
 */

export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
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

export type ParsedAmount = { ok: true; minor: bigint } | { ok: false; reason: 'empty' | 'invalid' | 'too-precise' };

const SPACES = /[\s\u00a0\u202f]/g;

/**
 * Reads an amount typed in the reader's locale ("1 234,56" in Polish, "1,234.56" in English) as
 * minor units of `currency`. Group separators may be left out; the decimal separator is the
 * locale's; more decimals than the currency has are refused rather than rounded.
 */
export function parseAmount(text: string, currency: string, locale: string): ParsedAmount {
  const { decimal, group } = separators(locale);
  let cleaned = text.replace(SPACES, '');
  if (cleaned === '') return { ok: false, reason: 'empty' };
  if (group.trim() !== '') cleaned = cleaned.split(group).join('');
  const pieces = cleaned.split(decimal);
  if (pieces.length > 2) return { ok: false, reason: 'invalid' };
  const [whole, fraction = ''] = pieces;
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(fraction) || (whole === '' && fraction === ''))
    return { ok: false, reason: 'invalid' };
  const digits = currencyDigits(currency);
  if (fraction.length > digits) return { ok: false, reason: 'too-precise' };
  return { ok: true, minor: BigInt(`${whole || '0'}${fraction.padEnd(digits, '0')}`) };
}
