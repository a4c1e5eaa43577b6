import fc from 'fast-check';
import { DomainError } from './domain-error';
import { parseJsonBody, toJson } from './json';

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

  it('never turns a string into a number, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.bigInt().map((b) => `#bigint-:${b}`),
        ),
        fc.bigInt(),
        (text, n) => {
          const quoted = JSON.stringify(text);
          expect(toJson({ text, n, list: [text, n] })).toBe(`{"text":${quoted},"n":${n},"list":[${quoted},${n}]}`);
        },
      ),
    );
  });

  it('skips undefined properties and honours toJSON like JSON.stringify', () => {
    const at = new Date('2026-11-22T10:00:00.000Z');
    expect(toJson({ a: undefined, at })).toBe('{"at":"2026-11-22T10:00:00.000Z"}');
  });
});

describe(parseJsonBody.name, () => {
  const refusal = (text: string) => {
    try {
      parseJsonBody(text);
    } catch (error) {
      return error as DomainError;
    }
    throw new Error(`accepted ${text}`);
  };

  it('parses ordinary JSON like JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        // Keys that could reach object prototypes are refused on purpose (tested below).
        fc.pre(!/"(__proto__|constructor|prototype)":/.test(text));
        expect(parseJsonBody(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it.each([
    ['{"__proto__":1}', '__proto__'],
    ['{"a":{"b":[{"__proto__":{"admin":true}}]}}', 'a.b[0].__proto__'],
    ['{"\\u005f_proto__":1}', '__proto__'],
    ['{"constructor":{"prototype":{"admin":true}}}', 'constructor.prototype'],
  ])('names the forbidden key in %s', (text, field) => {
    const sut = refusal(text);
    expect(sut.code).toBe('MALFORMED_REQUEST');
    expect(sut.message).toContain(`forbidden key "${field}"`);
    expect(sut.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it('accepts a plain "constructor" value that cannot reach a prototype', () => {
    expect(parseJsonBody('{"constructor":"x","prototype":1}')).toEqual({ constructor: 'x', prototype: 1 });
  });

  it('tells an empty body from malformed JSON', () => {
    expect(refusal('  ').message).toMatch(/empty/);
    expect(refusal('{"a":').message).toMatch(/^The request body is not valid JSON: /);
  });

  it('survives deep nesting without exhausting the stack', () => {
    const deep = '['.repeat(5000) + '{"__proto__":0}' + ']'.repeat(5000);
    expect(refusal(deep).message).toContain('__proto__');
  });
});
