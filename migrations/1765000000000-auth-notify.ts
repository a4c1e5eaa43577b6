import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to what authentication reads (a token's hash, kind, owner, expiry or revocation; a
 * user's name, access, role, team or active flag) tells every service process on commit, through
 * NOTIFY on `leeway_auth`, so each can empty its cache of callers at once. The trigger sits on the
 * tables, so no code path that changes them can forget to tell. `last_used_at` is not among the
 * columns: its periodic write changes nothing about who may do what.
 */
export class AuthNotify1765000000000 implements MigrationInterface {
  name = 'AuthNotify1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE FUNCTION leeway_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('leeway_auth', TG_TABLE_NAME);
         RETURN NULL;
       END $$`,
    );
    await q.query(
      `CREATE TRIGGER tokens_auth_changed
         AFTER UPDATE OF token_hash, kind, user_id, expires_at, revoked_at OR DELETE OR TRUNCATE ON tokens
         FOR EACH STATEMENT EXECUTE FUNCTION leeway_auth_changed()`,
    );
    await q.query(
      `CREATE TRIGGER users_auth_changed
         AFTER UPDATE OF display_name, access, role_id, team_id, active OR DELETE OR TRUNCATE ON users
         FOR EACH STATEMENT EXECUTE FUNCTION leeway_auth_changed()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER users_auth_changed ON users`);
    await q.query(`DROP TRIGGER tokens_auth_changed ON tokens`);
    await q.query(`DROP FUNCTION leeway_auth_changed()`);
  }
}
