import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { TokensService } from '../../src/access/tokens.service';
import { AppConfig, loadConfig } from '../../src/config/config';
import { createTestDatabase, TestDatabase } from './database';

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

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** The real application on a fresh database, driven in-process through Fastify's inject. */
export class TestApp {
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
    return new TestApp(app, db, config);
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
    const res = await this.app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: method as 'GET', url, headers, payload });
    let body: unknown = undefined;
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json') && res.body.length > 0) body = JSON.parse(res.body);
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
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

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.dataSource.query(sql, params);
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.db.drop();
  }
}
