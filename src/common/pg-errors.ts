import { DomainError } from './domain-error';

/** The PostgreSQL error fields the service reads, wherever the driver or TypeORM put them. */
export interface PgError {
  /** SQLSTATE, or a Node error code (ECONNREFUSED) for a connection that failed. */
  code?: string;
  message: string;
  constraint?: string;
  column?: string;
}

/** The database's own error inside what TypeORM or the driver threw (the error itself if bare). */
export function pgError(error: unknown): PgError {
  const e = error as (PgError & { driverError?: PgError }) | undefined;
  const inner = e?.driverError && typeof e.driverError === 'object' ? e.driverError : e;
  return {
    code: inner?.code ?? e?.code,
    message: inner?.message ?? e?.message ?? '',
    constraint: inner?.constraint ?? e?.constraint,
    column: inner?.column,
  };
}

/** The unique constraint a write collided with (SQLSTATE 23505), if that is what this error is. */
export function duplicateOf(error: unknown): string | null {
  const e = pgError(error);
  return e.code === '23505' ? (e.constraint ?? '') : null;
}

/**
 * Runs a write; a collision with the unique `constraint` becomes a 409 problem naming `field` (and
 * changes nothing, since the write's transaction rolled back). Anything else is thrown as it came.
 */
export async function conflictOn<T>(
  constraint: string,
  field: string,
  detail: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (duplicateOf(error) === constraint) {
      throw new DomainError('CONFLICT', detail, [{ field, message: 'is already in use' }]);
    }
    throw error;
  }
}
