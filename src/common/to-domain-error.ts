import { HttpException } from '@nestjs/common';
import { DomainError, ErrorCode } from './domain-error';
import { pgError } from './pg-errors';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for errors that mean "the database is not reachable right now", not "the query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string; driverError?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.driverError && e.driverError !== error && isDatabaseUnavailable(e.driverError)) return true;
  const code = e.code ?? '';
  if (CONNECTION_CODES.has(code)) return true;
  // 08xxx connection exceptions, 57P0x operator intervention (shutdown, crash recovery), 53300 too many connections.
  if (/^(08...|57P0[1-4]|53300)$/.test(code)) return true;
  const message = e.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i.test(
    message,
  );
}

/**
 * A lock or statement timeout (55P03, 57014), or the driver's own query timeout: the request waited
 * too long, it was not wrong.
 */
function isDatabaseBusy(error: unknown): boolean {
  const { code, message } = pgError(error);
  return code === '55P03' || code === '57014' || message === 'Query read timeout';
}

function fromStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'MALFORMED_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
    case 405:
      return 'NOT_FOUND';
    case 406:
      return 'NOT_ACCEPTABLE';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'MALFORMED_REQUEST' : 'INTERNAL';
  }
}

/** Normalises anything thrown while serving a request into a DomainError. */
export function toDomainError(error: unknown): { error: DomainError; unexpected: boolean } {
  if (error instanceof DomainError) return { error, unexpected: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const message =
      typeof body === 'object' && body && 'message' in body
        ? String((body as { message: unknown }).message)
        : error.message;
    return { error: new DomainError(fromStatus(status), message), unexpected: status >= 500 };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      error: new DomainError('UNAVAILABLE', 'The database is not reachable; try again shortly.'),
      unexpected: false,
    };
  }
  if (isDatabaseBusy(error)) {
    return {
      error: new DomainError('UNAVAILABLE', 'The database is busy with other work; try again shortly.'),
      unexpected: false,
    };
  }
  const fastify = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const detail =
      fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'The request body is larger than the service accepts.'
        : error instanceof SyntaxError || fastify.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
          ? 'The request body is not valid JSON.'
          : (fastify.message ?? 'The request could not be read.');
    return { error: new DomainError(fromStatus(fastify.statusCode), detail), unexpected: false };
  }
  return { error: new DomainError('INTERNAL', 'An unexpected error occurred.'), unexpected: true };
}
