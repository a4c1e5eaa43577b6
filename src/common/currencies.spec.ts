import cc from 'currency-codes';
import { CURRENCY_DIGITS } from './currencies';

describe('the currency table', () => {
  it('holds every ISO 4217 currency with a minor unit, with its digits, and nothing else', () => {
    const iso = cc.data
      .filter((c) => typeof c.digits === 'number' && !/^X(XX|TS|AU|AG|PT|PD|BA|BB|BC|BD|DR|SU|UA)$/.test(c.code))
      .map((c) => [c.code, c.digits]);
    expect([...CURRENCY_DIGITS].sort()).toEqual(iso.sort());
    expect(CURRENCY_DIGITS.get('HUF')).toBe(2);
    expect(CURRENCY_DIGITS.get('IQD')).toBe(3);
    expect(CURRENCY_DIGITS.get('JPY')).toBe(0);
  });
});
