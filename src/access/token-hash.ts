import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe, with a prefix that makes leaked tokens easy to spot in scanners. */
export function newToken(): string {
  return `lw_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
