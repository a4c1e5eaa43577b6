import { createUser, TestUser } from './support/factories';
import { TestApp } from './support/app';

/**
 * Failed authentications are limited per client address; only failures are: a valid token is
 * served from a limited address too. Behind a trusted proxy the address comes from X-Forwarded-For;
 * without trust that header is ignored.
 */
describe('authentication limits (e2e)', () => {
  const FAILURES = 20;

  async function fail(t: TestApp, times: number, headers: Record<string, string>, remoteAddress = '127.0.0.1') {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++)
      statuses.push((await me(t, `lw_wrong-guess-${i}-000000000`, headers, remoteAddress)).statusCode);
    return statuses;
  }

  function me(t: TestApp, token: string | null, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') {
    return t.app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'GET',
        url: '/v1/me',
        remoteAddress,
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
  }

  describe('behind a trusted proxy (LEEWAY_TRUST_PROXY=127.0.0.1)', () => {
    let t: TestApp;
    let agent: TestUser;

    beforeAll(async () => {
      t = await TestApp.start({}, { LEEWAY_TRUST_PROXY: '127.0.0.1' });
      agent = await createUser(t, ['agent']);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    it('limits the client named by X-Forwarded-For, with Retry-After, and no other client', async () => {
      const client = { 'x-forwarded-for': '198.51.100.1' };
      const statuses = await fail(t, FAILURES + 2, client);
      expect(statuses.slice(0, FAILURES)).toEqual(Array(FAILURES).fill(401));
      expect(statuses.slice(FAILURES)).toEqual([429, 429]);

      const limited = await me(t, 'lw_another-wrong-guess-000000', client);
      expect(limited.statusCode).toBe(429);
      expect(String(limited.headers['content-type'])).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.json().detail).toContain(`${retryAfter} seconds`);
      // A request without any token from the limited client is limited too.
      expect((await me(t, null, client)).statusCode).toBe(429);

      // Another client behind the same proxy: its failures are its own, its token works.
      const other = { 'x-forwarded-for': '198.51.100.2' };
      expect((await me(t, 'lw_wrong-but-first-0000000000', other)).statusCode).toBe(401);
      expect((await me(t, agent.token, other)).statusCode).toBe(200);
    });

    it('serves a valid token even from the limited client, without lifting the limit', async () => {
      const client = { 'x-forwarded-for': '198.51.100.1' };
      const ok = await me(t, agent.token, client);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().id).toBe(agent.id);
      // A success does not reset the count: the next guess is still refused.
      expect((await me(t, 'lw_guess-after-success-000000', client)).statusCode).toBe(429);
    });

    it('takes the address the trusted proxy saw: a forged entry prepended by the client changes nothing', async () => {
      const forged = { 'x-forwarded-for': '203.0.113.99, 198.51.100.1' };
      expect((await me(t, 'lw_forged-guess-0000000000000', forged)).statusCode).toBe(429);
      expect((await me(t, agent.token, forged)).statusCode).toBe(200);
    });

    it('ignores X-Forwarded-For from an address it does not trust', async () => {
      const statuses = await fail(t, 3, { 'x-forwarded-for': '198.51.100.1' }, '192.0.2.50');
      expect(statuses).toEqual([401, 401, 401]);
    });
  });

  describe('with a hop count (LEEWAY_TRUST_PROXY=1)', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await TestApp.start({}, { LEEWAY_TRUST_PROXY: '1' });
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    it('takes the last X-Forwarded-For entry as the client', async () => {
      const statuses = await fail(t, FAILURES + 1, { 'x-forwarded-for': '203.0.113.1, 198.51.100.7' });
      expect(statuses[FAILURES]).toBe(429);
      expect((await me(t, 'lw_wrong-guess-x-000000000', { 'x-forwarded-for': '198.51.100.7' })).statusCode).toBe(429);
      expect((await me(t, 'lw_wrong-guess-x-000000000', { 'x-forwarded-for': '198.51.100.8' })).statusCode).toBe(401);
    });
  });

  describe('by default (no proxy trusted)', () => {
    let t: TestApp;
    let agent: TestUser;

    beforeAll(async () => {
      t = await TestApp.start();
      agent = await createUser(t, ['agent']);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    it('ignores X-Forwarded-For: a client cannot dodge its limit by forging one per request', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < FAILURES + 2; i++) {
        const res = await me(
          t,
          `lw_wrong-guess-${i}-000000000`,
          { 'x-forwarded-for': `198.51.100.${i + 1}` },
          '192.0.2.9',
        );
        statuses.push(res.statusCode);
      }
      expect(statuses.slice(FAILURES)).toEqual([429, 429]);
      // Everyone behind that one address still gets in with a valid token.
      expect((await me(t, agent.token, { 'x-forwarded-for': '198.51.100.200' }, '192.0.2.9')).statusCode).toBe(200);
      // Another address is not limited.
      expect((await me(t, 'lw_wrong-guess-elsewhere-0000', {}, '192.0.2.10')).statusCode).toBe(401);
    });
  });
});
