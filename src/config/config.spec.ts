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
