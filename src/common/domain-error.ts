export type ErrorCode =
  | 'VALIDATION'
  | 'MALFORMED_REQUEST'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_FLIGHT'
  | 'UNKNOWN_AGENT'
  | 'INVALID_IMPORT'
  | 'ALREADY_REVERSED'
  | 'REVERSAL_WINDOW_CLOSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_ACCEPTABLE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface FieldProblem {
  field: string;
  message: string;
  /** For a file (CSV import): the line the problem is on, 1 being the header. */
  line?: number;
}

/** Errors the services raise; the HTTP status and wording are decided in ProblemFilter alone. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(detail ?? code);
  }

  static validation(field: string, message: string): DomainError {
    return new DomainError('VALIDATION', `${field}: ${message}`, [{ field, message }]);
  }
}
