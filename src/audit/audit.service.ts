import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export type AuditAction =
  | 'token.issued'
  | 'token.revoked'
  | 'user.created'
  | 'user.changed'
  | 'team.created'
  | 'team.changed'
  | 'role.created'
  | 'role.limits_set'
  | 'reason.created'
  | 'reason.changed'
  | 'credit.reversed'
  | 'credit.read'
  | 'credits.imported'
  | 'ledger.read'
  | 'session.started'
  | 'session.revoked'
  | 'sign_in.refused'
  | 'sign_in_link.issued'
  | 'provisioning_token.issued'
  | 'provisioning_token.revoked'
  | 'user.deprovisioned'
  | 'webhook.created'
  | 'webhook.changed'
  | 'webhook.deleted'
  | 'webhook.replayed';

export interface AuditEvent {
  actorId: string | null;
  action: AuditAction;
  subjectType: string;
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  actorId: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  details: Record<string, unknown>;
}

@Injectable()
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  /** Writes an event inside the caller's transaction, so the event and the change commit together. */
  async record(manager: EntityManager, event: AuditEvent): Promise<void> {
    await manager.query(
      `INSERT INTO audit_events (actor_id, action, subject_type, subject_id, details) VALUES ($1, $2, $3, $4, $5)`,
      [event.actorId, event.action, event.subjectType, event.subjectId ?? null, JSON.stringify(event.details ?? {})],
    );
  }

  async list(opts: { limit: number; beforeId?: string; action?: string }): Promise<AuditRow[]> {
    const params: unknown[] = [opts.limit];
    const where: string[] = [];
    if (opts.beforeId) {
      params.push(opts.beforeId);
      where.push(`id < $${params.length}::bigint`);
    }
    if (opts.action) {
      params.push(opts.action);
      where.push(`action = $${params.length}`);
    }
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id::text, at, actor_id, action, subject_type, subject_id, details
         FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY audit_events.id DESC LIMIT $1`,
      params,
    );
    return rows.map((r) => ({
      id: r.id as string,
      at: r.at as Date,
      actorId: r.actor_id as string | null,
      action: r.action as string,
      subjectType: r.subject_type as string,
      subjectId: r.subject_id as string | null,
      details: r.details as Record<string, unknown>,
    }));
  }
}
