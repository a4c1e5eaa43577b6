import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

export function createRootLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'leeway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Tokens must never reach the logs, wherever a header object ends up.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', '*.token', 'token'],
      censor: '[redacted]',
    },
    serializers: {
      // What a request log line says of the request: an identity provider's answer carries a
      // one-time code and state in its query, which never reach the log.
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: typeof req.url === 'string' ? redactQuery(req.url) : req.url,
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  });
}

const SECRET_PARAMS = /([?&](?:code|state|session_state|id_token|access_token)=)[^&#]*/gi;

/** The URL with the values of sign-in secrets replaced, for logs. */
export function redactQuery(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/** Routes Nest's own log lines through the same JSON logger as the request logs. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  // Nest's own `log` lines are route tables and module start-up: debug, so production starts with one line.
  log(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]) {
    // Nest passes the context name last.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message && typeof message === 'object') {
      this.root[level]({ context, ...(message as object) });
    } else {
      this.root[level]({ context }, String(message));
    }
  }
}
