import { randomUUID } from 'node:crypto';
import { TestApp } from './support/app';
import { CookieClient, OidcProvider, signInThroughProvider, startOidcProvider } from './support/oidc';
import { freePort } from './support/service-process';
import { scimRequest } from './support/scim';

/**
 * The way most organisations connect Leeway: the identity provider provisions people by SCIM, then
 * they sign in through the same provider. Entra ID's recipe: SCIM externalId ← objectId with
 * LEEWAY_SCIM_USER_REF=externalId, and LEEWAY_OIDC_CLAIM=oid (the same object id, in the ID token).
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const OID = { ada: randomUUID(), bo: randomUUID(), cy: randomUUID() };
const ACCOUNTS = {
  // Entra ID's way: the object id in the ID token; an address that is never said to be verified.
  ada: { oid: OID.ada, email: 'ada@contoso.com', name: 'Ada', _only: 'id_token' },
  // A provider that puts the claim in its UserInfo answer alone: Leeway asks there.
  bo: { oid: OID.bo, _only: 'userinfo' },
  cy: { oid: OID.cy },
  // No oid at all.
  dee: { email: 'dee@contoso.com', email_verified: true },
};

let t: TestApp;
let provider: OidcProvider;
let base: string;
let scimToken: string;
let oktaPort: number;

function scim(method: string, path: string, body?: unknown) {
  return scimRequest(t, scimToken, method, path, body);
}

/** What Entra ID sends to provision a person, with objectId mapped to externalId. */
async function provision(userName: string, objectId: string): Promise<string> {
  const res = await scim('POST', '/Users', {
    schemas: [USER, ENTERPRISE],
    externalId: objectId,
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    name: { formatted: userName.split('@')[0], givenName: userName.split('@')[0] },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function lastRefusal() {
  const [row] = await t.query<{ actor_id: string | null; details: Record<string, unknown> }>(
    `SELECT actor_id, details FROM audit_events WHERE action = 'sign_in.refused' ORDER BY id DESC LIMIT 1`,
  );
  return row;
}

const sessionFrom = (location: string | null) => /#session=(lw_[A-Za-z0-9_-]+)$/.exec(location ?? '')?.[1];

beforeAll(async () => {
  const port = await freePort();
  oktaPort = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/auth/oidc/callback`, `http://127.0.0.1:${oktaPort}/auth/oidc/callback`],
    accounts: ACCOUNTS,
  });
  // Configured as the README's Entra ID recipe says, through the same variables an operator sets.
  t = await TestApp.start(
    {},
    {
      LEEWAY_OIDC_ISSUER: provider.issuer,
      LEEWAY_OIDC_CLIENT_ID: 'leeway',
      LEEWAY_OIDC_CLAIM: 'oid',
      LEEWAY_SCIM_USER_REF: 'externalId',
    },
  );
  await t.listen(port);
  scimToken = (await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Entra ID' } })).body.token;
});

afterAll(async () => {
  await t?.close();
  await provider?.stop();
});

describe('provisioned by SCIM, then signed in through the identity provider', () => {
  it('asks the provider for the openid and profile scopes', async () => {
    const start = await new CookieClient().get(`${base}/auth/oidc/start`);
    expect(start.status).toBe(302);
    expect(new URL(start.headers.get('location')!).searchParams.get('scope')).toBe('openid profile');
  });

  it('signs the person in by the oid claim of the ID token, matched to the externalId SCIM stored', async () => {
    const id = await provision('ada@contoso.com', OID.ada);
    const [row] = await t.query<{ external_ref: string }>(`SELECT external_ref FROM users WHERE id = $1`, [id]);
    expect(row.external_ref).toBe(OID.ada);
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'ada');
    expect(answer.status).toBe(303);
    const me = await t.as(sessionFrom(answer.headers.get('location'))!).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id, access: ['agent'] });
  });

  it('asks the UserInfo endpoint when the ID token lacks the claim', async () => {
    const id = await provision('bo@contoso.com', OID.bo);
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'bo');
    expect(answer.status).toBe(303);
    expect((await t.as(sessionFrom(answer.headers.get('location'))!).get('/v1/me')).body.id).toBe(id);
  });

  it('refuses the person once SCIM deprovisions them, and says so in the audit log', async () => {
    const id = await provision('cy@contoso.com', OID.cy);
    const signedIn = await signInThroughProvider(new CookieClient(), base, 'cy');
    const token = sessionFrom(signedIn.answer.headers.get('location'))!;
    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect((await t.as(token).get('/v1/me')).status).toBe(401);
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'cy');
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('Your Leeway access has ended');
    expect(await lastRefusal()).toEqual({
      actor_id: id,
      details: { via: 'oidc', reason: 'deactivated', oid: OID.cy },
    });
    // Deleted: the reference is freed, so the person is unknown from then on.
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await signInThroughProvider(new CookieClient(), base, 'cy')).answer.status).toBe(403);
    expect(await lastRefusal()).toEqual({ actor_id: null, details: { via: 'oidc', reason: 'unknown', oid: OID.cy } });
  });

  it('refuses someone whose provider sends no oid claim, naming it', async () => {
    const { answer } = await signInThroughProvider(new CookieClient(), base, 'dee');
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('&#34;oid&#34; claim');
    expect(await lastRefusal()).toEqual({
      actor_id: null,
      details: { via: 'oidc', reason: 'noClaim', claim: 'oid', sub: 'dee' },
    });
  });
});

describe('Okta’s recipe', () => {
  it('signs in by sub a person Okta provisioned with that same user id as externalId', async () => {
    const okta = await TestApp.start(
      {},
      {
        LEEWAY_OIDC_ISSUER: provider.issuer,
        LEEWAY_OIDC_CLIENT_ID: 'leeway',
        LEEWAY_SCIM_USER_REF: 'externalId',
      },
    );
    try {
      const oktaBase = await okta.listen(oktaPort);
      const token = (await okta.request('POST', '/v1/provisioning-tokens', { body: { label: 'Okta' } })).body.token;
      // Okta's user id is the provider's sub; here the login name is the sub.
      const created = await okta.inject({
        method: 'POST',
        url: '/scim/v2/Users',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({ schemas: [USER], userName: 'dee@contoso.com', externalId: 'dee', active: true }),
      });
      expect(created.statusCode).toBe(201);
      const { answer } = await signInThroughProvider(new CookieClient(), oktaBase, 'dee');
      expect(answer.status).toBe(303);
      const me = await okta.as(sessionFrom(answer.headers.get('location'))!).get('/v1/me');
      expect(me.body.id).toBe(JSON.parse(created.body).id);
    } finally {
      await okta.close();
    }
  });
});
