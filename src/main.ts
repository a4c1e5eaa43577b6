import 'reflect-metadata';
import { createApp } from './app.factory';
import { TokensService } from './access/tokens.service';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/config';
import { resolveDatabase } from './database/database-url';
import { runMigrations } from './database/migrate';

const SHUTDOWN_GRACE_MS = 25_000;

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
  const { url, embedded } = await resolveDatabase(config, (line) => logger.debug({ component: 'postgres' }, line));
  const ran = await runMigrations(url);
  if (ran.length > 0) logger.info({ migrations: ran }, 'migrations applied');

  const app = await createApp(config, url, logger);
  if (config.bootstrapToken) {
    const created = await app.get(TokensService).bootstrap(config.bootstrapToken);
    if (created) logger.info('bootstrap admin created from LEEWAY_BOOTSTRAP_TOKEN');
  }

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
      await app.close();
      if (embedded) await embedded.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    { url: base, docs: `${base}/docs`, database: embedded ? 'embedded' : 'external' },
    `Leeway listening on ${base} (API docs at ${base}/docs)`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Leeway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
