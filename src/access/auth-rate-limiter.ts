import { Injectable } from '@nestjs/common';

const WINDOW_MS = 60_000;
const MAX_FAILURES = 20;
const MAX_CLIENTS = 10_000;

/** Counts failed authentications per client address and refuses a client that fails too often. */
@Injectable()
export class AuthRateLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  isBlocked(client: string, now = Date.now()): boolean {
    const entry = this.failures.get(client);
    if (!entry) return false;
    if (now - entry.since > WINDOW_MS) {
      this.failures.delete(client);
      return false;
    }
    return entry.count >= MAX_FAILURES;
  }

  recordFailure(client: string, now = Date.now()): void {
    const entry = this.failures.get(client);
    if (!entry || now - entry.since > WINDOW_MS) {
      if (this.failures.size >= MAX_CLIENTS) this.evict(now);
      this.failures.set(client, { count: 1, since: now });
    } else {
      entry.count++;
    }
  }

  private evict(now: number): void {
    for (const [key, entry] of this.failures) {
      if (now - entry.since > WINDOW_MS) this.failures.delete(key);
    }
    // Still full: drop the oldest entries rather than grow without bound.
    while (this.failures.size >= MAX_CLIENTS) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }
}
