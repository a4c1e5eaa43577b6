import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { TokensService } from './access/tokens.service';
import { SignInLinksService } from './sign-in/sign-in-links.service';
import { SiteUrl } from './sign-in/site-url';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/config';
import { resolveDatabase } from './database/database-url';
import { EmbeddedDatabase, freePortCheck } from './database/embedded-postgres';
import { runMigrations } from './database/migrate';

const SHUTDOWN_GRACE_MS = 25_000;

/** A cause the operator can fix, said in one line: exit 1 without a stack trace. */
function fail(message: string, error?: unknown): never {
  process.stderr.write(`Leeway failed to start: ${message}\n`);
  if (error instanceof Error && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createRootLogger(config.logLevel);
  // Refuse a taken port before touching the database, so nothing else is disturbed.
  const portProblem = await freePortCheck(config.host, config.port);
  if (portProblem) fail(portProblem);

  // Signals may come at any point of start-up: whatever was started by then is stopped again.
  let embedded: EmbeddedDatabase | null = null;
  let app: NestFastifyApplication | null = null;
  let starting: Promise<unknown> = Promise.resolve();
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await starting.catch(() => undefined);
      await app?.close();
      await embedded?.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  try {
    const resolving = resolveDatabase(config, (line) => logger.debug({ component: 'postgres' }, line));
    starting = resolving;
    const database = await resolving;
    embedded = database.embedded;
    if (closing) return;
    const ran = await runMigrations(database.migrationUrl);
    if (ran.length > 0) logger.debug({ migrations: ran }, 'migrations applied');

    const creating = createApp(config, database.url, logger);
    starting = creating;
    app = await creating;
    if (closing) return;
    const tokens = app.get(TokensService);
    const bootstrapped = config.bootstrapToken ? await tokens.bootstrap(config.bootstrapToken) : false;
    const adminExists = bootstrapped || (await tokens.adminExists());

    // Fastify announces its own "Server listening" line; the one line below says more.
    const fastifyLog = app.getHttpAdapter().getInstance().log;
    const level = fastifyLog.level;
    fastifyLog.level = 'warn';
    await app.listen({ port: config.port, host: config.host });
    fastifyLog.level = level;
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const site = app.get(SiteUrl);
    site.listeningOn(base);
    // On first start (nobody has ever held admin access) with no bootstrap token, a one-time link
    // makes its holder the first admin (as Jupyter prints its token URL): whoever can read this
    // process's output may administer it, so it is never printed again once an admin has existed.
    const firstAdmin = adminExists ? null : await app.get(SignInLinksService).issueFirstAdmin();
    const activeAdmin = adminExists || (!firstAdmin && (await tokens.adminExists()));
    const admin = bootstrapped
      ? ' An admin "bootstrap" was created from LEEWAY_BOOTSTRAP_TOKEN.'
      : firstAdmin
        ? ` No admin exists yet: open ${firstAdmin.url} within 24 hours to become the first admin (it works once).`
        : activeAdmin
          ? ''
          : ' No active admin exists, and one did before, so no first-admin link is offered: set LEEWAY_BOOTSTRAP_TOKEN to create an admin.';
    logger.info(
      {
        url: base,
        docs: `${base}/docs`,
        database: embedded ? (embedded.shared ? 'embedded, shared' : 'embedded') : 'external',
        migrationsApplied: ran.length,
        adminExists: activeAdmin,
      },
      `Leeway listening on ${base} (API docs at ${base}/docs).${admin}`,
    );
  } catch (error) {
    if (closing) return;
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    fail(describe(error), error);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
    return `cannot reach the database (${code}): check DATABASE_URL and that PostgreSQL is running`;
  if (code === '28P01' || code === '28000')
    return `the database refused the credentials in DATABASE_URL (${error.message})`;
  if (code === '3D000') return `${error.message}: create it, or fix the name in DATABASE_URL`;
  return error.message.split('\n')[0];
}

main().catch((error: unknown) => fail(describe(error), error));
