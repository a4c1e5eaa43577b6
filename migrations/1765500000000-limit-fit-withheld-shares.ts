import { MigrationInterface, QueryRunner } from 'typeorm';

const SHARES = [
  'over_per_credit',
  'with_overrun',
  'bound_per_credit',
  'bound_per_case',
  'bound_per_agent_day',
  'bound_per_agent_month',
];

/**
 * Limit fit's shares and binding limit may be withheld: a role-month stores its counts only when
 * the agents with an overrun in it pass both release rules (and every block of the role shows its
 * split); otherwise all six counts are NULL together, never 0. Releases stay append-only: this only
 * relaxes NOT NULL and adds a check, no stored row changes.
 */
export class LimitFitWithheldShares1765500000000 implements MigrationInterface {
  name = 'LimitFitWithheldShares1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE release_limit_fit ${SHARES.map((c) => `ALTER COLUMN ${c} DROP NOT NULL`).join(', ')},
         ADD CONSTRAINT release_limit_fit_shares_ck CHECK (
           num_nulls(${SHARES.join(', ')}) IN (0, ${SHARES.length}))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Fails once a release has withheld a share: stored releases are never changed to make it pass.
    await q.query(
      `ALTER TABLE release_limit_fit DROP CONSTRAINT release_limit_fit_shares_ck,
         ${SHARES.map((c) => `ALTER COLUMN ${c} SET NOT NULL`).join(', ')}`,
    );
  }
}
