import { HttpException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from './domain-error';

/** The methods an `Allow` header may list, in the order it lists them. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const JSON_MEDIA_TYPE = 'application/json';

/** A refusal decided from the HTTP layer itself, with the headers it needs. */
export interface HttpRefusal {
  error: DomainError;
  headers: Record<string, string>;
}

/** The methods the router serves for this request's path; empty when the path itself is unknown. */
export function allowedMethods(request: FastifyRequest): string[] {
  const url = request.url.split('?')[0];
  return METHODS.filter((method) => request.server.findRoute({ method, url }) !== null);
}

/**
 * Turns what Fastify refuses before a controller runs (no route for the method, a body it will not
 * parse, a malformed URL) into a precise domain error; null for everything else.
 */
export function httpRefusal(thrown: unknown, request: FastifyRequest): HttpRefusal | null {
  const error = fastifyError(thrown);
  if (!error) {
    if (!request.is404) return null;
    const allow = allowedMethods(request);
    if (allow.length === 0) return null;
    return {
      error: new DomainError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allow.join(', ')}.`),
      headers: { allow: allow.join(', ') },
    };
  }
  const refuse = (code: DomainError['code'], detail: string): HttpRefusal => ({
    error: new DomainError(code, detail),
    headers: {},
  });
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return refuse(
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than the ${limit}-byte (${Math.floor(limit / 1024)} KiB) limit.`,
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const given = request.headers['content-type'];
      return refuse(
        'UNSUPPORTED_MEDIA_TYPE',
        `Request bodies must be ${JSON_MEDIA_TYPE}; got ${given ? `"${given}"` : 'a body without Content-Type'}.`,
      );
    }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return refuse('MALFORMED_REQUEST', 'The request body is empty; send a JSON document.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return refuse('MALFORMED_REQUEST', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return refuse('MALFORMED_REQUEST', 'The request body does not match its Content-Length header.');
    case 'FST_ERR_BAD_URL':
      return refuse('MALFORMED_REQUEST', 'The URL is malformed (an invalid percent-encoding).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return refuse('NOT_FOUND', 'No such resource: a path segment is too long.');
    default:
      return null;
  }
}

/** The FastifyError behind what was thrown (Nest wraps Fastify's 4xx errors in an HttpException). */
function fastifyError(thrown: unknown): { code: string } | null {
  const error = thrown instanceof HttpException ? thrown.cause : thrown;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.startsWith('FST_') ? { code } : null;
}
