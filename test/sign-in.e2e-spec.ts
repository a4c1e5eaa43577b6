import { hashToken } from '../src/access/token-hash';
import { TokenUsage } from '../src/access/token-usage';
import { loadConfig } from '../src/config/config';
import { OIDC_PER_MINUTE } from '../src/sign-in/oidc-limiter';
import { createUser, signInWithLink } from './support/factories';
import { TestApp } from './support/app';
import { expectProblem } from './support/problems';
import { CookieClient, OidcProvider, signInThroughProvider, startOidcProvider } from './support/oidc';
import { freePort } from './support/service-process';

/**
 * Signing people in through a real OpenID provider (oidc-provider, in its own process) and with
 * sign-in links; sessions, their expiry and revocation; API token expiry and last use.
 */

const ACCOUNTS = {
  // As OpenID Connect's letter has it: scope claims in the UserInfo answer, not the ID token.
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice', _only: 'userinfo' },
  bob: { email: 'bob@example.com', email_verified: true },
  carol: { email: 'carol@example.com', email_verified: false },
  dave: { email: 'dave@example.com', email_verified: true },
  erin: {},
  // Entra ID's way: an address, never said to be verified.
  frank: { email: 'frank@example.com' },
  twin: { email: 'Twin@Example.com', email_verified: true },
};

let t: TestApp;
let provider: OidcProvider;
let base: string;
let alice: { id: string };
let dave: { id: string };
let subPort: number;

async function userWithRef(externalRef: string, access: string[] = ['agent']): Promise<{ id: string }> {
  const res = await t.request('POST', '/v1/users', { body: { displayName: externalRef, access, externalRef } });
  expect(res.status).toBe(201);
  return res.body;
}

async function sessionsOf(userId: string): Promise<number> {
  const [{ n }] = await t.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM tokens WHERE user_id = $1 AND kind = 'session'`,
    [userId],
  );
  return n;
}

const sessionFrom = (location: string | null) => /#session=(lw_[A-Za-z0-9_-]+)$/.exec(location ?? '')?.[1];

beforeAll(async () => {
  const port = await freePort();
  subPort = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/auth/oidc/callback`, `http://127.0.0.1:${subPort}/auth/oidc/callback`],
    accounts: ACCOUNTS,
  });
  t = await TestApp.start({ oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'email' } });
  await t.listen(port);
  // Email addresses match whatever their case.
  alice = await userWithRef('Alice@Example.com');
  await userWithRef('carol@example.com');
  await userWithRef('frank@example.com');
  // Two references differing only in case: signing in as either is refused, not guessed.
  await userWithRef('twin@example.com');
  await userWithRef('TWIN@example.com');
  dave = await userWithRef('dave@example.com');
  expect((await t.request('PATCH', `/v1/users/${dave.id}`, { body: { active: false } })).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
  await provider?.stop();
});

