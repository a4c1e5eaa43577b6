import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provisioning tokens may expire, as API tokens do: `expires_at` (null: never), checked each time a
 * SCIM client presents one.
 */
export class ProvisioningTokenExpiry1765400000000 implements MigrationInterface {
  name = 'ProvisioningTokenExpiry1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provisioning_tokens ADD COLUMN expires_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provisioning_tokens DROP COLUMN expires_at`);
  }
}
