import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { hashToken, newToken } from '../access/token-hash';
import { TokenUsage } from '../access/token-usage';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';

export interface ProvisioningTokenRow {
  id: string;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date | null;
  last_used_at: Date | null;
}

/** The tokens an identity provider's SCIM client presents; they open /scim/v2 and nothing else. */
@Injectable()
export class ProvisioningTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly usage: TokenUsage,
  ) {}

  /** The token's id, or null when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<string | null> {
    const hash = hashToken(token);
    const [row]: Array<{ id: string; token_hash: Buffer }> = await this.dataSource.query(
      `SELECT id, token_hash FROM provisioning_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [hash],
    );
    if (!row || !timingSafeEqual(row.token_hash, hash)) return null;
    this.usage.used('provisioning_tokens', row.id);
    return row.id;
  }

  async issue(
    actorId: string,
    label: string | null,
    expiresAt: Date | null,
  ): Promise<{ id: string; token: string; expiresAt: string | null }> {
    const token = newToken();
    return this.dataSource.transaction(async (m) => {
      const [row]: Array<{ id: string }> = await m.query(
        `INSERT INTO provisioning_tokens (label, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
        [label, hashToken(token), actorId, expiresAt],
      );
      const at = expiresAt?.toISOString() ?? null;
      await this.audit.record(m, {
        actorId,
        action: 'provisioning_token.issued',
        subjectType: 'provisioning_token',
        subjectId: row.id,
        details: { label, expiresAt: at },
      });
      return { id: row.id, token, expiresAt: at };
    });
  }

  async list(): Promise<ProvisioningTokenRow[]> {
    const rows: ProvisioningTokenRow[] = await this.dataSource.query(
      `SELECT id, label, created_at, revoked_at, expires_at, last_used_at FROM provisioning_tokens ORDER BY created_at DESC, id LIMIT 500`,
    );
    for (const row of rows) {
      const seen = this.usage.pendingFor('provisioning_tokens', row.id);
      if (seen && (!row.last_used_at || seen > row.last_used_at)) row.last_used_at = seen;
    }
    return rows;
  }

  async revoke(actorId: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const rows: Array<{ revoked_at: Date | null }> = await m.query(
        `SELECT revoked_at FROM provisioning_tokens WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such provisioning token.');
      if (rows[0].revoked_at) return;
      await m.query(`UPDATE provisioning_tokens SET revoked_at = now() WHERE id = $1`, [id]);
      await this.audit.record(m, {
        actorId,
        action: 'provisioning_token.revoked',
        subjectType: 'provisioning_token',
        subjectId: id,
      });
    });
  }
}
