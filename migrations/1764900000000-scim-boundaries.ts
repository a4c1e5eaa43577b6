import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What provisioning may not undo: a deactivation made in Leeway by an admin stays until an admin
 * lifts it, whatever the identity provider says about the person.
 */
export class ScimBoundaries1764900000000 implements MigrationInterface {
  name = 'ScimBoundaries1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN deactivated_in_leeway boolean NOT NULL DEFAULT false`);
    await q.query(
      `CREATE INDEX users_scim_external_id_idx ON users (scim_external_id) WHERE scim_external_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_scim_external_id_idx`);
    await q.query(`ALTER TABLE users DROP COLUMN deactivated_in_leeway`);
  }
}
