import { Injectable } from '@nestjs/common';

export const WINDOW_MS = 60_000;
export const MAX_FAILURES = 20;
const MAX_CLIENTS = 10_000;

interface Failures {
  count: number;
  since: number;
  /** Set once the client reached MAX_FAILURES: refused until then, pushed back by every further failure. */
  blockedUntil?: number;
}

/**
 * Counts failed authentications per client address. Only failures are limited: the guard checks a
 * presented token first, so a valid token is served from a limited address too, and a success never
 * clears the count (else one valid token would reset the limit for unlimited guessing).
 */
@Injectable()
export class AuthRateLimiter {
  private readonly failures = new Map<string, Failures>();

  /** Seconds the client must wait before its next unknown token is checked, or 0 when it is not limited. */
  retryAfter(client: string, now = Date.now()): number {
    const entry = this.current(client, now);
    if (!entry?.blockedUntil || entry.blockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000));
  }

  isBlocked(client: string, now = Date.now()): boolean {
    return this.retryAfter(client, now) > 0;
  }

  /** Records one failure and answers how long the client is now limited for (0: not limited). */
  recordFailure(client: string, now = Date.now()): number {
    let entry = this.current(client, now);
    if (!entry) {
      if (this.failures.size >= MAX_CLIENTS) this.evict(now);
      entry = { count: 0, since: now };
      this.failures.set(client, entry);
    }
    entry.count++;
    if (entry.count >= MAX_FAILURES) entry.blockedUntil = now + WINDOW_MS;
    return this.retryAfter(client, now);
  }

  private current(client: string, now: number): Failures | undefined {
    const entry = this.failures.get(client);
    if (entry && now - entry.since > WINDOW_MS && !(entry.blockedUntil && entry.blockedUntil > now)) {
      this.failures.delete(client);
      return undefined;
    }
    return entry;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.failures) {
      if (now - entry.since > WINDOW_MS && !(entry.blockedUntil && entry.blockedUntil > now)) this.failures.delete(key);
    }
    // Still full: drop the oldest entries rather than grow without bound.
    while (this.failures.size >= MAX_CLIENTS) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }
}
