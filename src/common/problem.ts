import { DomainError, ErrorCode, FieldProblem } from './domain-error';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
}

const BASE = 'https://leeway.dev/problems/';

/** The one place where an error code becomes an HTTP status and a title. */
export function statusOf(code: ErrorCode): { status: number; title: string; slug: string } {
  switch (code) {
    case 'VALIDATION':
      return { status: 400, title: 'Invalid request', slug: 'validation' };
    case 'MALFORMED_REQUEST':
      return { status: 400, title: 'Malformed request', slug: 'malformed-request' };
    case 'UNAUTHENTICATED':
      return { status: 401, title: 'Authentication required', slug: 'unauthenticated' };
    case 'FORBIDDEN':
      return { status: 403, title: 'Not permitted', slug: 'forbidden' };
    case 'NOT_FOUND':
      return { status: 404, title: 'Not found', slug: 'not-found' };
    case 'METHOD_NOT_ALLOWED':
      return { status: 405, title: 'Method not allowed', slug: 'method-not-allowed' };
    case 'CONFLICT':
      return { status: 409, title: 'Conflict', slug: 'conflict' };
    case 'IDEMPOTENCY_KEY_IN_FLIGHT':
      return { status: 409, title: 'Request with this key is in progress', slug: 'idempotency-key-in-flight' };
    case 'ALREADY_REVERSED':
      return { status: 409, title: 'Credit already reversed', slug: 'already-reversed' };
    case 'REVERSAL_WINDOW_CLOSED':
      return { status: 403, title: 'Reversal window has closed', slug: 'reversal-window-closed' };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422, title: 'Idempotency key reused with a different request', slug: 'idempotency-key-reused' };
    case 'UNKNOWN_AGENT':
      return { status: 422, title: 'Unknown agent', slug: 'unknown-agent' };
    case 'INVALID_IMPORT':
      return { status: 422, title: 'The file has invalid rows', slug: 'invalid-import' };
    case 'PAYLOAD_TOO_LARGE':
      return { status: 413, title: 'Request body too large', slug: 'payload-too-large' };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415, title: 'Unsupported media type', slug: 'unsupported-media-type' };
    case 'NOT_ACCEPTABLE':
      return { status: 406, title: 'Not acceptable', slug: 'not-acceptable' };
    case 'RATE_LIMITED':
      return { status: 429, title: 'Too many requests', slug: 'rate-limited' };
    case 'UNAVAILABLE':
      return { status: 503, title: 'Service unavailable', slug: 'unavailable' };
    case 'INTERNAL':
      return { status: 500, title: 'Internal error', slug: 'internal' };
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

export function problemOf(error: DomainError, instance?: string): Problem {
  const { status, title, slug } = statusOf(error.code);
  const problem: Problem = { type: BASE + slug, title, status, detail: error.message };
  if (instance) problem.instance = instance;
  if (error.errors.length > 0) problem.errors = error.errors;
  return problem;
}