describe('OpenID Connect sign-in (authorization code with PKCE)', () => {
  it('says how people can sign in', async () => {
    const res = await t.request('GET', '/v1/sign-in', { token: null });
    expect(res.body).toEqual({ oidc: true, oidcStartPath: '/auth/oidc/start' });
  });

  it('sends the browser to the provider with PKCE, state and nonce, bound to it by a cookie', async () => {
    const client = new CookieClient();
    const res = await client.get(`${base}/auth/oidc/start?returnTo=/reports`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(provider.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    for (const p of ['code_challenge', 'state', 'nonce']) expect(to.searchParams.get(p)).toMatch(/^[\w-]{20,}$/);
    expect(to.searchParams.get('redirect_uri')).toBe(`${base}/auth/oidc/callback`);
    const cookie = res.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^leeway_oidc=[\w-]{40,}; Path=\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax$/);
    // Only hashes are kept.
    const [row] = await t.query<{ state_hash: Buffer; code_verifier: string }>(
      `SELECT state_hash, code_verifier FROM oidc_attempts ORDER BY created_at DESC LIMIT 1`,
    );
    expect(row.state_hash.length).toBe(32);
  });

  it('signs a known person in: a session token in the fragment of the page they asked for', async () => {
    const before = await sessionsOf(alice.id);
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'alice', '/?caseRef=C-7&signin=m');
    expect(answer.status).toBe(303);
    const location = answer.headers.get('location')!;
    expect(location.startsWith(`${base}/?caseRef=C-7&signin=m#session=lw_`)).toBe(true);
    const token = sessionFrom(location)!;
    const me = await t.as(token).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(alice.id);
    const listed = await t.as(token).get('/v1/me/sessions');
    expect(listed.body.data[0]).toMatchObject({ kind: 'session', signedInWith: 'oidc', current: true, active: true });
    const hours = (Date.parse(listed.body.data[0].expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    expect(await sessionsOf(alice.id)).toBe(before + 1);
    const [audit] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'session.started' AND actor_id = $1 ORDER BY id DESC LIMIT 1`,
      [alice.id],
    );
    expect(audit.details).toMatchObject({ via: 'oidc' });
  });

  it.each([
    ['bob', 403, 'Leeway does not know you yet', 'bob@example.com', { reason: 'unknown', email: 'bob@example.com' }],
    [
      'dave',
      403,
      'Your Leeway access has ended',
      'dave@example.com',
      { reason: 'deactivated', email: 'dave@example.com' },
    ],
    [
      'carol',
      403,
      'Your email address is not verified',
      'does not say this address is verified',
      { reason: 'unverifiedEmail', email: 'carol@example.com' },
    ],
    [
      'frank',
      403,
      'Your email address is not verified',
      'does not say this address is verified',
      { reason: 'unverifiedEmail', email: 'frank@example.com' },
    ],
    [
      'twin',
      403,
      'Leeway cannot tell which user you are',
      'in different cases',
      { reason: 'ambiguous', email: 'Twin@Example.com' },
    ],
    [
      'erin',
      403,
      'Your identity provider did not say who you are',
      '"email" claim',
      { reason: 'noClaim', claim: 'email', sub: 'erin' },
    ],
  ])(
    'refuses %s with a clear page (%i), creates nobody and no session, and audits it',
    async (login, status, title, says, audited) => {
      const [{ users: usersBefore, sessions: sessionsBefore }] = await t.query<{ users: number; sessions: number }>(
        `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM tokens WHERE kind = 'session') AS sessions`,
      );
      const { answer } = await signInThroughProvider(new CookieClient(), base, login);
      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      const page = await answer.text();
      expect(page).toContain(title);
      expect(page).toContain(says.replace(/"/g, '&#34;'));
      const [after] = await t.query<{ users: number; sessions: number }>(
        `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM tokens WHERE kind = 'session') AS sessions`,
      );
      expect(after).toEqual({ users: usersBefore, sessions: sessionsBefore });
      const [audit] = await t.query<{ actor_id: string | null; details: Record<string, unknown> }>(
        `SELECT actor_id, details FROM audit_events WHERE action = 'sign_in.refused' ORDER BY id DESC LIMIT 1`,
      );
      expect(audit).toEqual({ actor_id: login === 'dave' ? dave.id : null, details: { via: 'oidc', ...audited } });
    },
  );

  it('matches by sub by default: the provider’s stable id, whatever the address says', async () => {
    const bySub = await TestApp.start({
      oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'sub' },
    });
    try {
      const subBase = await bySub.listen(subPort);
      expect(loadConfig({ LEEWAY_OIDC_ISSUER: provider.issuer, LEEWAY_OIDC_CLIENT_ID: 'leeway' }).oidc!.claim).toBe(
        'sub',
      );
      const made = await bySub.request('POST', '/v1/users', {
        body: { displayName: 'Frank', access: ['agent'], externalRef: 'frank' },
      });
      // Frank's address is unverified, which does not matter here: his sub is his.
      const { answer } = await signInThroughProvider(new CookieClient(), subBase, 'frank');
      expect(answer.status).toBe(303);
      const token = sessionFrom(answer.headers.get('location'));
      expect((await bySub.as(token!).get('/v1/me')).body.id).toBe(made.body.id);
    } finally {
      await bySub.close();
    }
  });

  it('refuses a replayed answer: each attempt works once', async () => {
    const client = new CookieClient();
    const { callbackUrl, answer } = await signInThroughProvider(client, base, 'alice');
    expect(answer.status).toBe(303);
    const before = await sessionsOf(alice.id);
    // The browser's cookie is cleared on the way back; a replay with it restored fails all the same.
    const replay = new CookieClient();
    const again = await replay.get(callbackUrl);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This sign-in cannot be completed');
    expect(await sessionsOf(alice.id)).toBe(before);
  });

  it('refuses an answer brought back to another browser', async () => {
    const client = new CookieClient();
    const start = await client.get(`${base}/auth/oidc/start`);
    expect(start.status).toBe(302);
    const { callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!);
    // A browser without the cookie set at the start (an attacker's link, say).
    const answer = await new CookieClient().get(callbackUrl);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('started in another browser');
    // …and the attempt is used up: the right browser cannot finish it afterwards either.
    expect((await client.get(callbackUrl)).status).toBe(400);
  });

  it('refuses a tampered state, a tampered code, and an attempt older than ten minutes', async () => {
    const before = await sessionsOf(alice.id);
    // state
    let client = new CookieClient();
    let start = await client.get(`${base}/auth/oidc/start`);
    let { callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!);
    let tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    let answer = await client.get(tampered.href);
    expect(answer.status).toBe(400);
    // code (the attempt is used up by the refusal: the right code afterwards is refused too)
    client = new CookieClient();
    start = await client.get(`${base}/auth/oidc/start`);
    ({ callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!));
    tampered = new URL(callbackUrl);
    tampered.searchParams.set('code', `${tampered.searchParams.get('code')}x`);
    answer = await client.get(tampered.href);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('could not be verified');
    client.setCookie(new URL(base).host, 'leeway_oidc', 'anything');
    expect((await client.get(callbackUrl)).status).toBe(400);
    // too old
    client = new CookieClient();
    start = await client.get(`${base}/auth/oidc/start`);
    ({ callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!));
    await t.query(`UPDATE oidc_attempts SET created_at = created_at - interval '11 minutes'`);
    answer = await client.get(callbackUrl);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('took too long');
    expect(await sessionsOf(alice.id)).toBe(before);
  });

  it('audits every answer it refuses: another browser, used already, unverifiable, too slow', async () => {
    const since = await lastAuditId();
    let client = new CookieClient();
    let start = await client.get(`${base}/auth/oidc/start`);
    let { callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!);
    expect((await new CookieClient().get(callbackUrl)).status).toBe(400);
    expect((await client.get(callbackUrl)).status).toBe(400);
    client = new CookieClient();
    start = await client.get(`${base}/auth/oidc/start`);
    ({ callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!));
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('code', `${tampered.searchParams.get('code')}x`);
    expect((await client.get(tampered.href)).status).toBe(400);
    client = new CookieClient();
    start = await client.get(`${base}/auth/oidc/start`);
    ({ callbackUrl } = await signInThroughProviderWithoutCallback(client, 'alice', start.headers.get('location')!));
    await t.query(`UPDATE oidc_attempts SET created_at = created_at - interval '11 minutes'`);
    expect((await client.get(callbackUrl)).status).toBe(400);
    const refused = await t.query<{ actor_id: string | null; subject_type: string; details: Record<string, unknown> }>(
      `SELECT actor_id, subject_type, details FROM audit_events WHERE action = 'sign_in.refused' AND id > $1 ORDER BY id`,
      [since],
    );
    expect(refused).toEqual([
      { actor_id: null, subject_type: 'user', details: { via: 'oidc', reason: 'otherBrowser' } },
      { actor_id: null, subject_type: 'user', details: { via: 'oidc', reason: 'used' } },
      {
        actor_id: null,
        subject_type: 'user',
        details: { via: 'oidc', reason: 'unverifiable', error: expect.stringMatching(/\S/) },
      },
      { actor_id: null, subject_type: 'user', details: { via: 'oidc', reason: 'tooSlow' } },
    ]);
  });

  it('shows the provider’s own refusal, escaped', async () => {
    const client = new CookieClient();
    const start = await client.get(`${base}/auth/oidc/start`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const answer = await client.get(
      `${base}/auth/oidc/callback?state=${state}&error=access_denied&error_description=${encodeURIComponent('<b>no</b>')}`,
    );
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('access_denied');
    expect(page).toContain('&#60;b&#62;no&#60;/b&#62;');
    expect(page).not.toContain('<b>no</b>');
  });

  it('only ever returns to the app on this service', async () => {
    for (const evil of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '/docs',
      '/v1/me',
    ]) {
      const { answer } = await signInThroughProvider(new CookieClient(), base, 'alice', evil);
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')!.startsWith(`${base}/#session=`)).toBe(true);
    }
  });
});

