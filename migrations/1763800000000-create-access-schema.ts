import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccessSchema1763800000000 implements MigrationInterface {
  name = 'CreateAccessSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE teams (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT teams_pk PRIMARY KEY (id),
        CONSTRAINT teams_name_uq UNIQUE (name),
        CONSTRAINT teams_name_ck CHECK (length(name) BETWEEN 1 AND 120)
      )`);
    await q.query(`
      CREATE TABLE roles (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT roles_pk PRIMARY KEY (id),
        CONSTRAINT roles_name_uq UNIQUE (name),
        CONSTRAINT roles_name_ck CHECK (length(name) BETWEEN 1 AND 120)
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        display_name text NOT NULL,
        access text[] NOT NULL,
        role_id uuid,
        team_id uuid,
        external_ref text,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pk PRIMARY KEY (id),
        CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id),
        CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id),
        CONSTRAINT users_external_ref_uq UNIQUE (external_ref),
        CONSTRAINT users_access_ck CHECK (
          cardinality(access) >= 1
          AND access <@ ARRAY['agent','leader','finance','auditor','admin']::text[])
      )`);
    await q.query(`CREATE INDEX users_role_idx ON users (role_id)`);
    await q.query(`CREATE INDEX users_team_idx ON users (team_id)`);
    await q.query(`
      CREATE TABLE tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        label text,
        token_hash bytea NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT tokens_pk PRIMARY KEY (id),
        CONSTRAINT tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT tokens_hash_uq UNIQUE (token_hash)
      )`);
    await q.query(`CREATE INDEX tokens_user_idx ON tokens (user_id)`);
    await q.query(`
      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT audit_events_pk PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC)`);
    // The audit log is evidence: once written, nobody edits or removes it.
    await q.query(`
      CREATE FUNCTION leeway_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION leeway_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION leeway_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION leeway_refuse_change()`);
    await q.query(`DROP TABLE tokens`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE roles`);
    await q.query(`DROP TABLE teams`);
  }
}
