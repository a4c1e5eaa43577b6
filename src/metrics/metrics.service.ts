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
 * status codes, currencies, outcomes): never an agent, team, role or a raw URL. Each application
 * has its own registry, so several apps in one process (the tests) do not collide.
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

  private readonly credits = new Counter({
    name: 'leeway_credits_logged_total',
    help: 'Credits logged (committed; idempotent replays not counted), by currency',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  private readonly creditAmount = new Counter({
    name: 'leeway_credit_amount_minor_units_total',
    help: 'Sum of logged credit amounts in minor units, by currency',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  private readonly reversals = new Counter({
    name: 'leeway_credit_reversals_total',
    help: 'Credit reversals committed, by currency',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  private readonly reversedAmount = new Counter({
    name: 'leeway_reversed_amount_minor_units_total',
    help: 'Sum of reversed credit amounts in minor units, by currency',
    labelNames: ['currency'] as const,
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

  // Prometheus samples are doubles: Number() here only loses precision beyond 2^53 minor units.
  creditLogged(currency: string, amount: bigint | number): void {
    this.credits.inc({ currency });
    this.creditAmount.inc({ currency }, Number(amount));
  }

  creditReversed(currency: string, amount: bigint | number | string): void {
    this.reversals.inc({ currency });
    this.reversedAmount.inc({ currency }, Number(amount));
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
