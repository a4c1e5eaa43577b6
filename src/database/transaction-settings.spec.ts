import { LONG_RUNNING_SETTINGS, SERVICE_SETTINGS, settingsStatement } from './transaction-settings';

describe(settingsStatement.name, () => {
  it('sets every service setting for the transaction only, in one statement', () => {
    const sut = settingsStatement(SERVICE_SETTINGS);
    expect(sut).toBe(
      "SET LOCAL statement_timeout = '30s'; SET LOCAL lock_timeout = '10s'; " +
        "SET LOCAL idle_in_transaction_session_timeout = '60s'; SET LOCAL work_mem = '32MB'",
    );
  });

  it('lifts the statement and idle limits for long-running work and keeps the rest', () => {
    expect(LONG_RUNNING_SETTINGS).toEqual({
      ...SERVICE_SETTINGS,
      statement_timeout: '0',
      idle_in_transaction_session_timeout: '0',
    });
  });

  it('quotes a value so that it cannot end the statement', () => {
    const sut = settingsStatement({ ...SERVICE_SETTINGS, work_mem: "1MB'; DROP TABLE credits; --" });
    expect(sut).toContain("SET LOCAL work_mem = '1MB''; DROP TABLE credits; --'");
  });
});
