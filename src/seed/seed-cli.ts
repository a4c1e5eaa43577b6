import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config';
import { createDataSource } from '../database/data-source';
import { resolveDatabase } from '../database/database-url';
import { runMigrations } from '../database/migrate';
import { checkInvariants } from '../ledger/invariants';
import { ReleasesService } from '../reports/releases.service';
import { seed } from './seed';

const USAGE = 'usage: npm run seed -- [--credits N] [--agents M] [--days D]   (defaults 20000, 100, 90)';

function positive(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`--${name} must be a whole number from 1 to ${max}\n${USAGE}`);
  return n;
}

/** `npm run seed`: a synthetic history in the configured database (embedded unless DATABASE_URL). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { credits: { type: 'string' }, agents: { type: 'string' }, days: { type: 'string' } },
    strict: true,
  });
  const opts = {
    credits: positive('credits', values.credits, 20_000, 100_000_000),
    agents: positive('agents', values.agents, 100, 1_000_000),
    days: positive('days', values.days, 90, 3650),
  };
  const config = loadConfig();
  const { url, migrationUrl, embedded } = await resolveDatabase(config, () => undefined);
  const ds = createDataSource(url, { poolSize: 2, applicationName: 'leeway-seed', longRunning: true });
  try {
    await runMigrations(migrationUrl);
    await ds.initialize();
    const q = ds.createQueryRunner();
    const started = Date.now();
    const summary = await seed(q, { ...opts, timezone: config.timezone }, (line) => console.log(`  ${line}`));
    console.log(
      `seeded ${summary.credits} credits (${summary.reversals} reversed) by ${summary.agents} agents over ${opts.days} days in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // Seeded history lies in closed months: release them now, as the service would on first read.
    const releases = new ReleasesService(ds, config);
    const releasing = Date.now();
    const released = await releases.releaseDue();
    console.log(
      `released ${released.length} closed month(s)${released.length ? ` (${released[0]} to ${released[released.length - 1]})` : ''} in ${((Date.now() - releasing) / 1000).toFixed(1)} s`,
    );
    const results = await checkInvariants(q);
    await q.release();
    for (const r of results)
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : ` ${JSON.stringify(r.sample)}`}`);
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (embedded) await embedded.stop();
  }
}

main().catch((error) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
