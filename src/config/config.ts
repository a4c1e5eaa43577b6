import { isIP } from 'node:net';

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  bootstrapToken?: string;
  timezone: string;
  minCohort: number;
  /** The p% rule: what a block's other agents must add up to, as a share of its largest. */
  dominancePercent: number;
  /** How long after a month ends before it may close (beyond waiting for older transactions). */
  releaseGraceSeconds: number;
  reversalWindowHours: number;
  logLevel: string;
  dbPoolSize: number;
  /** Fastify's trustProxy: false, true, a hop count, or the proxies' addresses and CIDRs. */
  trustProxy: boolean | number | string[];
  /** CSP frame-ancestors sources: ["'none'"] or origins allowed to frame the app. */
  frameAncestors: string[];
  /** Bearer token /metrics asks for; unset = /metrics is open. */
  metricsToken?: string;
  /** A direct (not pooled) PostgreSQL URL for migrations; unset = migrations use databaseUrl. */
  databaseDirectUrl?: string;
  /** Where people reach the service (redirects, printed links); unset = the address it listens on. */
  publicUrl?: string;
  /** OpenID Connect sign-in for people; unset = sign-in links only. */
  oidc?: OidcConfig;
  /**
   * Whether admins may issue sign-in links (`on`), or only the first-admin link at first start works
   * (`first-admin-only`, the default with an identity provider: people sign in through it).
   */
  signInLinks: 'on' | 'first-admin-only';
  /** How long a session from signing in lasts. */
  sessionHours: number;
  /** Which SCIM attribute becomes a provisioned user's externalRef (what sign-in matches). */
  scimUserRef: 'userName' | 'externalId';
  /** Webhook endpoints may point at loopback, private and link-local addresses (on-premises receivers, tests). */
  webhookAllowPrivate: boolean;
  /** How long a webhook receiver has to answer one delivery. */
  webhookTimeoutSeconds: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /**
   * The claim matched to a user's externalRef: `sub` (default), `email` (verified addresses only) or
   * another the provider issues, such as Entra ID's `oid`.
   */
  claim: string;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function timezone(env: Env): string {
  const raw = env.LEEWAY_TIMEZONE?.trim() || 'UTC';
  try {
    // Intl throws a RangeError for names it does not know.
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError('LEEWAY_TIMEZONE', `must be an IANA time zone such as Europe/Berlin, got "${raw}"`);
  }
  return raw;
}

function databaseUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a URL such as postgres://user:pass@host:5432/db');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must use the postgres:// scheme, got "${url.protocol}"`);
  }
  return raw;
}

function bootstrapToken(env: Env): string | undefined {
  const raw = env.LEEWAY_BOOTSTRAP_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || raw.length > 512 || /\s/.test(raw)) {
    throw new ConfigError('LEEWAY_BOOTSTRAP_TOKEN', 'must be 16 to 512 characters without spaces');
  }
  return raw;
}

function trustProxy(env: Env): boolean | number | string[] {
  const raw = env.LEEWAY_TRUST_PROXY?.trim() ?? '';
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10) throw new ConfigError('LEEWAY_TRUST_PROXY', `hop count must be 1 to 10, got ${hops}`);
    return hops;
  }
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError(
        'LEEWAY_TRUST_PROXY',
        `must be false, true, a hop count or a comma list of proxy addresses/CIDRs (10.0.0.0/8), got "${entry}"`,
      );
    }
  }
  return entries;
}

const FRAME_SOURCE = /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/;

function frameAncestors(env: Env): string[] {
  const raw = env.LEEWAY_FRAME_ANCESTORS?.trim() ?? '';
  const entries = raw.split(/[\s,]+/).filter((s) => s !== '');
  if (entries.length === 0 || (entries.length === 1 && /^'?none'?$/.test(entries[0]))) return ["'none'"];
  return entries.map((entry) => {
    if (/^'?self'?$/.test(entry)) return "'self'";
    const origin = entry.toLowerCase().replace(/\/$/, '');
    if (!FRAME_SOURCE.test(origin)) {
      throw new ConfigError(
        'LEEWAY_FRAME_ANCESTORS',
        `must be 'none', 'self' or origins such as https://helpdesk.example.com (no path), got "${entry}"`,
      );
    }
    return origin;
  });
}

function metricsToken(env: Env): string | undefined {
  const raw = env.LEEWAY_METRICS_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || raw.length > 512 || /\s/.test(raw)) {
    throw new ConfigError('LEEWAY_METRICS_TOKEN', 'must be 16 to 512 characters without spaces');
  }
  return raw;
}

