// A real OpenID provider (the `oidc-provider` package) for the tests, in its own process: plain
// Node, since the package is ESM. Prints its issuer URL on the first line of stdout.
//
//   OIDC_REDIRECT_URIS='["http://127.0.0.1:4000/auth/oidc/callback"]'
//   OIDC_ACCOUNTS='{"alice":{"email":"alice@example.com","email_verified":true}}'
//   OIDC_CLIENT_SECRET=… (optional: a confidential client; else a public one using PKCE alone)
//
// Anyone may sign in with any login name (devInteractions); the account's claims come from
// OIDC_ACCOUNTS, `sub` being the login name. Consent is granted without asking, as a company's
// provider does for its own applications.
import Provider from 'oidc-provider';

const redirectUris = JSON.parse(process.env.OIDC_REDIRECT_URIS ?? '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const secret = process.env.OIDC_CLIENT_SECRET;

const provider = new Provider('http://127.0.0.1', {
  clients: [
    {
      client_id: 'leeway',
      ...(secret ? { client_secret: secret } : { token_endpoint_auth_method: 'none' }),
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, ...(accounts[id] ?? {}) }),
  }),
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['leeway-tests-only'] },
});
provider.proxy = false;

const server = provider.listen(Number(process.env.OIDC_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  // The issuer must name the port it is reached on.
  provider.issuer = `http://127.0.0.1:${port}`;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
