import { EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';

export const LAST_ADMIN =
  'This is the last active admin: give another user admin access first, so that someone can still administer Leeway.';

/**
 * Refuses to take admin access from a user (deactivating them, or removing the level) when no other
 * active admin would remain: nobody could administer the installation any more. Run in the
 * transaction that makes the change, by every path that can make it (admin PATCH, SCIM). Such
 * changes take one lock in turn, so two admins removing each other at once cannot both succeed.
 */
export async function keepAnAdmin(m: EntityManager, userId: string): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.admins'))`);
  const others: unknown[] = await m.query(
    `SELECT 1 FROM users WHERE active AND 'admin' = ANY (access) AND id <> $1 LIMIT 1`,
    [userId],
  );
  if (others.length === 0) throw new DomainError('CONFLICT', LAST_ADMIN);
}

/** Whether a user holds admin access that counts: active, with the admin level. */
export const activeAdmin = (u: { active: boolean; access: readonly string[] }) =>
  u.active && u.access.includes('admin');
