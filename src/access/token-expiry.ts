import { DomainError } from '../common/domain-error';

const MAX_TOKEN_YEARS = 3;

/** A token's expiry (API and provisioning tokens alike): in the future and at most three years ahead. */
export function expiry(raw: string | undefined): Date | null {
  if (raw === undefined) return null;
  const at = new Date(raw);
  if (at.getTime() <= Date.now()) throw DomainError.validation('expiresAt', 'must lie in the future');
  if (at.getTime() > Date.now() + MAX_TOKEN_YEARS * 366 * 86_400_000)
    throw DomainError.validation('expiresAt', `must be at most ${MAX_TOKEN_YEARS} years ahead`);
  return at;
}