async function lastAuditId(): Promise<string> {
  const [{ id }] = await t.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM audit_events`);
  return id;
}

/** The provider part of a sign-in only: returns where the provider sends the browser back to. */
async function signInThroughProviderWithoutCallback(client: CookieClient, login: string, authorizeUrl: string) {
  let next = authorizeUrl;
  for (let hop = 0; hop < 10; hop++) {
    if (next.startsWith(`${base}/auth/oidc/callback`)) return { callbackUrl: next };
    const res = await client.get(next);
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get('location')!, next).href;
      continue;
    }
    const page = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1];
    const posted = await client.postForm(new URL(action, next).href, { prompt: 'login', login, password: 'any' });
    next = new URL(posted.headers.get('location')!, next).href;
  }
  throw new Error('too many redirects');
}

describe('sign-in links', () => {
  it('are issued by an admin, shown once, hashed, audited, and work once within 24 hours', async () => {
    const user = await createUser(t, ['finance']);
    const link = await t.request('POST', `/v1/users/${user.id}/sign-in-links`);
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(new RegExp(`^${base}/sign-in#link=lw_[\\w-]{43}$`));
    const hours = (Date.parse(link.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    const secret = link.body.url.split('#link=')[1];
    const stored = await t.query<{ token_hash: Buffer }>(`SELECT token_hash FROM sign_in_links WHERE id = $1`, [
      link.body.id,
    ]);
    expect(stored[0].token_hash.toString('hex')).not.toContain(Buffer.from(secret).toString('hex'));
    const first = await t.request('POST', '/v1/sessions', { token: null, body: { link: secret } });
    expect(first.status).toBe(201);
    expect(first.body.userId).toBe(user.id);
    expect((await t.as(first.body.token).get('/v1/me')).body.id).toBe(user.id);
    const second = await t.request('POST', '/v1/sessions', { token: null, body: { link: secret } });
    expect(second.status).toBe(401);
    expect(second.body.detail).toMatch(/used already/);
    const audit = await t.query<{ action: string }>(
      `SELECT action FROM audit_events WHERE subject_id IN ($1, $2) ORDER BY id`,
      [user.id, first.body.sessionId],
    );
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['sign_in_link.issued', 'session.started']));
    const [started] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'session.started' AND subject_id = $1`,
      [first.body.sessionId],
    );
    expect(started.details).toMatchObject({ userId: user.id, via: 'link', linkId: link.body.id });
    // The second use is refused and kept, with the link and its user: a link used twice may have leaked.
    const [refused] = await t.query<{ actor_id: string; subject_id: string; details: Record<string, unknown> }>(
      `SELECT actor_id, subject_id, details FROM audit_events WHERE action = 'sign_in.refused' ORDER BY id DESC LIMIT 1`,
    );
    expect(refused).toEqual({
      actor_id: user.id,
      subject_id: user.id,
      details: { via: 'link', reason: 'used', linkId: link.body.id },
    });
  });

  it('refuse an expired link, an unknown one, a malformed one, and one whose user was deactivated', async () => {
    const since = await lastAuditId();
    const user = await createUser(t, ['agent']);
    const expired = await t.request('POST', `/v1/users/${user.id}/sign-in-links`);
    await t.query(`UPDATE sign_in_links SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.body.id]);
    const old = await t.request('POST', '/v1/sessions', {
      token: null,
      body: { link: expired.body.url.split('#link=')[1] },
    });
    expect(old.status).toBe(401);
    expect(old.body.detail).toMatch(/expired/);
    const unknown = await t.request('POST', '/v1/sessions', { token: null, body: { link: `lw_${'A'.repeat(43)}` } });
    expect(unknown.status).toBe(401);
    const malformed = await t.request('POST', '/v1/sessions', { token: null, body: { link: 'hello' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].field).toBe('link');
    const pending = await t.request('POST', `/v1/users/${user.id}/sign-in-links`);
    expect((await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: false } })).status).toBe(200);
    const gone = await t.request('POST', '/v1/sessions', {
      token: null,
      body: { link: pending.body.url.split('#link=')[1] },
    });
    expect(gone.status).toBe(401);
    expect((await t.request('POST', `/v1/users/${user.id}/sign-in-links`)).status).toBe(409);
    // Each refusal is in the audit log (not the malformed one, which never reached a link).
    const refused = await t.query<{ actor_id: string | null; details: Record<string, unknown> }>(
      `SELECT actor_id, details FROM audit_events WHERE action = 'sign_in.refused' AND id > $1 ORDER BY id`,
      [since],
    );
    expect(refused).toEqual([
      { actor_id: user.id, details: { via: 'link', reason: 'expired', linkId: expired.body.id } },
      { actor_id: null, details: { via: 'link', reason: 'unknown', linkId: null } },
      // Deactivating the user ended the link: it is expired now.
      { actor_id: user.id, details: { via: 'link', reason: 'expired', linkId: pending.body.id } },
    ]);
  });

  it('audit refusals until the client is past the failed sign-in limit, then answer 429 and write nothing', async () => {
    const since = await lastAuditId();
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await t.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ link: `lw_${String(i).padStart(43, 'Q')}` }),
        remoteAddress: '10.9.9.9',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([...Array(20).fill(401), ...Array(5).fill(429)]);
    const [{ n }] = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'sign_in.refused' AND id > $1`,
      [since],
    );
    expect(n).toBe(20);
  });

  it('one link raced by two requests makes exactly one session', async () => {
    const user = await createUser(t, ['agent']);
    const link = await t.request('POST', `/v1/users/${user.id}/sign-in-links`);
    const secret = link.body.url.split('#link=')[1];
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.request('POST', '/v1/sessions', { token: null, body: { link: secret } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401, 401, 401, 401, 401]);
    expect(await sessionsOf(user.id)).toBe(1);
  });
});

describe('sessions', () => {
  it('are listed for their owner, who can end them (signing out); others cannot see or end them', async () => {
    const user = await createUser(t, ['leader']);
    const a = await signInWithLink(t, user.id);
    const b = await signInWithLink(t, user.id);
    const listed = await t.as(a.token).get('/v1/me/sessions');
    expect(listed.body.data.map((s: { id: string }) => s.id).sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect(listed.body.data.find((s: { id: string }) => s.id === a.sessionId).current).toBe(true);
    // Another person's session is not there for them.
    const other = await createUser(t, ['leader']);
    const theirs = await signInWithLink(t, other.id);
    expect((await t.as(a.token).delete(`/v1/me/sessions/${theirs.sessionId}`)).status).toBe(404);
    expect((await t.as(theirs.token).get('/v1/me')).status).toBe(200);
    // An API token is not a session.
    expect((await t.as(a.token).delete(`/v1/me/sessions/${user.tokenId}`)).status).toBe(404);
    expect((await t.as(a.token).delete(`/v1/me/sessions/${b.sessionId}`)).status).toBe(204);
    expect((await t.as(b.token).get('/v1/me')).status).toBe(401);
    expect((await t.as(a.token).delete(`/v1/me/sessions/${a.sessionId}`)).status).toBe(204);
    expect((await t.as(a.token).get('/v1/me')).status).toBe(401);
    const ended = await t.query<{ action: string }>(
      `SELECT action FROM audit_events WHERE subject_id = $1 AND action = 'session.revoked'`,
      [a.sessionId],
    );
    expect(ended).toHaveLength(1);
  });

  it('end when they expire, when an admin revokes them, and when their user is deactivated', async () => {
    const user = await createUser(t, ['finance']);
    const expiring = await signInWithLink(t, user.id);
    await t.query(`UPDATE tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.sessionId]);
    expect((await t.as(expiring.token).get('/v1/me')).status).toBe(401);
    const revoked = await signInWithLink(t, user.id);
    expect((await t.request('DELETE', `/v1/tokens/${revoked.sessionId}`)).status).toBe(204);
    expect((await t.as(revoked.token).get('/v1/me')).status).toBe(401);
    const live = await signInWithLink(t, user.id);
    expect((await t.as(live.token).get('/v1/me')).status).toBe(200);
    expect((await t.request('PATCH', `/v1/users/${user.id}`, { body: { active: false } })).status).toBe(200);
    expect((await t.as(live.token).get('/v1/me')).status).toBe(401);
    const listed = await t.request('GET', `/v1/users/${user.id}/tokens`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.every((s: { active: boolean }) => !s.active)).toBe(true);
    expect(listed.body.data.filter((s: { kind: string }) => s.kind === 'session')).toHaveLength(3);
  });
});

