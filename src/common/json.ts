import { DomainError } from './domain-error';

/**
 * JSON writer that prints bigint as a plain JSON integer, so money never passes through a
 * JS number on its way out. Everything else follows JSON.stringify's rules.
 */
export function toJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function write(value: unknown, out: string[]): void {
  if (value === null || value === undefined) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'bigint':
      out.push(value.toString());
      return;
    case 'number':
      out.push(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      out.push('null');
      return;
  }
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') {
    write(toJSON.call(value), out);
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item === undefined || typeof item === 'function' ? null : item, out);
    });
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(item, out);
  }
  out.push('}');
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
