import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { APP_CONFIG, AppConfig } from '../config/config';
import { changedRows } from '../database/changed-rows';
import { SiteUrl } from '../sign-in/site-url';
import { RefusedDestination, resolveReceiver } from './destination';
import {
  CreatedWebhookView,
  CreateWebhookDto,
  DeliveryView,
  EventType,
  UpdateWebhookDto,
  WebhookView,
} from './dto/webhook.dto';
import { newSecret } from './signing';

interface EndpointRow {
  id: string;
  url: string;
  event_types: EventType[];
  active: boolean;
  include_agent_ref: boolean;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: EventType;
  state: DeliveryView['state'];
  attempts: number;
  next_attempt_at: Date;
  delivered_at: Date | null;
  replay_of: string | null;
  created_at: Date;
  attempt_log: Array<{ attempt: number; at: string; status: number | null; error: string | null; duration_ms: number }>;
}

const ENDPOINT_COLUMNS = 'id, url, event_types, active, include_agent_ref, created_at, updated_at';

const endpointView = (r: EndpointRow): WebhookView => ({
  id: r.id,
  url: r.url,
  eventTypes: r.event_types,
  active: r.active,
  includeAgentRef: r.include_agent_ref,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const deliveryView = (r: DeliveryRow): DeliveryView => ({
  id: r.id,
  eventId: r.event_id,
  eventType: r.event_type,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.state === 'pending' ? r.next_attempt_at.toISOString() : null,
  deliveredAt: r.delivered_at?.toISOString() ?? null,
  replayOf: r.replay_of,
  createdAt: r.created_at.toISOString(),
  attemptLog: r.attempt_log.map((a) => ({
    attempt: a.attempt,
    at: new Date(a.at).toISOString(),
    status: a.status,
    error: a.error,
    durationMs: a.duration_ms,
  })),
});

/** Webhook endpoints, their delivery log and replays (admins). The dispatcher sends. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly site: SiteUrl,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(actor: Principal, dto: CreateWebhookDto): Promise<CreatedWebhookView> {
    const url = await this.checkedUrl(dto.url);
    const secret = newSecret();
    return this.dataSource.transaction(async (m) => {
      const [row]: EndpointRow[] = await m.query(
        `INSERT INTO webhook_endpoints (url, event_types, secret, active, include_agent_ref)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${ENDPOINT_COLUMNS}`,
        [url, dto.eventTypes, secret, dto.active ?? true, dto.includeAgentRef ?? false],
      );
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'webhook.created',
        subjectType: 'webhook',
        subjectId: row.id,
        details: { url, eventTypes: dto.eventTypes, includeAgentRef: row.include_agent_ref, active: row.active },
      });
      return { ...endpointView(row), secret };
    });
  }

  async list(): Promise<Page<WebhookView>> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id`,
    );
    return { data: rows.map(endpointView), nextCursor: null };
  }

  async get(id: string): Promise<WebhookView> {
    return endpointView(await this.endpoint(id));
  }

  async update(actor: Principal, id: string, dto: UpdateWebhookDto): Promise<WebhookView> {
    const url = dto.url === undefined ? null : await this.checkedUrl(dto.url);
    return this.dataSource.transaction(async (m) => {
      const [row] = await changedRows<EndpointRow>(
        m,
        `UPDATE webhook_endpoints
            SET url = coalesce($2, url), event_types = coalesce($3, event_types), active = coalesce($4, active),
                include_agent_ref = coalesce($5, include_agent_ref), updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
        [id, url, dto.eventTypes ?? null, dto.active ?? null, dto.includeAgentRef ?? null],
      );
      if (!row) throw new DomainError('NOT_FOUND', 'No such webhook endpoint.');
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'webhook.changed',
        subjectType: 'webhook',
        subjectId: id,
        details: { ...dto, ...(url ? { url } : {}) },
      });
      return endpointView(row);
    });
  }

  /** Removes an endpoint: nothing more is sent to it; its delivery log stays. */
  async remove(actor: Principal, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [row] = await changedRows<{ id: string }>(
        m,
        `UPDATE webhook_endpoints SET deleted_at = now(), active = false, updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
        [id],
      );
      if (!row) throw new DomainError('NOT_FOUND', 'No such webhook endpoint.');
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'webhook.deleted',
        subjectType: 'webhook',
        subjectId: id,
      });
    });
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async deliveries(id: string, limit: number, cursor?: string): Promise<Page<DeliveryView>> {
    await this.endpoint(id);
    const after = decodeCursor(cursor, 2);
    const rows: DeliveryRow[] = await this.dataSource.query(
      `SELECT d.id, d.event_id, e.type AS event_type, d.state, d.attempts, d.next_attempt_at, d.delivered_at,
              d.replay_of, d.created_at,
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_cursor,
              coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', a.at, 'status', a.status,
                                                           'error', a.error, 'duration_ms', a.duration_ms)
                                         ORDER BY a.attempt)
                          FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS attempt_log
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.endpoint_id = $1
          AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2::timestamptz, $3::uuid))
        ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
      [id, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return toPage(rows, limit, deliveryView, (r) => [
      (r as unknown as { created_cursor: string }).created_cursor,
      r.id,
    ]);
  }

  /** Sends an event to the endpoint again, as a new delivery (same event id, so receivers can tell). */
  async replay(actor: Principal, id: string, eventId: string): Promise<DeliveryView> {
    return this.dataSource.transaction(async (m) => {
      const endpoint = await this.endpoint(id);
      const [event]: Array<{ id: string; seq: string; subject_id: string; type: EventType }> = await m.query(
        `SELECT id, seq, subject_id, type FROM events WHERE id = $1`,
        [eventId],
      );
      if (!event) throw DomainError.validation('eventId', 'no event has this id');
      if (!endpoint.event_types.includes(event.type)) {
        throw DomainError.validation('eventId', `this endpoint does not take ${event.type} events`);
      }
      const [previous]: Array<{ id: string }> = await m.query(
        `SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2 ORDER BY created_at DESC LIMIT 1`,
        [id, eventId],
      );
      const [row]: Array<{ id: string }> = await m.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq, subject_id, replay_of)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [id, eventId, event.seq, event.subject_id, previous?.id ?? null],
      );
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'webhook.replayed',
        subjectType: 'webhook',
        subjectId: id,
        details: { eventId, deliveryId: row.id },
      });
      const now = new Date().toISOString();
      return {
        id: row.id,
        eventId,
        eventType: event.type,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        deliveredAt: null,
        replayOf: previous?.id ?? null,
        createdAt: now,
        attemptLog: [],
      };
    });
  }

  private async endpoint(id: string): Promise<EndpointRow> {
    const [row]: EndpointRow[] = await this.dataSource.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    if (!row) throw new DomainError('NOT_FOUND', 'No such webhook endpoint.');
    return row;
  }

  /** An http(s) URL that is not this service and (unless allowed) resolves to no private address. */
  private async checkedUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw DomainError.validation('url', 'must be an absolute http or https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw DomainError.validation('url', 'must be an http or https URL');
    }
    if (url.username || url.password) throw DomainError.validation('url', 'must not carry a user name or password');
    if (this.site.ownOrigins().has(url.origin)) {
      throw DomainError.validation('url', 'must not point at this service itself');
    }
    try {
      await resolveReceiver(url.hostname, this.config.webhookAllowPrivate);
    } catch (error) {
      if (error instanceof RefusedDestination) throw DomainError.validation('url', error.message);
      throw error;
    }
    url.hash = '';
    return url.toString();
  }
}
