import type { components } from './schema.gen';

/** The service's own schemas, generated from its OpenAPI document at build time. */
export type Schemas = components['schemas'];

/** Money and count fields arrive as JSON integers; money is read from the source text as bigint. */
const MONEY_KEYS = new Set([
  'amount',
  'withinDiscretion',
  'overrun',
  'perCredit',
  'perCase',
  'perAgentDay',
  'perAgentMonth',
  'available',
  'case',
  'day',
  'month',
  'balance',
  'debits',
  'net',
  'p50',
  'p90',
  'p95',
  'p99',
  'suggestedPerCredit',
  'from',
  'to',
]);

/** A JSON reader that keeps money exact: integers under money keys become bigint from their digits. */
export function parseJson(text: string): unknown {
  return JSON.parse(text, function (this: Record<string, unknown>, key, value, context?: { source?: string }) {
    // `credits` is a count in reports and an amount in the journal (rows that name an account).
    const money = MONEY_KEYS.has(key) || (key === 'credits' && 'account' in this);
    if (typeof value === 'number' && money && context?.source && /^-?\d+$/.test(context.source))
      return BigInt(context.source);
    return value;
  });
}

/** A JSON writer that puts bigint on the wire as a bare integer. */
export function toJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_key, v) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly fields: Array<{ field: string; message: string }> = [],
    /** The problem's type: its last segment names it ("idempotency-key-in-flight"). */
    readonly type = '',
  ) {
    super(detail);
  }

  /** Whether the answer leaves open whether a write happened (a retry with the same key settles it). */
  get unsettled(): boolean {
    return (
      this.status === 408 ||
      this.status === 429 ||
      this.status >= 500 ||
      (this.status === 409 && this.type.endsWith('/idempotency-key-in-flight'))
    );
  }
}

/** How long a write may wait for its answer before the app treats it as lost (and may retry it). */
export const ANSWER_TIMEOUT_MS = 15_000;

/** The request never got an answer (network down, connection cut): it may or may not have happened. */
export class NetworkError extends Error {
  /** No answer within the time a write may wait (rather than a connection that failed). */
  get timedOut(): boolean {
    return this.name === 'TimeoutError';
  }
}

export interface ApiOptions {
  token: string | null;
  onUnauthenticated: () => void;
}

export class Api {
  constructor(private readonly options: ApiOptions) {}

  get<T>(path: string): Promise<T> {
    return this.send<T>('GET', path);
  }

  post<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.send<T>('POST', path, body, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PATCH', path, body);
  }

  delete(path: string): Promise<void> {
    return this.send<void>('DELETE', path);
  }

  /** A CSV answer, as a file the browser saves. */
  async download(path: string, filename: string): Promise<void> {
    // A long report may take its time to stream: no answer timeout here.
    const res = await this.fetch('GET', path, undefined, { accept: 'text/csv' }, null);
    if (!res.ok) throw await this.error(res);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async send<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    // A write the person waits on gives up after ANSWER_TIMEOUT_MS (its retry replays it safely); a
    // read may take longer, as the first report after a month closes does while it is released.
    const res = await this.fetch(method, path, body, headers, method === 'GET' ? null : ANSWER_TIMEOUT_MS);
    if (!res.ok) throw await this.error(res);
    if (res.status === 204) return undefined as T;
    return parseJson(await res.text()) as T;
  }

  private async fetch(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    timeout: number | null = ANSWER_TIMEOUT_MS,
  ) {
    try {
      return await fetch(path, {
        method,
        headers: {
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? toJson(body) : undefined,
        signal: timeout === null ? undefined : AbortSignal.timeout(timeout),
      });
    } catch (error) {
      const lost = new NetworkError((error as Error).message);
      lost.name = (error as Error).name === 'TimeoutError' ? 'TimeoutError' : 'NetworkError';
      throw lost;
    }
  }

  private async error(res: Response): Promise<ApiError> {
    if (res.status === 401) this.options.onUnauthenticated();
    try {
      const problem = (await res.json()) as {
        type?: string;
        detail?: string;
        errors?: Array<{ field: string; message: string }>;
      };
      return new ApiError(res.status, problem.detail ?? res.statusText, problem.errors ?? [], problem.type ?? '');
    } catch {
      return new ApiError(res.status, res.statusText);
    }
  }
}
