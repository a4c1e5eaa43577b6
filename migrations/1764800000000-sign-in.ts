import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in for people.
 *
 * - tokens gain a kind: `api` (for programs, issued by an admin, optional expiry) or `session` (what
 *   signing in yields: always expiring, with how it was obtained and the browser that holds it).
 *   `last_used_at` is written at most once a minute per token, from memory, never per request.
 * - sign_in_links: single-use links an admin issues for a user (`user_id`), or that a first start
 *   prints to make its holder the first admin (`user_id` NULL). Only the hash is kept.
 * - oidc_attempts: an authorization-code sign-in between leaving for the identity provider and
 *   coming back: PKCE verifier, nonce, and the hash of the browser-binding cookie, keyed by the hash
 *   of `state`. Used once, then deleted; older than ten minutes, refused.
 * - provisioning_tokens: what a SCIM client presents. They reach /scim/v2 and nothing else.
 * - users gain the SCIM attributes a provisioning client reads back (`userName`, `externalId`), and
 *   teams an `external_ref` for SCIM groups. A SCIM DELETE deactivates (the ledger keeps its history)
 *   and sets `scim_deleted_at`, after which SCIM no longer lists the user or group.
 */
export class SignIn1764800000000 implements MigrationInterface {
  name = 'SignIn1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tokens
        ADD COLUMN kind text NOT NULL DEFAULT 'api',
        ADD COLUMN expires_at timestamptz,
        ADD COLUMN last_used_at timestamptz,
        ADD COLUMN signed_in_with text,
        ADD COLUMN user_agent text,
        ADD CONSTRAINT tokens_kind_ck CHECK (kind IN ('api', 'session')),
        ADD CONSTRAINT tokens_session_ck CHECK (
          kind = 'api' OR (expires_at IS NOT NULL AND signed_in_with IN ('oidc', 'link'))),
        ADD CONSTRAINT tokens_user_agent_ck CHECK (length(user_agent) <= 300)`);
    await q.query(`
      CREATE TABLE sign_in_links (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id uuid,
        token_hash bytea NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        session_id uuid,
        CONSTRAINT sign_in_links_pk PRIMARY KEY (id),
        CONSTRAINT sign_in_links_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT sign_in_links_session_fk FOREIGN KEY (session_id) REFERENCES tokens (id),
        CONSTRAINT sign_in_links_hash_uq UNIQUE (token_hash),
        CONSTRAINT sign_in_links_used_ck CHECK ((used_at IS NULL) = (session_id IS NULL))
      )`);
    await q.query(`CREATE INDEX sign_in_links_user_idx ON sign_in_links (user_id)`);
    await q.query(`
      CREATE TABLE oidc_attempts (
        state_hash bytea NOT NULL,
        browser_hash bytea NOT NULL,
        code_verifier text NOT NULL,
        nonce text NOT NULL,
        return_to text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT oidc_attempts_pk PRIMARY KEY (state_hash)
      )`);
    await q.query(`CREATE INDEX oidc_attempts_created_idx ON oidc_attempts (created_at)`);
    await q.query(`
      CREATE TABLE provisioning_tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        label text,
        token_hash bytea NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz,
        CONSTRAINT provisioning_tokens_pk PRIMARY KEY (id),
        CONSTRAINT provisioning_tokens_hash_uq UNIQUE (token_hash),
        CONSTRAINT provisioning_tokens_creator_fk FOREIGN KEY (created_by) REFERENCES users (id)
      )`);
    await q.query(`
      ALTER TABLE users
        ADD COLUMN scim_user_name text,
        ADD COLUMN scim_external_id text,
        ADD COLUMN scim_deleted_at timestamptz,
        ADD CONSTRAINT users_scim_user_name_uq UNIQUE (scim_user_name)`);
    await q.query(`
      ALTER TABLE teams
        ADD COLUMN external_ref text,
        ADD COLUMN scim_deleted_at timestamptz,
        ADD CONSTRAINT teams_external_ref_uq UNIQUE (external_ref)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE teams DROP COLUMN external_ref, DROP COLUMN scim_deleted_at`);
    await q.query(
      `ALTER TABLE users DROP COLUMN scim_user_name, DROP COLUMN scim_external_id, DROP COLUMN scim_deleted_at`,
    );
    await q.query(`DROP TABLE provisioning_tokens`);
    await q.query(`DROP TABLE oidc_attempts`);
    await q.query(`DROP TABLE sign_in_links`);
    await q.query(`
      ALTER TABLE tokens
        DROP CONSTRAINT tokens_user_agent_ck, DROP CONSTRAINT tokens_session_ck, DROP CONSTRAINT tokens_kind_ck,
        DROP COLUMN user_agent, DROP COLUMN signed_in_with, DROP COLUMN last_used_at, DROP COLUMN expires_at,
        DROP COLUMN kind`);
  }
}
