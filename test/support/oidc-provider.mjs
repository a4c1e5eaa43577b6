// A real OpenID provider (the `oidc-provider` package) for the tests, in its own process: plain
// Node, since the package is ESM. Prints its issuer URL on the first line of stdout.
//
//   OIDC_REDIRECT_URIS='["http://127.0.0.1:4000/auth/oidc/callback"]'
//   OIDC_ACCOUNTS='{"alice":{"email":"alice@example.com","email_verified":true}}'
//   OIDC_CLIENT_SECRET=… (optional: a confidential client using client_secret_post, as Leeway
//     does; else a public one using PKCE alone)
//
// Anyone may sign in with any login name (devInteractions); the account's claims come from
// OIDC_ACCOUNTS, `sub` being the login name. `oid` (Entra ID's object id) is an openid-scope claim
// here, for accounts that have one. An account's `_only` ("id_token" or "userinfo") puts its claims
// (all but `sub`) in that answer alone; without it they are in both. Consent is granted without
// asking, as a company's provider does for its own applications.
//
// Test-only: `GET /__test/tamper?mode=…` makes the next token response carry a forged ID token
// (see forge below: another iss, aud, nonce or exp signed again with the provider's own key, or a
// token signed with a foreign key, or not signed at all), to check that Leeway refuses each one.
import * as jose from 'jose';
import Provider from 'oidc-provider';

const redirectUris = JSON.parse(process.env.OIDC_REDIRECT_URIS ?? '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const secret = process.env.OIDC_CLIENT_SECRET;

// The provider's own signing key, generated here so that a forged token can be signed with it.
const KID = 'leeway-tests';
const own = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(own.privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
const foreign = await jose.generateKeyPair('RS256');

const provider = new Provider('http://127.0.0.1', {
  clients: [
    {
      client_id: 'leeway',
      ...(secret
        ? { client_secret: secret, token_endpoint_auth_method: 'client_secret_post' }
        : { token_endpoint_auth_method: 'none' }),
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  claims: { openid: ['sub', 'oid'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: (use) => {
      const { _only, ...claims } = accounts[id] ?? {};
      return _only && _only !== use ? { sub: id } : { sub: id, ...claims };
    },
  }),
  // Scope claims go in the ID token too (as Entra ID and Google put theirs); `_only` takes them out.
  conformIdTokenClaims: false,
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'oid']);
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['leeway-tests-only'] },
});
provider.proxy = false;

// `resign` changes nothing and signs again with the provider's key: the control that shows a
// re-signed token is accepted, so each refusal of the others is for what they changed.
const FORGERIES = ['resign', 'iss', 'aud', 'nonce', 'exp', 'foreignKey', 'none'];
let tamper;

/** The ID token, changed as `mode` says and signed again (or not at all). */
async function forge(idToken, mode) {
  const payload = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'iss') payload.iss = 'http://127.0.0.1:9/another-issuer';
  if (mode === 'aud') payload.aud = 'another-client';
  if (mode === 'nonce') payload.nonce = 'another-nonce';
  if (mode === 'exp') Object.assign(payload, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'none') {
    const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
  }
  const key = mode === 'foreignKey' ? foreign.privateKey : own.privateKey;
  return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper') {
    const mode = ctx.query.mode;
    if (!FORGERIES.includes(mode)) ctx.throw(400, `mode must be one of ${FORGERIES.join(', ')}`);
    tamper = mode;
    ctx.body = { tamper };
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token, tamper) };
    tamper = undefined;
  }
});

const server = provider.listen(Number(process.env.OIDC_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  // The issuer must name the port it is reached on.
  provider.issuer = `http://127.0.0.1:${port}`;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
