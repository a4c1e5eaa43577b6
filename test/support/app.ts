import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { AuthCache } from '../../src/access/auth-cache';
import { TokensService } from '../../src/access/tokens.service';
import { SiteUrl } from '../../src/sign-in/site-url';
import { AppConfig, loadConfig } from '../../src/config/config';
import { createTestDatabase, TestDatabase } from './database';
import { ContractChecker, OpenApiDocument } from './openapi-contract';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
}

export interface InjectOptions {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  remoteAddress?: string;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * The real application on a fresh database, driven in-process through Fastify's inject. Every
 * response is checked against the application's OpenAPI document (see ContractChecker).
 */
export class TestApp {
  private contract?: ContractChecker;

  private constructor(
    readonly app: NestFastifyApplication,
    readonly db: TestDatabase,
    readonly config: AppConfig,
  ) {}

  static async start(overrides: Partial<AppConfig> = {}, env: Record<string, string> = {}): Promise<TestApp> {
    const db = await createTestDatabase();
    const config = { ...loadConfig({ ...env }), ...overrides };
    const app = await createApp(config, db.url, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.get(TokensService).bootstrap(ADMIN_TOKEN);
    app.get(SiteUrl).listeningOn('http://localhost');
    return new TestApp(app, db, config);
  }

  /** Listens on a free local port (for browsers and HTTP clients); links and redirects use it. */
  async listen(port = 0): Promise<string> {
    await this.app.listen({ port, host: '127.0.0.1' });
    const address = this.app.getHttpServer().address() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;
    this.app.get(SiteUrl).listeningOn(base);
    return base;
  }

  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }

  async request(method: string, url: string, opts: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (opts.rawBody !== undefined) {
      payload = opts.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await this.inject({ method, url, headers, payload });
    let body: unknown = undefined;
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json') && res.body.length > 0) body = JSON.parse(res.body);
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
  }

  /** A raw request through Fastify's inject, its response checked against the OpenAPI document. */
  async inject(options: InjectOptions) {
    const fastify = this.app.getHttpAdapter().getInstance();
    const res = await fastify.inject({ ...options, method: options.method as 'GET' });
    if (!this.contract) {
      const doc = await fastify.inject({ method: 'GET', url: '/docs-json' });
      this.contract = new ContractChecker(JSON.parse(doc.body) as OpenApiDocument);
    }
    this.contract.check({
      method: options.method,
      url: options.url,
      status: res.statusCode,
      contentType: String(res.headers['content-type'] ?? ''),
      body: res.body,
    });
    return res;
  }

  as(token: string | null) {
    return {
      get: (url: string, o: RequestOptions = {}) => this.request('GET', url, { ...o, token }),
      post: (url: string, body?: unknown, o: RequestOptions = {}) => this.request('POST', url, { ...o, body, token }),
      put: (url: string, body?: unknown, o: RequestOptions = {}) => this.request('PUT', url, { ...o, body, token }),
      patch: (url: string, body?: unknown, o: RequestOptions = {}) => this.request('PATCH', url, { ...o, body, token }),
      delete: (url: string, o: RequestOptions = {}) => this.request('DELETE', url, { ...o, token }),
    };
  }

  /**
   * Runs SQL directly, as another program would. A write to tokens or users reaches the service's
   * caller cache by NOTIFY within milliseconds; here the next request waits until it has (see
   * AuthCache.changed), so a test can go straight on.
   */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const rows: T[] = await this.dataSource.query(sql, params);
    if (/\b(UPDATE|DELETE FROM|TRUNCATE)\s+(TABLE\s+)?(tokens|users)\b/i.test(sql))
      await this.app.get(AuthCache).changed();
    return rows;
  }

  /**
   * A digest of every row of every table (count and md5 per table): any insert, update or delete
   * by a request changes it.
   */
  async tableDigests(skip: string[] = []): Promise<Record<string, string>> {
    const tables = await this.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const result: Record<string, string> = {};
    for (const { name } of tables) {
      if (skip.includes(name)) continue;
      const { rows, digest } = await this.tableDigest(name);
      result[name] = `${rows}:${digest ?? ''}`;
    }
    return result;
  }

  /** How many rows one table holds and an md5 of all of them (null when empty). */
  async tableDigest(table: string): Promise<{ rows: number; digest: string | null }> {
    const [row] = await this.query<{ rows: number; digest: string | null }>(
      // last_used_at is written from memory every 30 seconds, whatever the request under test did.
      `SELECT count(*)::int AS rows, md5(string_agg(y, '|' ORDER BY y)) AS digest
         FROM (SELECT (to_jsonb(x) - 'last_used_at')::text AS y FROM "${table}" x) z`,
    );
    return row;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.db.drop();
  }
}
