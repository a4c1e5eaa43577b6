import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { guardedLookup } from './destination';
import { signature } from './signing';

/**
 * When to try again after the n-th failed attempt (Standard Webhooks' schedule): 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h. The eighth attempt comes about 27.5 hours after the first; if it
 * fails too, the delivery is parked (kept in the log, replayable by an admin).
 */
export const RETRY_AFTER_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
const BATCH = 16;
const POLL_MS = 1_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

interface Claimed {
  id: string;
  attempts: number;
  event_id: string;
  url: string;
  secret: string;
  payload: string;
}

interface Outcome {
  status: number | null;
  error: string | null;
  ms: number;
}

/**
 * Delivers webhook events, at least once, in order per subject (a credit, or a role's limits) and
 * endpoint. Every service process runs one; they share the work through the database: a delivery
 * is claimed with a lease (FOR UPDATE SKIP LOCKED), sent with no transaction open, and settled.
 * A process killed mid-delivery leaves the lease to run out, and the delivery is sent again.
 */
@Injectable()
export class Dispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(Dispatcher.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round: claims and sends due deliveries until none are left. Never two rounds at once. */
  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = (async () => {
      try {
        while (!this.stopped && (await this.round()) > 0);
      } catch (error) {
        this.log.warn(`webhook deliveries: ${(error as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private get leaseSeconds(): number {
    return 2 * this.config.webhookTimeoutSeconds + 5;
  }

  private async round(): Promise<number> {
    const claimed: Claimed[] = await this.dataSource.query(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
          WHERE d.state = 'pending' AND d.next_attempt_at <= now()
            AND (d.lease_until IS NULL OR d.lease_until < now())
            AND w.active AND w.deleted_at IS NULL
            -- In order per subject and endpoint: an earlier event still pending goes first.
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                             WHERE p.endpoint_id = d.endpoint_id AND p.subject_id = d.subject_id
                               AND p.state = 'pending' AND p.event_seq < d.event_seq)
          ORDER BY d.event_seq, d.created_at
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE webhook_deliveries d
            SET lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1,
                first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
           FROM due WHERE d.id = due.id
         RETURNING d.id, d.attempts, d.event_id, d.endpoint_id, d.event_seq
       )
       SELECT c.id, c.attempts, c.event_id, w.url, w.secret,
              jsonb_build_object(
                'type', e.type,
                'timestamp', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'version', 1,
                'data', CASE WHEN w.include_agent_ref AND e.agent_id IS NOT NULL
                             THEN e.data || jsonb_build_object('agentRef', u.external_ref) ELSE e.data END
              )::text AS payload
         FROM claimed c
         JOIN webhook_endpoints w ON w.id = c.endpoint_id
         JOIN events e ON e.id = c.event_id
         LEFT JOIN users u ON u.id = e.agent_id
        ORDER BY c.event_seq`,
      [BATCH, this.leaseSeconds],
    );
    await Promise.all(claimed.map((c) => this.deliver(c)));
    return claimed.length;
  }

  private async deliver(c: Claimed): Promise<void> {
    const outcome = await this.send(c);
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    const retryAfter = RETRY_AFTER_SECONDS[c.attempts - 1];
    const state = ok ? 'delivered' : retryAfter === undefined ? 'parked' : 'pending';
    await this.dataSource.query(
      `WITH settled AS (
         UPDATE webhook_deliveries
            SET state = $2, lease_until = NULL, last_status = $3, last_error = $4,
                delivered_at = CASE WHEN $2 = 'delivered' THEN now() END,
                next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $5) ELSE next_attempt_at END
          WHERE id = $1 AND attempts = $6
          RETURNING id
       )
       INSERT INTO webhook_attempts (delivery_id, attempt, status, error, duration_ms)
       SELECT id, $6, $3, $4, $7 FROM settled`,
      [c.id, state, outcome.status, outcome.error, retryAfter ?? 0, c.attempts, outcome.ms],
    );
    if (state === 'parked') this.log.warn(`webhook delivery ${c.id} parked after ${c.attempts} attempts`);
  }

  /** One POST, signed; redirects are not followed; the answer's body is read and dropped. */
  private send(c: Claimed): Promise<Outcome> {
    const started = Date.now();
    const timestamp = Math.floor(started / 1000);
    const done = (status: number | null, error: string | null): Outcome => ({
      status,
      error,
      ms: Date.now() - started,
    });
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(c.url);
      } catch {
        return resolve(done(null, 'the endpoint URL is not valid'));
      }
      const body = Buffer.from(c.payload);
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          lookup: guardedLookup(this.config.webhookAllowPrivate),
          headers: {
            'content-type': 'application/json',
            'content-length': String(body.length),
            'user-agent': 'Leeway-Webhooks/1',
            'webhook-id': c.event_id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature(c.secret, c.event_id, timestamp, c.payload),
          },
          timeout: this.config.webhookTimeoutSeconds * 1000,
        },
        (res) => {
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > MAX_RESPONSE_BYTES) res.destroy();
          });
          res.on('error', () => undefined);
          res.on('close', () => {
            const status = res.statusCode ?? null;
            const redirect = status !== null && status >= 300 && status < 400;
            resolve(
              done(
                status,
                status !== null && status >= 200 && status < 300
                  ? null
                  : redirect
                    ? `HTTP ${status}: redirects are not followed`
                    : `HTTP ${status}`,
              ),
            );
          });
        },
      );
      const deadline = setTimeout(() => req.destroy(new Error('timed out')), this.config.webhookTimeoutSeconds * 1000);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(deadline);
        resolve(done(null, error.code === 'ECONNREFUSED' ? 'connection refused' : error.message));
      });
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }
}
