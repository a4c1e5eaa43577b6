import { Injectable } from '@nestjs/common';

export const WINDOW_MS = 60_000;
export const MAX_FAILURES = 20;
const MAX_CLIENTS = 10_000;

interface Counted {
  count: number;
  since: number;
  /** Set once the client reached the limit: refused until then, pushed back by every further event. */
  blockedUntil?: number;
}

/**
 * Counts events per client address over a minute: at `max` the client is limited for a minute, and
 * every further event while limited pushes that back. At most MAX_CLIENTS addresses are kept.
 */
export class ClientLimit {
  private readonly failures = new Map<string, Counted>();

  constructor(private readonly max: number) {}

  /** Seconds the client must wait, or 0 when it is not limited. */
  retryAfter(client: string, now = Date.now()): number {
    const entry = this.current(client, now);
    if (!entry?.blockedUntil || entry.blockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000));
  }

  isBlocked(client: string, now = Date.now()): boolean {
    return this.retryAfter(client, now) > 0;
  }

  /** Records one event and answers how long the client is now limited for (0: not limited). */
  record(client: string, now = Date.now()): number {
    let entry = this.current(client, now);
    if (!entry) {
      if (this.failures.size >= MAX_CLIENTS) this.evict(now);
      entry = { count: 0, since: now };
      this.failures.set(client, entry);
    }
    entry.count++;
    if (entry.count >= this.max) entry.blockedUntil = now + WINDOW_MS;
    return this.retryAfter(client, now);
  }

  private current(client: string, now: number): Counted | undefined {
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

/**
 * Counts failed authentications per client address (unknown tokens, sign-in links, refused OpenID
 * Connect answers). Only failures are limited: the guard checks a presented token first, so a valid
 * token is served from a limited address too, and a success never clears the count (else one valid
 * token would reset the limit for unlimited guessing).
 */
@Injectable()
export class AuthRateLimiter extends ClientLimit {
  constructor() {
    super(MAX_FAILURES);
  }

  /** Records one failure and answers how long the client is now limited for (0: not limited). */
  recordFailure(client: string, now = Date.now()): number {
    return this.record(client, now);
  }
}
