import { redactQuery } from './logger';

describe(redactQuery.name, () => {
  it('keeps the path and harmless parameters, and hides the sign-in secrets', () => {
    expect(redactQuery('/auth/oidc/callback?code=abc123&state=xyz&iss=https%3A%2F%2Fidp')).toBe(
      '/auth/oidc/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fidp',
    );
    expect(redactQuery('/v1/reports/spend?from=2026-01&groupBy=reason')).toBe(
      '/v1/reports/spend?from=2026-01&groupBy=reason',
    );
  });
});
