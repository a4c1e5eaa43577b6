import { ConfigError, loadConfig } from './config';

describe(loadConfig.name, () => {
  it('applies the documented defaults', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '.leeway',
      timezone: 'UTC',
      minCohort: 5,
      reversalWindowHours: 72,
    });
  });

  it.each([
    ['LEEWAY_MIN_COHORT', '1'],
    ['LEEWAY_MIN_COHORT', '2'],
    ['LEEWAY_MIN_COHORT', 'five'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['LEEWAY_TIMEZONE', 'Mars/Olympus'],
    ['LEEWAY_REVERSAL_WINDOW_HOURS', '1.5'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['DATABASE_URL', 'not a url'],
    ['LEEWAY_BOOTSTRAP_TOKEN', 'short'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s and names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });

  it('accepts valid values', () => {
    const sut = loadConfig({
      PORT: '8080',
      LEEWAY_TIMEZONE: 'Europe/Berlin',
      LEEWAY_MIN_COHORT: '3',
      DATABASE_URL: 'postgres://u:p@db:5432/leeway',
    });
    expect(sut).toMatchObject({
      port: 8080,
      timezone: 'Europe/Berlin',
      minCohort: 3,
      databaseUrl: 'postgres://u:p@db:5432/leeway',
    });
  });
});

describe('proxy, framing and metrics configuration', () => {
  it('trusts no proxy, allows no framing and leaves /metrics open by default', () => {
    const sut = loadConfig({});
    expect(sut.trustProxy).toBe(false);
    expect(sut.frameAncestors).toEqual(["'none'"]);
    expect(sut.metricsToken).toBeUndefined();
  });

  it.each([
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.1,::1, fd00::/8', ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8']],
  ])('reads LEEWAY_TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ LEEWAY_TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each([
    ['LEEWAY_TRUST_PROXY', 'yes'],
    ['LEEWAY_TRUST_PROXY', '0'],
    ['LEEWAY_TRUST_PROXY', '11'],
    ['LEEWAY_TRUST_PROXY', '10.0.0.0/33'],
    ['LEEWAY_TRUST_PROXY', '10.0.0.1,proxy.local'],
    ['LEEWAY_TRUST_PROXY', '10.0.0.0/8/1'],
    ['LEEWAY_FRAME_ANCESTORS', 'helpdesk.example.com'],
    ['LEEWAY_FRAME_ANCESTORS', 'https://helpdesk.example.com/app'],
    ['LEEWAY_FRAME_ANCESTORS', "'none' https://helpdesk.example.com"],
    ['LEEWAY_FRAME_ANCESTORS', 'javascript:alert(1)'],
    ['LEEWAY_FRAME_ANCESTORS', "https://a.example.com; script-src 'unsafe-inline'"],
    ['LEEWAY_METRICS_TOKEN', 'short'],
    ['LEEWAY_METRICS_TOKEN', 'has a space in it, sixteen+'],
  ])('refuses %s=%s and names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });

  it.each([
    ['none', ["'none'"]],
    ["'none'", ["'none'"]],
    ['https://helpdesk.example.com', ['https://helpdesk.example.com']],
    [
      'https://Helpdesk.example.com/, https://*.zendesk.com  http://localhost:8080',
      ['https://helpdesk.example.com', 'https://*.zendesk.com', 'http://localhost:8080'],
    ],
    ['self https://a.example.com', ["'self'", 'https://a.example.com']],
  ])('reads LEEWAY_FRAME_ANCESTORS=%s', (value, expected) => {
    expect(loadConfig({ LEEWAY_FRAME_ANCESTORS: value }).frameAncestors).toEqual(expected);
  });

  it('keeps a valid LEEWAY_METRICS_TOKEN', () => {
    expect(loadConfig({ LEEWAY_METRICS_TOKEN: 'metrics-token-0123456789' }).metricsToken).toBe(
      'metrics-token-0123456789',
    );
  });
});

describe('DATABASE_DIRECT_URL', () => {
  it('is unset by default', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@pgbouncer:6432/leeway' }).databaseDirectUrl).toBeUndefined();
  });

  it('keeps a direct URL next to a pooled DATABASE_URL', () => {
    const sut = loadConfig({
      DATABASE_URL: 'postgres://u:p@pgbouncer:6432/leeway',
      DATABASE_DIRECT_URL: ' postgresql://u:p@db:5432/leeway ',
    });
    expect(sut.databaseUrl).toBe('postgres://u:p@pgbouncer:6432/leeway');
    expect(sut.databaseDirectUrl).toBe('postgresql://u:p@db:5432/leeway');
  });

  it.each([
    ['mysql://x@y/z', 'postgres://'],
    ['not a url', 'must be a URL'],
  ])('refuses DATABASE_DIRECT_URL=%s and names the variable', (value, why) => {
    const env = { DATABASE_URL: 'postgres://u:p@pgbouncer:6432/leeway', DATABASE_DIRECT_URL: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/DATABASE_DIRECT_URL/);
    expect(() => loadConfig(env)).toThrow(why);
  });

  it('refuses a direct URL without DATABASE_URL (the embedded PostgreSQL needs none)', () => {
    expect(() => loadConfig({ DATABASE_DIRECT_URL: 'postgres://u:p@db:5432/leeway' })).toThrow(
      'Invalid configuration: DATABASE_DIRECT_URL is set without DATABASE_URL',
    );
  });
});

describe('LEEWAY_OIDC_CLAIM', () => {
  const oidc = { LEEWAY_OIDC_ISSUER: 'https://sso.example.com', LEEWAY_OIDC_CLIENT_ID: 'leeway' };

  it.each(['sub', 'email', 'oid', 'preferred_username', 'urn:example:employee_id', 'https.x-y'])(
    'accepts the claim name %s',
    (claim) => {
      expect(loadConfig({ ...oidc, LEEWAY_OIDC_CLAIM: claim }).oidc!.claim).toBe(claim);
    },
  );

  it.each(['1sub', 'e mail', 'a/b', 'claim"', 'x'.repeat(65), 'ünicode'])(
    'refuses %s and names the variable',
    (claim) => {
      expect(() => loadConfig({ ...oidc, LEEWAY_OIDC_CLAIM: claim })).toThrow(/LEEWAY_OIDC_CLAIM/);
    },
  );
});

describe('LEEWAY_SIGN_IN_LINKS', () => {
  const oidc = { LEEWAY_OIDC_ISSUER: 'https://sso.example.com', LEEWAY_OIDC_CLIENT_ID: 'leeway' };

  it('is on without an identity provider, and first-admin-only with one', () => {
    expect(loadConfig({}).signInLinks).toBe('on');
    expect(loadConfig(oidc).signInLinks).toBe('first-admin-only');
  });

  it('takes on or first-admin-only either way', () => {
    expect(loadConfig({ ...oidc, LEEWAY_SIGN_IN_LINKS: 'on' }).signInLinks).toBe('on');
    expect(loadConfig({ LEEWAY_SIGN_IN_LINKS: 'first-admin-only' }).signInLinks).toBe('first-admin-only');
  });

  it.each(['off', 'ON', 'true', 'allow'])('refuses %s and names the variable', (value) => {
    expect(() => loadConfig({ ...oidc, LEEWAY_SIGN_IN_LINKS: value })).toThrow(
      `Invalid configuration: LEEWAY_SIGN_IN_LINKS must be on or first-admin-only, got "${value}"`,
    );
  });
});
