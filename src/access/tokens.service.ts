import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { AccessLevel } from './access-level';
import { hashToken, newToken } from './token-hash';
import { Principal } from './principal';

@Injectable()
export class TokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT t.id AS token_id, t.token_hash, u.id, u.display_name, u.access, u.role_id, u.team_id
         FROM tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active`,
      [hash],
    );
    const row = rows[0];
    // The lookup is by hash; the constant-time compare keeps the final check free of timing signals.
    if (!row || !timingSafeEqual(row.token_hash as Buffer, hash)) return null;
    return {
      id: row.id as string,
      displayName: row.display_name as string,
      access: row.access as AccessLevel[],
      roleId: row.role_id as string | null,
      teamId: row.team_id as string | null,
      tokenId: row.token_id as string,
    };
  }

  async issue(actorId: string, userId: string, label: string | null): Promise<{ id: string; token: string }> {
    const token = newToken();
    return this.dataSource.transaction(async (m) => {
      const users: unknown[] = await m.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
      if (users.length === 0) throw new DomainError('NOT_FOUND', 'No such user.');
      const [row]: Array<{ id: string }> = await m.query(
        `INSERT INTO tokens (user_id, label, token_hash, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
        [userId, label, hashToken(token), actorId],
      );
      await this.audit.record(m, {
        actorId,
        action: 'token.issued',
        subjectType: 'token',
        subjectId: row.id,
        details: { userId, label },
      });
      return { id: row.id, token };
    });
  }

  async revoke(actorId: string, tokenId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const rows: Array<{ user_id: string; revoked_at: Date | null }> = await m.query(
        `SELECT user_id, revoked_at FROM tokens WHERE id = $1 FOR UPDATE`,
        [tokenId],
      );
      if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such token.');
      // Revoking twice is harmless: the token stays revoked and the first revocation stands.
      if (rows[0].revoked_at) return;
      await m.query(`UPDATE tokens SET revoked_at = now() WHERE id = $1`, [tokenId]);
      await this.audit.record(m, {
        actorId,
        action: 'token.revoked',
        subjectType: 'token',
        subjectId: tokenId,
        details: { userId: rows[0].user_id },
      });
    });
  }

  /** Whether anyone can administer this installation yet (the start-up line says how if not). */
  async adminExists(): Promise<boolean> {
    const found: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM users WHERE active AND 'admin' = ANY(access) LIMIT 1`,
    );
    return found.length > 0;
  }

  /** Creates admin "bootstrap" holding the configured token, unless an active admin exists. */
  async bootstrap(token: string): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      // Replicas starting together must not create two bootstrap admins.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.bootstrap'))`);
      const admins: unknown[] = await m.query(`SELECT 1 FROM users WHERE active AND 'admin' = ANY(access) LIMIT 1`);
      if (admins.length > 0) return false;
      const hash = hashToken(token);
      const [user]: Array<{ id: string }> = await m.query(
        `INSERT INTO users (display_name, access) VALUES ('bootstrap', ARRAY['admin']) RETURNING id`,
      );
      const [tok]: Array<{ id: string }> = await m.query(
        `INSERT INTO tokens (user_id, label, token_hash) VALUES ($1, 'bootstrap', $2)
         ON CONFLICT ON CONSTRAINT tokens_hash_uq DO UPDATE SET user_id = EXCLUDED.user_id, revoked_at = NULL
         RETURNING id`,
        [user.id, hash],
      );
      await this.audit.record(m, {
        actorId: null,
        action: 'user.created',
        subjectType: 'user',
        subjectId: user.id,
        details: { displayName: 'bootstrap', access: ['admin'], via: 'LEEWAY_BOOTSTRAP_TOKEN' },
      });
      await this.audit.record(m, {
        actorId: null,
        action: 'token.issued',
        subjectType: 'token',
        subjectId: tok.id,
        details: { userId: user.id, label: 'bootstrap' },
      });
      return true;
    });
  }
}
