import { createHmac, randomBytes } from 'node:crypto';

/** A new endpoint secret, as Standard Webhooks writes them: `whsec_` and base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks signature of one delivery: HMAC-SHA256 over `id.timestamp.body` with the
 * secret's bytes, sent as `webhook-signature: v1,<base64>`.
 */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}
