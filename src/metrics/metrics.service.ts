import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** The pg pool TypeORM's PostgreSQL driver keeps as `master`. */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Everything /metrics exposes. Labels are limited to bounded, non-personal values (route templates,
 * status codes, outcomes): never an agent, team, role, currency or a raw URL. No amount is exposed:
 * a live spend counter read before and after one credit is that credit, and a currency used by one
 * agent is that agent's spend (reports read closed-month releases only). Each application has its
 * own registry, so several apps in one process (the tests) do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'leeway_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'leeway_http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  // Counts over all currencies only: a count per currency, in a currency one agent uses, is that agent's.
  private readonly credits = new Counter({
    name: 'leeway_credits_logged_total',
    help: 'Credits logged (committed; idempotent replays not counted), over all currencies',
    registers: [this.registry],
  });

  private readonly reversals = new Counter({
    name: 'leeway_credit_reversals_total',
    help: 'Credit reversals committed, over all currencies',
    registers: [this.registry],
  });

  private readonly releaseJobs = new Counter({
    name: 'leeway_release_jobs_total',
    help: 'Month release runs, by trigger (background or a report) and outcome (released, already, error)',
    labelNames: ['trigger', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly releaseDuration = new Histogram({
    name: 'leeway_release_duration_seconds',
    help: 'Time to compute and store one month release',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120],
    registers: [this.registry],
  });

  private readonly authLookups = new Counter({
    name: 'leeway_auth_cache_lookups_total',
    help: 'Bearer tokens authenticated, by how: hit (from the caller cache), miss (read from the database), off (cache standing aside)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'leeway_' });
    const pool = () => (dataSource.driver as unknown as { master?: PgPool }).master;
    const poolGauge = (name: string, help: string, read: (p: PgPool) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          this.set(p ? read(p) : 0);
        },
      });
    poolGauge('leeway_db_pool_connections', 'Connections the database pool holds open', (p) => p.totalCount);
    poolGauge('leeway_db_pool_idle_connections', 'Pool connections open and idle', (p) => p.idleCount);
    poolGauge('leeway_db_pool_waiting_requests', 'Queries waiting for a pool connection', (p) => p.waitingCount);
  }

  /** One answered request. `route` is the router's template (`/v1/credits/:id`), never the URL. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = {
      method: HTTP_METHODS.has(method) ? method : 'OTHER',
      route: route ?? 'unmatched',
      status: String(status),
    };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  creditLogged(): void {
    this.credits.inc();
  }

  creditReversed(): void {
    this.reversals.inc();
  }

  releaseJob(trigger: 'background' | 'report', outcome: 'released' | 'already' | 'error', seconds: number): void {
    this.releaseJobs.inc({ trigger, outcome });
    if (outcome === 'released') this.releaseDuration.observe(seconds);
  }

  authLookup(result: 'hit' | 'miss' | 'off'): void {
    this.authLookups.inc({ result });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
