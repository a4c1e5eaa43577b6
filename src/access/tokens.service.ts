import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { changedRows } from '../database/changed-rows';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { AccessLevel } from './access-level';
import { hashToken, newToken } from './token-hash';
import { Principal, TokenKind } from './principal';
import { TokenUsage } from './token-usage';
import { AuthCache } from './auth-cache';

export type SignedInWith = 'oidc' | 'link';

export interface TokenRow {
  id: string;
  kind: TokenKind;
  label: string | null;
  signed_in_with: SignedInWith | null;
  user_agent: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export const TOKEN_COLUMNS = `id, kind, label, signed_in_with, user_agent, created_at, expires_at, last_used_at, revoked_at`;

@Injectable()
export class TokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly usage: TokenUsage,
    private readonly cache: AuthCache,
  ) {}

  /**
   * The caller behind an API or session token, or null: unknown, revoked, expired, or its user
   * deactivated. Served from the AuthCache when it holds the token, otherwise read from the
   * database; any revocation, deactivation or change of access empties the cache of every service
   * process as it commits, and an expiry is checked on every use.
   */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const key = hash.toString('base64');
    const cached = this.cache.get(key);
    if (cached) {
      this.usage.used('tokens', cached.tokenId);
      return cached;
    }
    const generation = this.cache.begin();
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT t.id AS token_id, t.token_hash, t.kind, t.expires_at, u.id, u.display_name, u.access, u.role_id, u.team_id
         FROM tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
          AND u.active`,
      [hash],
    );
    const row = rows[0];
    // The lookup is by hash; the constant-time compare keeps the final check free of timing signals.
    if (!row || !timingSafeEqual(row.token_hash as Buffer, hash)) return null;
    this.usage.used('tokens', row.token_id as string);
    const principal: Principal = {
      id: row.id as string,
      displayName: row.display_name as string,
      access: row.access as AccessLevel[],
      roleId: row.role_id as string | null,
      teamId: row.team_id as string | null,
      tokenId: row.token_id as string,
      tokenKind: row.kind as TokenKind,
    };
    this.cache.put(key, principal, row.expires_at as Date | null, generation);
    return principal;
  }

  async issue(
    actorId: string,
    userId: string,
    label: string | null,
    expiresAt: Date | null,
  ): Promise<{ id: string; token: string; expiresAt: string | null }> {
    const token = newToken();
    return this.dataSource.transaction(async (m) => {
      const users: Array<{ active: boolean }> = await m.query(`SELECT active FROM users WHERE id = $1`, [userId]);
      if (users.length === 0) throw new DomainError('NOT_FOUND', 'No such user.');
      if (!users[0].active) throw new DomainError('CONFLICT', 'This user is deactivated; reactivate them first.');
      const [row]: Array<{ id: string }> = await m.query(
        `INSERT INTO tokens (user_id, label, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [userId, label, hashToken(token), actorId, expiresAt],
      );
      await this.audit.record(m, {
        actorId,
        action: 'token.issued',
        subjectType: 'token',
        subjectId: row.id,
        details: { userId, label, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return { id: row.id, token, expiresAt: expiresAt?.toISOString() ?? null };
    });
  }

  /** A session for a person who just signed in, inside the transaction that checked who they are. */
  async startSession(
    m: EntityManager,
    userId: string,
    via: SignedInWith,
    hours: number,
    userAgent: string | undefined,
    linkId?: string,
  ): Promise<{ id: string; token: string; expiresAt: string }> {
    const token = newToken();
    const [row]: Array<{ id: string; expires_at: Date }> = await m.query(
      `INSERT INTO tokens (user_id, kind, label, token_hash, signed_in_with, user_agent, expires_at)
       VALUES ($1, 'session', NULL, $2, $3, left($4, 300), now() + make_interval(hours => $5))
       RETURNING id, expires_at`,
      [userId, hashToken(token), via, userAgent ?? null, hours],
    );
    await this.audit.record(m, {
      actorId: userId,
      action: 'session.started',
      subjectType: 'token',
      subjectId: row.id,
      details: { userId, via, ...(linkId ? { linkId } : {}), expiresAt: row.expires_at.toISOString() },
    });
    return { id: row.id, token, expiresAt: row.expires_at.toISOString() };
  }

  /**
   * Revokes a token or session. `ownerId` limits it to that user's own (a person ending one of their
   * sessions); others are 404, as if they did not exist.
   */
  async revoke(actorId: string, tokenId: string, ownerId?: string, kind?: TokenKind): Promise<void> {
    await this.committed(async (m) => {
      const rows: Array<{ user_id: string; kind: TokenKind; revoked_at: Date | null }> = await m.query(
        `SELECT user_id, kind, revoked_at FROM tokens WHERE id = $1 FOR UPDATE`,
        [tokenId],
      );
      if (
        rows.length === 0 ||
        (ownerId !== undefined && rows[0].user_id !== ownerId) ||
        (kind !== undefined && rows[0].kind !== kind)
      )
        throw new DomainError('NOT_FOUND', 'No such token.');
      // Revoking twice is harmless: the token stays revoked and the first revocation stands.
      if (rows[0].revoked_at) return;
      await m.query(`UPDATE tokens SET revoked_at = now() WHERE id = $1`, [tokenId]);
      await this.audit.record(m, {
        actorId,
        action: rows[0].kind === 'session' ? 'session.revoked' : 'token.revoked',
        subjectType: 'token',
        subjectId: tokenId,
        details: { userId: rows[0].user_id },
      });
    });
  }

  /**
   * Runs a transaction that changes who may do what (tokens, or users' access and standing), and
   * answers only once every service process has been told: see AuthCache.changed.
   */
  async committed<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(work);
    await this.cache.changed();
    return result;
  }

  /** A user's tokens and sessions, newest first; `kind` narrows it. */
  async list(userId: string, kind?: TokenKind): Promise<TokenRow[]> {
    const rows: TokenRow[] = await this.dataSource.query(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2)
        ORDER BY created_at DESC, id LIMIT 500`,
      [userId, kind ?? null],
    );
    for (const row of rows) {
      const seen = this.usage.pendingFor('tokens', row.id);
      if (seen && (!row.last_used_at || seen > row.last_used_at)) row.last_used_at = seen;
    }
    return rows;
  }

  async userExists(userId: string): Promise<boolean> {
    const found: unknown[] = await this.dataSource.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
    return found.length > 0;
  }

  /**
   * Ends every way a user has in: tokens, sessions and unused sign-in links. Run in the transaction
   * that deactivates or deprovisions them, so access ends with the commit, in every process.
   */
  async revokeEverything(m: EntityManager, userId: string): Promise<{ tokens: number; links: number }> {
    const tokens: unknown[] = await changedRows(
      m,
      `UPDATE tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      [userId],
    );
    const links: unknown[] = await changedRows(
      m,
      `UPDATE sign_in_links SET expires_at = now() WHERE user_id = $1 AND used_at IS NULL AND expires_at > now() RETURNING id`,
      [userId],
    );
    return { tokens: tokens.length, links: links.length };
  }

  /** Ends a user's sessions (not their API tokens), in the caller's transaction; answers how many. */
  async endSessions(m: EntityManager, userId: string): Promise<number> {
    const ended: unknown[] = await changedRows(
      m,
      `UPDATE tokens SET revoked_at = now() WHERE user_id = $1 AND kind = 'session' AND revoked_at IS NULL RETURNING id`,
      [userId],
    );
    return ended.length;
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