/** Only meaningful next to DATABASE_URL: without it the embedded PostgreSQL is used, pooler-free. */
function databaseDirectUrl(env: Env): string | undefined {
  const direct = databaseUrl(env, 'DATABASE_DIRECT_URL');
  if (direct && !env.DATABASE_URL?.trim()) {
    throw new ConfigError(
      'DATABASE_DIRECT_URL',
      'is set without DATABASE_URL: set both, or neither for the embedded PostgreSQL',
    );
  }
  return direct;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function httpUrl(name: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL such as https://leeway.example.com, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname))) {
    throw new ConfigError(name, `must use https:// (http:// only for localhost), got "${raw}"`);
  }
  if (url.search || url.hash) throw new ConfigError(name, `must not carry a query or fragment, got "${raw}"`);
  return url;
}

function publicUrl(env: Env): string | undefined {
  const raw = env.LEEWAY_PUBLIC_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('LEEWAY_PUBLIC_URL', `must be an absolute http(s) URL, got "${raw}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) {
    throw new ConfigError('LEEWAY_PUBLIC_URL', `must be an http(s) URL without query or fragment, got "${raw}"`);
  }
  return url.href.replace(/\/$/, '');
}

/** A claim's name: what providers use (`sub`, `oid`, `preferred_username`, `urn:…:employee_id`), nothing that needs escaping. */
const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

function oidc(env: Env): OidcConfig | undefined {
  const issuer = env.LEEWAY_OIDC_ISSUER?.trim();
  const clientId = env.LEEWAY_OIDC_CLIENT_ID?.trim();
  const clientSecret = env.LEEWAY_OIDC_CLIENT_SECRET?.trim() || undefined;
  const claim = env.LEEWAY_OIDC_CLAIM?.trim() || 'sub';
  if (!issuer) {
    for (const name of ['LEEWAY_OIDC_CLIENT_ID', 'LEEWAY_OIDC_CLIENT_SECRET', 'LEEWAY_OIDC_CLAIM'])
      if (env[name]?.trim()) throw new ConfigError(name, 'is set without LEEWAY_OIDC_ISSUER');
    return undefined;
  }
  httpUrl('LEEWAY_OIDC_ISSUER', issuer);
  if (!clientId) throw new ConfigError('LEEWAY_OIDC_CLIENT_ID', 'is required with LEEWAY_OIDC_ISSUER');
  if (!CLAIM_NAME.test(claim))
    throw new ConfigError(
      'LEEWAY_OIDC_CLAIM',
      `must be a claim name (a letter or _, then letters, digits, _ . : -; at most 64), such as sub, email or oid; got "${claim}"`,
    );
  return { issuer: issuer.replace(/\/$/, ''), clientId, clientSecret, claim };
}

function signInLinks(env: Env, identityProvider: boolean): 'on' | 'first-admin-only' {
  const raw = env.LEEWAY_SIGN_IN_LINKS?.trim() || (identityProvider ? 'first-admin-only' : 'on');
  if (raw !== 'on' && raw !== 'first-admin-only')
    throw new ConfigError('LEEWAY_SIGN_IN_LINKS', `must be on or first-admin-only, got "${raw}"`);
  return raw;
}

function scimUserRef(env: Env): 'userName' | 'externalId' {
  const raw = env.LEEWAY_SCIM_USER_REF?.trim() || 'userName';
  if (raw !== 'userName' && raw !== 'externalId')
    throw new ConfigError('LEEWAY_SCIM_USER_REF', `must be userName or externalId, got "${raw}"`);
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the whole configuration once; throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const identityProvider = oidc(env);
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    databaseUrl: databaseUrl(env, 'DATABASE_URL'),
    dataDir: env.LEEWAY_DATA_DIR?.trim() || '.leeway',
    bootstrapToken: bootstrapToken(env),
    timezone: timezone(env),
    minCohort: integer(env, 'LEEWAY_MIN_COHORT', 5, 3, 1000),
    dominancePercent: integer(env, 'LEEWAY_DOMINANCE_PERCENT', 10, 1, 100),
    releaseGraceSeconds: integer(env, 'LEEWAY_RELEASE_GRACE_SECONDS', 120, 1, 86_400),
    reversalWindowHours: integer(env, 'LEEWAY_REVERSAL_WINDOW_HOURS', 72, 0, 24 * 365),
    logLevel,
    dbPoolSize: integer(env, 'LEEWAY_DB_POOL_SIZE', 20, 1, 500),
    trustProxy: trustProxy(env),
    frameAncestors: frameAncestors(env),
    metricsToken: metricsToken(env),
    databaseDirectUrl: databaseDirectUrl(env),
    publicUrl: publicUrl(env),
    oidc: identityProvider,
    signInLinks: signInLinks(env, identityProvider !== undefined),
    sessionHours: integer(env, 'LEEWAY_SESSION_HOURS', 12, 1, 24 * 30),
    scimUserRef: scimUserRef(env),
    webhookAllowPrivate: flag(env, 'LEEWAY_WEBHOOK_ALLOW_PRIVATE'),
    webhookTimeoutSeconds: integer(env, 'LEEWAY_WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60),
  };
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim() ?? '';
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}
