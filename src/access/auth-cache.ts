import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import { DATABASE_LISTEN_URL } from '../database/database-url';
import { MetricsService } from '../metrics/metrics.service';
import { Principal } from './principal';

const CHANNEL = 'leeway_auth';
const MAX_ENTRIES = 10_000;
/** How often the listener proves it still hears: a NOTIFY sent through the pool must come back. */
const HEARTBEAT_MS = 5_000;
/**
 * The longest any process serves a cached caller after a change committed elsewhere: normally it
 * hears the NOTIFY within milliseconds; a process whose listener has stopped hearing stops trusting
 * its cache this long after the last heartbeat it heard.
 */
export const CACHE_TRUST_MS = 2 * HEARTBEAT_MS + 1_000;
/** Entries are dropped after this long whatever happens: a bound on staleness should every other safeguard fail. */
const ENTRY_TTL_MS = 60_000;
const RECONNECT_MAX_MS = 10_000;

interface Entry {
  principal: Principal;
  expiresAt: number | null;
  cachedAt: number;
}

/**
 * Callers by token hash, so that a request needs no database query to authenticate. Trusted only
 * while this process hears PostgreSQL's NOTIFY on `leeway_auth`, which a trigger sends on commit of
 * any change to what authentication reads (migration 1765000000000): every such change empties the
 * cache of every process at once. The listener proves it hears with a heartbeat sent through the
 * service's own pool; while that fails (database away, a pooler dropping notifications), the cache
 * stands aside and every request reads the database, as it would without it.
 */
@Injectable()
export class AuthCache implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(AuthCache.name);
  private readonly entries = new Map<string, Entry>();
  /** Bumped on every change heard: a lookup that began before a change is not cached after it. */
  private generation = 0;
  private client: Client | null = null;
  private listening = false;
  /** The heartbeat last heard; the cache is trusted only while it is recent. */
  private heardAt = 0;
  private pendingPing: string | null = null;
  /** Waiting `changed()` calls, by the payload of the ping each sent. */
  private readonly waiting = new Map<string, () => void>();
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private reconnectDelay = 500;
  private stopped = false;
  private warnedDeaf = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(DATABASE_LISTEN_URL) private readonly url: string,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
    this.heartbeat = setInterval(() => void this.ping(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnect) clearTimeout(this.reconnect);
    this.drop();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** True while a change anywhere would reach this process: only then may a cached caller be served. */
  get trusted(): boolean {
    return this.listening && Date.now() - this.heardAt < CACHE_TRUST_MS;
  }

  /** The generation to hand back to `put`, taken before reading the database. */
  begin(): number {
    return this.generation;
  }

  get(hash: string): Principal | null {
    if (!this.trusted) {
      this.metrics?.authLookup('off');
      return null;
    }
    const entry = this.entries.get(hash);
    const now = Date.now();
    if (!entry || now - entry.cachedAt > ENTRY_TTL_MS || (entry.expiresAt !== null && entry.expiresAt <= now)) {
      if (entry) this.entries.delete(hash);
      this.metrics?.authLookup('miss');
      return null;
    }
    this.metrics?.authLookup('hit');
    return entry.principal;
  }

  /** Remembers a caller read from the database, unless a change was heard since `generation`. */
  put(hash: string, principal: Principal, expiresAt: Date | null, generation: number): void {
    if (!this.trusted || generation !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, {
      principal: Object.freeze(principal),
      expiresAt: expiresAt?.getTime() ?? null,
      cachedAt: Date.now(),
    });
  }

  /**
   * Called by this process after it commits a change to what authentication reads: empties this
   * process's cache at once, then waits (at most a second) until a ping sent after the change comes
   * back through the listener. PostgreSQL delivers notifications in commit order, so by then this
   * process has heard the change's own notification, as every other listening process has been
   * sent it: the caller that made the change is answered only once the change is everywhere.
   */
  async changed(): Promise<void> {
    this.drop();
    // Not hearing (database away, a pooler dropping notifications): this process cannot tell when
    // the others have heard, and waiting would only delay the answer. They are told all the same.
    if (!this.trusted) return;
    const payload = `ping ${randomUUID()}`;
    const heard = new Promise<void>((done) => {
      const timer = setTimeout(() => {
        this.waiting.delete(payload);
        done();
      }, 1_000);
      timer.unref();
      this.waiting.set(payload, () => {
        clearTimeout(timer);
        done();
      });
    });
    await this.dataSource.query(`SELECT pg_notify($1, $2)`, [CHANNEL, payload]).catch(() => undefined);
    await heard;
  }

  /** Empties the cache: on every change heard, and whenever this process may have missed one. */
  private drop(): void {
    this.generation++;
    this.entries.clear();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 3000 });
    client.on('notification', (n) => this.heard(n));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      // Whatever changed before this moment went unheard: nothing read earlier may be kept, and
      // trust waits for a heartbeat through the new connection.
      this.drop();
      this.heardAt = 0;
      this.listening = true;
      this.reconnectDelay = 500;
      // Trusted once the first heartbeat comes back, not before.
      await this.ping();
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private heard(n: Notification): void {
    if (n.channel !== CHANNEL) return;
    if (n.payload && n.payload === this.pendingPing) {
      this.pendingPing = null;
      this.heardAt = Date.now();
      this.warnedDeaf = false;
      return;
    }
    const waiter = n.payload ? this.waiting.get(n.payload) : undefined;
    if (waiter) {
      this.waiting.delete(n.payload!);
      waiter();
      return;
    }
    if (n.payload?.startsWith('ping ')) return;
    this.drop();
  }

  /** A NOTIFY through the service's pool, as a change would travel; `heard` marks it received. */
  private async ping(): Promise<void> {
    if (!this.listening) return;
    if (this.pendingPing !== null && !this.trusted) {
      this.drop();
      if (!this.warnedDeaf) {
        this.warnedDeaf = true;
        this.log.warn(
          'The caller cache stands aside: notifications from PostgreSQL do not come back (database away, or a ' +
            'pooler in transaction mode: set DATABASE_DIRECT_URL). Every request reads the database meanwhile.',
        );
      }
    }
    const payload = `ping ${randomUUID()}`;
    this.pendingPing = payload;
    await this.dataSource.query(`SELECT pg_notify($1, $2)`, [CHANNEL, payload]).catch(() => undefined);
  }

  private lost(client: Client, error?: Error): void {
    if (client !== this.client) return;
    this.listening = false;
    this.client = null;
    this.drop();
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    if (error) this.log.warn(`The caller cache is off until PostgreSQL is heard again: ${error.message}`);
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnect = setTimeout(() => void this.connect(), delay);
    this.reconnect.unref();
  }
}
