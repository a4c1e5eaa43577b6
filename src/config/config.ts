import { AGENT_SAMPLE } from '../reports/rollups';

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  bootstrapToken?: string;
  timezone: string;
  minCohort: number;
  reversalWindowHours: number;
  logLevel: string;
  dbPoolSize: number;
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the whole configuration once; throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    databaseUrl: databaseUrl(env, 'DATABASE_URL'),
    dataDir: env.LEEWAY_DATA_DIR?.trim() || '.leeway',
    bootstrapToken: bootstrapToken(env),
    timezone: timezone(env),
    minCohort: integer(env, 'LEEWAY_MIN_COHORT', 5, 3, AGENT_SAMPLE),
    reversalWindowHours: integer(env, 'LEEWAY_REVERSAL_WINDOW_HOURS', 72, 0, 24 * 365),
    logLevel,
    dbPoolSize: integer(env, 'LEEWAY_DB_POOL_SIZE', 20, 1, 500),
  };
}
