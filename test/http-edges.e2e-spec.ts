import { randomUUID } from 'node:crypto';
import { createRole, createUser, creditBody, TestUser } from './support/factories';
import { Reply, TestApp } from './support/app';
import { expectProblem } from './support/problems';

/** The edges of HTTP itself: methods, bodies Fastify refuses, the bytes of JSON and security headers. */
describe('HTTP edges (e2e)', () => {
  let t: TestApp;
  let agent: TestUser;
  let roleId: string;

  beforeAll(async () => {
    t = await TestApp.start();
    roleId = await createRole(t);
    agent = await createUser(t, ['agent'], { roleId });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const allowOf = (res: Reply) =>
    String(res.headers.allow ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');

  describe('405 with Allow for a wrong method on an existing path', () => {
    it.each([
      ['DELETE', '/v1/credits', ['GET', 'HEAD', 'POST']],
      ['PUT', '/v1/me', ['GET', 'HEAD']],
      ['POST', '/health/live', ['GET', 'HEAD']],
      ['PATCH', '/v1/teams/', ['GET', 'HEAD', 'POST']],
    ])('%s %s → 405 listing %j', async (method, url, allow) => {
      const res = await t.request(method, url, { body: method === 'DELETE' ? undefined : {} });
      expectProblem(res, 405, 'method-not-allowed');
      expect(allowOf(res)).toEqual(expect.arrayContaining(allow));
      expect(allowOf(res)).not.toContain(method);
      expect(res.body.detail).toContain(method);
    });

    it('answers for paths with parameters, with exactly the methods that path has', async () => {
      const res = await t.request('DELETE', `/v1/roles/${roleId}/limits`);
      expectProblem(res, 405, 'method-not-allowed');
      expect(allowOf(res)).toContain('PUT');
      expect(allowOf(res)).not.toContain('POST');
      expect(allowOf(res)).not.toContain('DELETE');
      // The methods listed really are served there.
      const put = await t.request('PUT', `/v1/roles/${roleId}/limits`, { body: { limits: [] } });
      expect(put.status).not.toBe(405);
      expect(put.status).not.toBe(404);
    });

    it('a token is not needed to learn the methods, and a wrong one changes nothing', async () => {
      const res = await t.request('DELETE', '/v1/credits', { token: null });
      expectProblem(res, 405);
      expect(allowOf(res)).toContain('POST');
    });

    it('unknown paths stay 404, without Allow', async () => {
      for (const url of ['/v1/nothing-here', `/v1/credits/${randomUUID()}/nonsense`, '/v2/credits']) {
        const res = await t.request('GET', url);
        expectProblem(res, 404, 'not-found');
        expect(res.headers.allow).toBeUndefined();
      }
    });
  });

  describe('bodies Fastify refuses get precise problems', () => {
    const post = (rawBody: string, headers: Record<string, string> = {}) =>
      t.request('POST', '/v1/teams', { rawBody, headers: { 'content-type': 'application/json', ...headers } });

    it('names a forbidden __proto__ key instead of calling the body invalid JSON', async () => {
      const res = await post('{"__proto__":1}');
      expectProblem(res, 400, 'malformed-request');
      expect(res.body.detail).toContain('forbidden key "__proto__"');
      expect(res.body.detail).not.toMatch(/not valid JSON/);
      expect(res.body.errors).toEqual([{ field: '__proto__', message: expect.any(String) }]);
    });

    it('names a nested constructor.prototype key with its path', async () => {
      const res = await post('{"name":"x","meta":{"constructor":{"prototype":{"admin":true}}}}');
      expectProblem(res, 400, 'malformed-request');
      expect(res.body.detail).toContain('"meta.constructor.prototype"');
    });

    it('says what is wrong with malformed JSON', async () => {
      const res = await post('{"name":');
      expectProblem(res, 400, 'malformed-request');
      expect(res.body.detail).toMatch(/^The request body is not valid JSON: .+/);
    });

    it('an empty body with a JSON content type → 400 saying it is empty', async () => {
      const res = await post('');
      expectProblem(res, 400, 'malformed-request');
      expect(res.body.detail).toBe('The request body is empty; send a JSON document.');
    });

    it.each([
      ['text/plain', 'name=x'],
      ['application/x-www-form-urlencoded', 'name=x'],
      ['application/xml', '<team/>'],
      ['application/vnd.leeway+json', '{"name":"x"}'],
    ])('a body sent as %s → 415 naming application/json', async (type, rawBody) => {
      const res = await post(rawBody, { 'content-type': type });
      expectProblem(res, 415, 'unsupported-media-type');
      expect(res.body.detail).toContain('application/json');
      expect(res.body.detail).toContain(type);
    });

    it('a body without a content type → 415', async () => {
      const fastify = t.app.getHttpAdapter().getInstance();
      const res = await fastify.inject({
        method: 'POST',
        url: '/v1/teams',
        headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' },
        payload: Buffer.from('{"name":"x"}'),
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().detail).toContain('application/json');
    });

    it('a body over the limit → 413 naming the limit', async () => {
      const res = await post(JSON.stringify({ name: 'x'.repeat(70 * 1024) }));
      expectProblem(res, 413, 'payload-too-large');
      expect(res.body.detail).toContain('65536-byte (64 KiB) limit');
    });

    it('a JSON content type with a charset is accepted', async () => {
      const res = await post(JSON.stringify({ name: `Team ${randomUUID()}` }), {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(res.status).toBe(201);
    });

    it('a malformed percent-encoding in the URL → 400 problem+json', async () => {
      // Straight through Fastify: the router refuses this before any operation of the document applies.
      const fastify = t.app.getHttpAdapter().getInstance();
      const res = await fastify.inject({ method: 'GET', url: '/v1/credits/%E0%A4%A' });
      expect(res.statusCode).toBe(400);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 400, detail: expect.stringContaining('malformed') });
      expect(res.body.endsWith('\n')).toBe(true);
    });
  });

  describe('every JSON body ends with a newline', () => {
    it.each([
      ['a 200 from a controller', () => t.as(agent.token).get('/v1/me'), 200],
      ['a list', () => t.request('GET', '/v1/teams'), 200],
      ['a 201 credit', () => t.as(agent.token).post('/v1/credits', creditBody(), idem()), 201],
      ['a 201 team', () => t.request('POST', '/v1/teams', { body: { name: `Team ${randomUUID()}` } }), 201],
      ['a 400 validation problem', () => t.request('POST', '/v1/teams', { body: { bogus: 1 } }), 400],
      ['a 401 problem', () => t.request('GET', '/v1/me', { token: null }), 401],
      ['a 404 from the router', () => t.request('GET', '/nothing'), 404],
      ['a 405', () => t.request('DELETE', '/v1/me'), 405],
      ['a 415', () => t.request('POST', '/v1/teams', { rawBody: 'x', headers: { 'content-type': 'text/plain' } }), 415],
      ['the OpenAPI document', () => t.request('GET', '/docs-json', { token: null }), 200],
      ['health', () => t.request('GET', '/health/live', { token: null }), 200],
    ])('%s', async (_, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(String(res.headers['content-type'])).toMatch(/json/);
      expect(res.text.endsWith('\n')).toBe(true);
      expect(res.text.endsWith('\n\n')).toBe(false);
      expect(Number(res.headers['content-length'] ?? Buffer.byteLength(res.text))).toBe(Buffer.byteLength(res.text));
    });

    it('a replayed credit ends with a newline too, and replays the same bytes', async () => {
      const key = randomUUID();
      const body = creditBody();
      const first = await t.as(agent.token).post('/v1/credits', body, { headers: { 'idempotency-key': key } });
      const again = await t.as(agent.token).post('/v1/credits', body, { headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.text).toBe(first.text);
      expect(again.text.endsWith('}\n')).toBe(true);
    });
  });

  describe('security headers', () => {
    it('answers with helmet’s headers, no X-Frame-Options, and frame-ancestors none by default', async () => {
      const res = await t.request('GET', '/v1/me', { token: agent.token });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBeUndefined();
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    });

    it('sends them on problems and router 404s too', async () => {
      for (const res of [await t.request('GET', '/v1/me', { token: null }), await t.request('GET', '/nothing')]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      }
    });

    it('keeps /docs working: the page and its assets load, and the CSP lets them run', async () => {
      const page = await t.request('GET', '/docs', { token: null });
      expect(page.status).toBe(200);
      expect(String(page.headers['content-type'])).toContain('text/html');
      const csp = String(page.headers['content-security-policy']);
      // Swagger UI's page loads its scripts from the same origin and has no inline script.
      const inlineScripts = [...page.text.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter(
        (m) => m[1].trim() !== '',
      );
      expect(inlineScripts).toEqual([]);
      expect(csp).toMatch(/script-src 'self'/);
      expect(csp).toMatch(/style-src [^;]*'unsafe-inline'/);
      const assets = [...page.text.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
      expect(assets.length).toBeGreaterThanOrEqual(2);
      for (const asset of assets) {
        const url = asset.startsWith('docs/') ? `/${asset}` : `/docs/${asset}`;
        const res = await t.request('GET', url, { token: null });
        expect({ url, status: res.status }).toEqual({ url, status: 200 });
      }
    });
  });

  describe('frame-ancestors from LEEWAY_FRAME_ANCESTORS', () => {
    let framed: TestApp;

    beforeAll(async () => {
      framed = await TestApp.start(
        {},
        { LEEWAY_FRAME_ANCESTORS: 'https://helpdesk.example.com, https://*.zendesk.com' },
      );
    }, 60_000);

    afterAll(async () => {
      await framed?.close();
    });

    it('lists exactly the configured origins, and still no X-Frame-Options', async () => {
      const res = await framed.request('GET', '/health/live', { token: null });
      expect(String(res.headers['content-security-policy'])).toContain(
        'frame-ancestors https://helpdesk.example.com https://*.zendesk.com',
      );
      expect(res.headers['x-frame-options']).toBeUndefined();
    });
  });
});

const idem = () => ({ headers: { 'idempotency-key': randomUUID() } });
