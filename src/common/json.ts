import { randomBytes } from 'node:crypto';
import { DomainError } from './domain-error';

/**
 * A bigint is written through JSON.stringify as a string carrying this per-process marker, then
 * the quotes and marker are taken off. The marker's random part cannot be guessed by anyone who
 * writes strings into the data, so no string ever turns into a number.
 */
const MARK = `#bigint-${randomBytes(12).toString('hex')}:`;
const MARKED = new RegExp(`"${MARK}(-?\\d+)"`, 'g');

const markBigints = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${MARK}${value}` : value);

/**
 * JSON writer that prints bigint as a plain JSON integer, so money never passes through a JS
 * number on its way out. Everything else is JSON.stringify's (V8's native writer).
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value, markBigints);
  return text.includes(MARK) ? text.replace(MARKED, '$1') : text;
}

/**
 * Parses a request body as JSON and refuses the prototype-poisoning keys `__proto__` and
 * `constructor.prototype` (as Fastify's secure-json-parse does), saying exactly what is wrong:
 * Fastify's own parser reports both cases as "not valid JSON".
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new DomainError('MALFORMED_REQUEST', 'The request body is empty; send a JSON document.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DomainError('MALFORMED_REQUEST', `The request body is not valid JSON: ${(error as Error).message}.`);
  }
  // Iterative, so a deeply nested body cannot exhaust the stack.
  const pending: Array<{ node: unknown; path: string }> = [{ node: value, path: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, path } = next;
    if (!isObject(node)) continue;
    const forbidden = hasOwn(node, '__proto__')
      ? '__proto__'
      : hasOwn(node, 'constructor') && hasOwn((node as { constructor: unknown }).constructor, 'prototype')
        ? 'constructor.prototype'
        : undefined;
    if (forbidden) {
      const field = path ? `${path}.${forbidden}` : forbidden;
      throw new DomainError('MALFORMED_REQUEST', `The request body contains the forbidden key "${field}"; remove it.`, [
        { field, message: 'forbidden key: it could change object prototypes' },
      ]);
    }
    for (const [key, child] of Object.entries(node)) {
      if (isObject(child)) {
        pending.push({ node: child, path: Array.isArray(node) ? `${path}[${key}]` : path ? `${path}.${key}` : key });
      }
    }
  }
  return value;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function hasOwn(value: unknown, key: string): boolean {
  return isObject(value) && Object.prototype.hasOwnProperty.call(value, key);
}

/** Every JSON body the service answers (problem+json included) ends with a newline, as a text file does. */
export function endWithNewline(contentType: unknown, payload: unknown): unknown {
  if (typeof payload !== 'string' || payload.endsWith('\n')) return payload;
  return /[/+]json\b/i.test(String(contentType ?? '')) ? `${payload}\n` : payload;
}
