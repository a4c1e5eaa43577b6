// A PostgreSQL server the outage test can stop and start again: plain Node, run as its own process.
// usage: node test/support/pg-server.mjs <dataDir> <port>; prints {"url": …} once ready; SIGTERM stops it.
// PG_SETTINGS (JSON, e.g. {"deadlock_timeout":"60s"}) adds server settings.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const { startEmbeddedPostgres } = require(resolve(import.meta.dirname, '../../dist/src/database/embedded-postgres.js'));

const [dataDir, port] = process.argv.slice(2);
const settings = process.env.PG_SETTINGS ? JSON.parse(process.env.PG_SETTINGS) : {};
const db = await startEmbeddedPostgres(dataDir, () => undefined, { port: Number(port), settings });
process.stdout.write(`${JSON.stringify({ url: db.url })}\n`);
const stop = async () => {
  await db.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
setInterval(() => undefined, 1 << 30);
