import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

const FLUSH_MS = 30_000;

export type TokenTable = 'tokens' | 'provisioning_tokens';

/**
 * When each token was last used, kept without a write per request: uses are remembered here and
 * written in one statement per table every 30 seconds (and at shutdown). `lastUsedAt` is therefore
 * at most that much behind, in every list that shows it.
 */
@Injectable()
export class TokenUsage implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(TokenUsage.name);
  private readonly pending: Record<TokenTable, Map<string, Date>> = {
    tokens: new Map(),
    provisioning_tokens: new Map(),
  };
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.flush().catch((e: Error) => this.log.warn(`lastUsedAt: ${e.message}`)),
      FLUSH_MS,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush().catch((e: Error) => this.log.warn(`lastUsedAt at shutdown: ${e.message}`));
  }

  used(table: TokenTable, id: string): void {
    this.pending[table].set(id, new Date());
  }

  /** A use this process has seen but not yet written (so a list read here is never behind). */
  pendingFor(table: TokenTable, id: string): Date | undefined {
    return this.pending[table].get(id);
  }

  async flush(): Promise<void> {
    for (const table of Object.keys(this.pending) as TokenTable[]) {
      const batch = this.pending[table];
      if (batch.size === 0) continue;
      this.pending[table] = new Map();
      try {
        await this.dataSource.query(
          `UPDATE ${table} t SET last_used_at = greatest(t.last_used_at, u.at)
             FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE t.id = u.id`,
          [[...batch.keys()], [...batch.values()]],
        );
      } catch (error) {
        // Keep them for the next round, unless newer uses arrived meanwhile.
        for (const [id, at] of batch) if (!this.pending[table].has(id)) this.pending[table].set(id, at);
        throw error;
      }
    }
  }
}
