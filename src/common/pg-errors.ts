/** The unique constraint a write collided with (SQLSTATE 23505), if that is what this error is. */
export function duplicateOf(error: unknown): string | null {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  if (code !== '23505') return null;
  return e.driverError?.constraint ?? e.constraint ?? '';
}
