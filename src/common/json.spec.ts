import fc from 'fast-check';
import { toJson } from './json';

describe(toJson.name, () => {
  it('writes bigint as a bare integer beyond the float range', () => {
    const sut = toJson({ amount: 9007199254740993n, list: [1n, -2n] });
    expect(sut).toBe('{"amount":9007199254740993,"list":[1,-2]}');
  });

  it('matches JSON.stringify for values without bigint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(toJson(value)).toBe(JSON.stringify(value));
      }),
    );
  });

  it('skips undefined properties and honours toJSON like JSON.stringify', () => {
    const at = new Date('2026-11-22T10:00:00.000Z');
    expect(toJson({ a: undefined, at })).toBe('{"at":"2026-11-22T10:00:00.000Z"}');
  });
});
