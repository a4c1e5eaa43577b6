import { AuthRateLimiter, MAX_FAILURES, WINDOW_MS } from './auth-rate-limiter';

describe(AuthRateLimiter.name, () => {
  const t0 = 1_000_000;

  it('limits a client after MAX_FAILURES failures, and only that client', () => {
    const sut = new AuthRateLimiter();
    for (let i = 0; i < MAX_FAILURES - 1; i++) expect(sut.recordFailure('a', t0 + i)).toBe(0);
    expect(sut.isBlocked('a', t0 + 100)).toBe(false);
    expect(sut.recordFailure('a', t0 + 100)).toBe(WINDOW_MS / 1000);
    expect(sut.isBlocked('a', t0 + 100)).toBe(true);
    expect(sut.isBlocked('b', t0 + 100)).toBe(false);
  });

  it('answers the seconds left, rounded up, and lets the client go when they have passed', () => {
    const sut = new AuthRateLimiter();
    for (let i = 0; i < MAX_FAILURES; i++) sut.recordFailure('a', t0);
    expect(sut.retryAfter('a', t0 + 1)).toBe(60);
    expect(sut.retryAfter('a', t0 + 59_500)).toBe(1);
    expect(sut.retryAfter('a', t0 + WINDOW_MS)).toBe(0);
    expect(sut.recordFailure('a', t0 + WINDOW_MS + 1)).toBe(0);
  });

  it('keeps limiting a client that keeps failing while limited', () => {
    const sut = new AuthRateLimiter();
    for (let i = 0; i < MAX_FAILURES; i++) sut.recordFailure('a', t0);
    sut.recordFailure('a', t0 + 50_000);
    expect(sut.isBlocked('a', t0 + WINDOW_MS + 1)).toBe(true);
    expect(sut.retryAfter('a', t0 + 50_000)).toBe(60);
    expect(sut.isBlocked('a', t0 + 50_000 + WINDOW_MS)).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const sut = new AuthRateLimiter();
    for (let i = 0; i < MAX_FAILURES - 1; i++) sut.recordFailure('a', t0);
    expect(sut.recordFailure('a', t0 + WINDOW_MS + 1)).toBe(0);
    expect(sut.isBlocked('a', t0 + WINDOW_MS + 2)).toBe(false);
  });
});