describe('API tokens', () => {
  it('take an optional expiry in the future (at most three years) and stop working at it', async () => {
    const user = await createUser(t, ['agent']);
    const past = await t.request('POST', `/v1/users/${user.id}/tokens`, {
      body: { expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].field).toBe('expiresAt');
    const far = await t.request('POST', `/v1/users/${user.id}/tokens`, {
      body: { expiresAt: new Date(Date.now() + 4 * 366 * 86_400_000).toISOString() },
    });
    expect(far.status).toBe(400);
    const dateOnly = await t.request('POST', `/v1/users/${user.id}/tokens`, { body: { expiresAt: '2027-01-01' } });
    expect(dateOnly.status).toBe(400);
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const ok = await t.request('POST', `/v1/users/${user.id}/tokens`, {
      body: { label: 'nightly import', expiresAt: at },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.expiresAt).toBe(at);
    expect((await t.as(ok.body.token).get('/v1/me')).status).toBe(200);
    await t.query(`UPDATE tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [ok.body.id]);
    expect((await t.as(ok.body.token).get('/v1/me')).status).toBe(401);
  });

  it('record their last use without a write per request, and admins list them per user', async () => {
    const user = await createUser(t, ['agent']);
    const usage = t.app.get(TokenUsage);
    await usage.flush();
    for (let i = 0; i < 20; i++) expect((await t.as(user.token).get('/v1/me')).status).toBe(200);
    // Twenty requests, no write yet…
    const [stored] = await t.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM tokens WHERE id = $1`, [
      user.tokenId,
    ]);
    expect(stored.last_used_at).toBeNull();
    // …but the list already says so, and the periodic write stores it.
    const listed = await t.request('GET', `/v1/users/${user.id}/tokens`);
    const mine = listed.body.data.find((x: { id: string }) => x.id === user.tokenId);
    expect(mine).toMatchObject({ kind: 'api', active: true, revokedAt: null, expiresAt: null });
    expect(Date.now() - Date.parse(mine.lastUsedAt)).toBeLessThan(60_000);
    await usage.flush();
    const [written] = await t.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM tokens WHERE id = $1`, [
      user.tokenId,
    ]);
    expect(written.last_used_at).not.toBeNull();
    expect((await t.request('GET', `/v1/users/00000000-0000-4000-8000-000000000000/tokens`)).status).toBe(404);
  });
});

describe('sign-in links where people sign in through an identity provider (LEEWAY_SIGN_IN_LINKS)', () => {
  const withProvider = () => ({ LEEWAY_OIDC_ISSUER: provider.issuer, LEEWAY_OIDC_CLIENT_ID: 'leeway' });

  it('are off by default: an admin gets 409 saying people sign in through the provider', async () => {
    const off = await TestApp.start({}, withProvider());
    try {
      expect(off.config.signInLinks).toBe('first-admin-only');
      const agent = await createUser(off, ['agent']);
      const before = await off.tableDigests();
      const res = await off.request('POST', `/v1/users/${agent.id}/sign-in-links`);
      expectProblem(res, 409, 'conflict');
      expect(res.body.detail).toMatch(/people sign in through the identity provider/);
      expect(res.body.detail).toMatch(/LEEWAY_SIGN_IN_LINKS=on/);
      expect(await off.tableDigests()).toEqual(before);
      // A link issued while they were on stops working with them.
      const secret = `lw_${'k'.repeat(43)}`;
      await off.query(
        `INSERT INTO sign_in_links (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
        [agent.id, hashToken(secret)],
      );
      const redeemed = await off.request('POST', '/v1/sessions', { token: null, body: { link: secret } });
      expectProblem(redeemed, 401);
      expect(redeemed.body.detail).toMatch(/Sign-in links are off here/);
      const [refused] = await off.query<{ details: Record<string, unknown> }>(
        `SELECT details FROM audit_events WHERE action = 'sign_in.refused' ORDER BY id DESC LIMIT 1`,
      );
      expect(refused.details).toMatchObject({ via: 'link', reason: 'off' });
      expect(await off.query(`SELECT 1 FROM tokens WHERE user_id = $1 AND kind = 'session'`, [agent.id])).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it('are issued and work with LEEWAY_SIGN_IN_LINKS=on, identity provider or not', async () => {
    const on = await TestApp.start({}, { ...withProvider(), LEEWAY_SIGN_IN_LINKS: 'on' });
    try {
      expect(on.config.signInLinks).toBe('on');
      const agent = await createUser(on, ['agent']);
      const session = await signInWithLink(on, agent.id);
      const me = await on.as(session.token).get('/v1/me');
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(agent.id);
    } finally {
      await on.close();
    }
  });
});

describe('a flood from one client', () => {
  let flood: TestApp;

  beforeAll(async () => {
    flood = await TestApp.start({ oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'email' } });
  });

  afterAll(async () => {
    await flood?.close();
  });

  const attempts = async () => (await flood.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_attempts`))[0].n;
  const refusals = async () =>
    (
      await flood.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'sign_in.refused'`)
    )[0].n;

  it(`starts ${OIDC_PER_MINUTE} sign-ins a minute, then answers 429 and stores nothing more`, async () => {
    const start = (remoteAddress: string) => flood.inject({ method: 'GET', url: '/auth/oidc/start', remoteAddress });
    for (let i = 0; i < OIDC_PER_MINUTE; i++) expect((await start('203.0.113.7')).statusCode).toBe(302);
    expect(await attempts()).toBe(OIDC_PER_MINUTE);
    for (let i = 0; i < 5; i++) {
      const refused = await start('203.0.113.7');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
      expect(refused.headers['content-type']).toMatch(/^text\/html/);
      expect(refused.body).toContain('Too many sign-ins were started from here');
    }
    expect(await attempts()).toBe(OIDC_PER_MINUTE);
    // Another client is not held back by this one.
    expect((await start('203.0.113.8')).statusCode).toBe(302);
    expect(await attempts()).toBe(OIDC_PER_MINUTE + 1);
  });

  it('counts refused answers too: past the limit none reaches the audit log, and tokens are not held back', async () => {
    const before = await refusals();
    for (let i = 0; i < OIDC_PER_MINUTE + 10; i++) {
      const res = await flood.inject({
        method: 'GET',
        url: `/auth/oidc/callback?state=made-up-${i}&code=x`,
        remoteAddress: '198.51.100.9',
      });
      expect(res.statusCode).toBe(400);
    }
    expect((await refusals()) - before).toBe(OIDC_PER_MINUTE);
    // Its starts wait too: the same budget.
    const start = await flood.inject({ method: 'GET', url: '/auth/oidc/start', remoteAddress: '198.51.100.9' });
    expect(start.statusCode).toBe(429);
    // A refused answer guesses no secret: the client's tokens are judged by their own limit.
    const guess = await flood.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer lw_${'x'.repeat(43)}` },
      remoteAddress: '198.51.100.9',
    });
    expect(guess.statusCode).toBe(401);
    // Another client's refusals are still recorded.
    await flood.inject({
      method: 'GET',
      url: '/auth/oidc/callback?state=other&code=x',
      remoteAddress: '198.51.100.10',
    });
    expect((await refusals()) - before).toBe(OIDC_PER_MINUTE + 1);
  });
});

describe('an identity provider that cannot be reached', () => {
  it('gives a clear page, and a later attempt discovers it again', async () => {
    const port = await freePort();
    const down = await TestApp.start({
      oidc: { issuer: `http://127.0.0.1:${port}`, clientId: 'leeway', claim: 'email' },
    });
    try {
      const res = await down.inject({ method: 'GET', url: '/auth/oidc/start' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('cannot be reached');
      expect(await down.query(`SELECT * FROM oidc_attempts`)).toEqual([]);
      // The provider comes up on that port: the next attempt discovers it, with no restart.
      const up = await startOidcProvider({ redirectUris: [], accounts: {}, port });
      try {
        const again = await down.inject({ method: 'GET', url: '/auth/oidc/start' });
        expect(again.statusCode).toBe(302);
        expect(again.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/auth\\?`));
        expect(await down.query(`SELECT * FROM oidc_attempts`)).toHaveLength(1);
      } finally {
        await up.stop();
      }
    } finally {
      await down.close();
    }
  });
});
