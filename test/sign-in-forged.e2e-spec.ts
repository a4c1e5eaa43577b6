import { TestApp } from './support/app';
import { CookieClient, Forgery, OidcProvider, signInThroughProvider, startOidcProvider } from './support/oidc';
import { freePort } from './support/service-process';

/**
 * ID tokens that must not sign anyone in, from a real provider told to forge them: claims changed
 * and signed again with the provider's own key, signed with another key, or not signed at all. The
 * checks are openid-client's; this proves Leeway wires them in (issuer, audience, nonce, expiry,
 * keys). Also a stolen code brought back in another attempt, and a confidential client.
 */

const ACCOUNTS = { alice: { name: 'Alice' } };

let t: TestApp;
let provider: OidcProvider;
let base: string;
let alice: { id: string };
let spare: number;

async function sessions(): Promise<number> {
  const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM tokens WHERE kind = 'session'`);
  return n;
}

async function lastRefusal(): Promise<Record<string, unknown> | undefined> {
  const [row] = await t.query<{ details: Record<string, unknown> }>(
    `SELECT details FROM audit_events WHERE action = 'sign_in.refused' ORDER BY id DESC LIMIT 1`,
  );
  return row?.details;
}

const sessionFrom = (location: string | null) => /#session=(lw_[A-Za-z0-9_-]+)$/.exec(location ?? '')?.[1];

beforeAll(async () => {
  const port = await freePort();
  spare = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({ redirectUris: [`${base}/auth/oidc/callback`], accounts: ACCOUNTS });
  t = await TestApp.start({ oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'sub' } });
  await t.listen(port);
  const made = await t.request('POST', '/v1/users', {
    body: { displayName: 'Alice', access: ['agent'], externalRef: 'alice' },
  });
  alice = made.body;
});

afterAll(async () => {
  await t?.close();
  await provider?.stop();
});

describe('a forged ID token', () => {
  it('signed again with the provider’s key and nothing changed is accepted (the control)', async () => {
    await provider.forgeNextIdToken('resign');
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'alice');
    expect(answer.status).toBe(303);
    expect((await t.as(sessionFrom(answer.headers.get('location'))!).get('/v1/me')).body.id).toBe(alice.id);
  });

  it.each<[Forgery, string]>([
    ['iss', 'another issuer'],
    ['aud', 'another audience'],
    ['nonce', 'another nonce'],
    ['exp', 'an expiry an hour ago'],
    ['foreignKey', 'a signature by a key the provider never published'],
    ['none', 'no signature at all (alg none)'],
  ])('with %s (%s) is refused: 400, no session, audited', async (how) => {
    const before = await sessions();
    await provider.forgeNextIdToken(how);
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'alice');
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('could not be verified');
    expect(await sessions()).toBe(before);
    expect(await lastRefusal()).toEqual({ via: 'oidc', reason: 'unverifiable', error: expect.stringMatching(/\S/) });
  });
});

describe('a stolen code', () => {
  it('brought back in the thief’s own attempt fails: it is bound to the victim’s PKCE verifier', async () => {
    const before = await sessions();
    const victim = new CookieClient();
    const victimStart = await victim.get(`${base}/auth/oidc/start`);
    const stolen = await providerAnswer(victim, victimStart.headers.get('location')!);
    const thief = new CookieClient();
    const thiefStart = await thief.get(`${base}/auth/oidc/start`);
    const own = new URL(await providerAnswer(thief, thiefStart.headers.get('location')!));
    own.searchParams.set('code', new URL(stolen).searchParams.get('code')!);
    const answer = await thief.get(own.href);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('could not be verified');
    expect(await sessions()).toBe(before);
    expect(await lastRefusal()).toMatchObject({ reason: 'unverifiable' });
  });
});

describe('a confidential client (LEEWAY_OIDC_CLIENT_SECRET)', () => {
  it('signs in with its secret, and a wrong secret signs nobody in', async () => {
    const secret = 'confidential-client-secret-0123456789';
    const spareBase = `http://127.0.0.1:${spare}`;
    const confidential = await startOidcProvider({
      redirectUris: [`${spareBase}/auth/oidc/callback`],
      accounts: ACCOUNTS,
      clientSecret: secret,
    });
    try {
      for (const [clientSecret, status] of [
        [secret, 303],
        [`${secret}-wrong`, 400],
      ] as const) {
        const app = await TestApp.start({
          oidc: { issuer: confidential.issuer, clientId: 'leeway', clientSecret, claim: 'sub' },
        });
        try {
          await app.listen(spare);
          const made = await app.request('POST', '/v1/users', {
            body: { displayName: 'Alice', access: ['agent'], externalRef: 'alice' },
          });
          const { answer } = await signInThroughProvider(new CookieClient(), spareBase, 'alice');
          expect(answer.status).toBe(status);
          if (status === 303)
            expect((await app.as(sessionFrom(answer.headers.get('location'))!).get('/v1/me')).body.id).toBe(
              made.body.id,
            );
          else expect(await app.query(`SELECT 1 FROM tokens WHERE kind = 'session'`)).toEqual([]);
        } finally {
          await app.close();
        }
      }
    } finally {
      await confidential.stop();
    }
  });
});

/** Walks the provider's part of a sign-in: where it sends the browser back to, not yet followed. */
async function providerAnswer(client: CookieClient, authorizeUrl: string): Promise<string> {
  let next = authorizeUrl;
  for (let hop = 0; hop < 10; hop++) {
    if (next.startsWith(`${base}/auth/oidc/callback`)) return next;
    const res = await client.get(next);
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get('location')!, next).href;
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(await res.text())![1];
    const posted = await client.postForm(new URL(action, next).href, {
      prompt: 'login',
      login: 'alice',
      password: 'x',
    });
    next = new URL(posted.headers.get('location')!, next).href;
  }
  throw new Error('too many redirects');
}
