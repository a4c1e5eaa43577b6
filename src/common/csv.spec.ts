import { csvField, wantsCsv } from './csv';

describe('wantsCsv', () => {
  it.each([
    [undefined, undefined, false],
    ['csv', undefined, true],
    ['json', 'text/csv', false],
    [undefined, 'text/csv', true],
    [undefined, 'text/csv;q=0.1, application/json', false],
    [undefined, 'application/json, text/csv;q=0.5', false],
    [undefined, 'application/json;q=0.5, text/csv', true],
    [undefined, 'text/csv, */*', true],
    [undefined, 'text/csv;q=0', false],
    [undefined, 'application/json', false],
    [undefined, '*/*', false],
  ])('format=%s, Accept: %s → %s', (format, accept, expected) => {
    expect(wantsCsv(format, accept)).toBe(expected);
  });
});

describe('csvField', () => {
  it('quotes separators and defuses formulas', () => {
    expect(csvField('North, "East"')).toBe('"North, ""East"""');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField(12n)).toBe('12');
    expect(csvField(null)).toBe('');
  });
});
