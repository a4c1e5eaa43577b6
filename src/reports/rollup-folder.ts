import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { FOLD_BATCH, foldPending } from './rollups';

/** How often queued credit changes are folded into the report rollups in the background. */
export const FOLD_INTERVAL_MS = 1000;
/** While folds keep failing (database away), say so at most this often. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Moves committed credit changes from the report queue into the rollups: every second in the
 * background, and on demand before a report reads, so a report always includes every credit
 * committed before it was asked for. Several service instances may run this at once; the folds take
 * turns on a database lock.
 */
@Injectable()
export class RollupFolder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RollupFolder');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private failingSince?: number;
  private lastFailureLog = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), FOLD_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // Let a fold in progress finish; what is still queued stays queued for the next start.
    await this.running;
  }

  /** Folds everything queued so far, waiting for a fold already running. Before every report. */
  async foldAll(): Promise<void> {
    await this.timed('report', async () => {
      let total = 0;
      for (;;) {
        const folded = await this.dataSource.transaction((m) => foldPending(m, { wait: true }));
        total += folded ?? 0;
        if ((folded ?? 0) < FOLD_BATCH) return total;
      }
    });
  }

  /** Runs one fold job and reports its outcome, duration and folded changes to /metrics. */
  private async timed(trigger: 'background' | 'report', job: () => Promise<number>): Promise<void> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const folded = await job();
      this.metrics.reportJob(trigger, 'ok', seconds(), folded);
    } catch (error) {
      this.metrics.reportJob(trigger, 'error', seconds(), 0);
      throw error;
    }
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.backgroundFold().finally(() => (this.running = undefined));
    await this.running;
  }

  private async backgroundFold(): Promise<void> {
    try {
      // Gives way when another fold (a report's, or another instance's) holds the lock.
      await this.timed('background', async () => {
        let folded: number | null;
        let total = 0;
        do {
          folded = await this.dataSource.transaction((m) => foldPending(m, { wait: false }));
          total += folded ?? 0;
        } while (folded === FOLD_BATCH && this.timer);
        return total;
      });
      if (this.failingSince !== undefined) {
        this.logger.log(`report rollups folding again after ${Date.now() - this.failingSince} ms`);
        this.failingSince = undefined;
      }
    } catch (error) {
      const now = Date.now();
      this.failingSince ??= now;
      if (now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
        this.lastFailureLog = now;
        this.logger.warn(
          `could not fold queued credits into the report rollups (they stay queued; retrying every ${FOLD_INTERVAL_MS} ms): ${(error as Error).message}`,
        );
      }
    }
  }
}
