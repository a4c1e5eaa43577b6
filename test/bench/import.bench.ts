/**
 * npm run bench:import — POST /v1/imports of a large CSV file into a fresh database: the time to
 * import it, the time a second import of the same file takes (it changes nothing), the time to
 * refuse the file with one bad row at its end, and the service's peak resident memory during each,
 * beside its memory at rest (memory must stay flat however long the file).
 *
 *   BENCH_ROWS=1000000   rows in the file
 *   BENCH_AGENTS=1000    agents the rows are spread over
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { checkInvariants } from '../../src/ledger/invariants';
import { api, freshDatabase, startService, rssMiB } from './bench-support';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const BOOTSTRAP = `bench-${randomUUID()}`;
const REASONS = ['late_delivery', 'damaged_item', 'billing_error', 'service_failure', 'long_wait'];
const KINDS = ['refund', 'store_credit', 'voucher'];
const CHANNELS = ['phone', 'chat', 'email', ''];
const DAY_MS = 86_400_000;

/** Writes the file: a year of history spread over the agents, in time order as an export would be. */
async function writeCsv(path: string, rows: number, badLast = false): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((done) => out.once('drain', () => done()));
  await write('externalId,agentRef,amount,currency,kind,reasonCode,caseRef,occurredAt,channel,note\n');
  const start = Date.now() - 365 * DAY_MS;
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const at = new Date(start + Math.floor((i / rows) * 364 * DAY_MS)).toISOString();
    const amount = badLast && i === rows - 1 ? '12.5' : String(200 + ((i * 7919) % 9000));
    chunk +=
      `hist-${i},bench-agent-${i % AGENTS},${amount},EUR,${KINDS[i % 3]},${REASONS[i % 5]},CASE-${i % 200_000},` +
      `${at},${CHANNELS[i % 4]},${i % 10 === 0 ? '"Goodwill, as agreed"' : ''}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((done) => out.end(() => done()));
}

/** Sends the file as it is read; resolves with the status, the answer and the peak RSS meanwhile. */
function upload(
  base: string,
  token: string,
  path: string,
  pid: number,
): Promise<{ status: number; body: any; seconds: number; peakMiB: number }> {
  const started = Date.now();
  let peakMiB = rssMiB(pid);
  const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, rssMiB(pid))), 100);
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/imports', base);
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'text/csv',
          'content-length': statSync(path).size,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          clearInterval(sampler);
          peakMiB = Math.max(peakMiB, rssMiB(pid));
          resolve({ status: res.statusCode!, body: JSON.parse(text), seconds: (Date.now() - started) / 1000, peakMiB });
        });
      },
    );
    req.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    createReadStream(path).pipe(req);
  });
}

async function main() {
  const { db, cleanup } = await freshDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'leeway-import-'));
  const service = await startService({ DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP });
  try {
    const base = service.url;
    const role = await api(base, 'POST', '/v1/roles', BOOTSTRAP, { name: 'Agents' });
    const leader = await api(base, 'POST', '/v1/users', BOOTSTRAP, { displayName: 'Leader', access: ['leader'] });
    const leaderToken = (await api(base, 'POST', `/v1/users/${leader.id}/tokens`, BOOTSTRAP, {})).token;
    await api(base, 'PUT', `/v1/roles/${role.id}/limits`, leaderToken, {
      limits: [{ currency: 'EUR', perCredit: 5000, perCase: 8000, perAgentDay: 20000, perAgentMonth: 300000 }],
    });
    for (let i = 0; i < AGENTS; i++) {
      await api(base, 'POST', '/v1/users', BOOTSTRAP, {
        displayName: `Bench agent ${i}`,
        access: ['agent'],
        roleId: role.id,
        externalRef: `bench-agent-${i}`,
      });
    }
    const shop = await api(base, 'POST', '/v1/users', BOOTSTRAP, { displayName: 'Shop', access: ['integration'] });
    const token = (await api(base, 'POST', `/v1/users/${shop.id}/tokens`, BOOTSTRAP, {})).token;

    const file = join(dir, 'history.csv');
    const bad = join(dir, 'history-bad.csv');
    let started = Date.now();
    await writeCsv(file, ROWS);
    await writeCsv(bad, ROWS, true);
    const mib = (statSync(file).size / 1024 / 1024).toFixed(1);
    console.log(
      `file: ${ROWS.toLocaleString('en')} rows, ${mib} MiB (written in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );

    const pid = service.child.pid!;
    const rest = rssMiB(pid);
    console.log(`service RSS at rest: ${rest.toFixed(0)} MiB`);

    const refused = await upload(base, token, bad, pid);
    console.log(
      `refused (one bad row, the last): ${refused.status} in ${refused.seconds.toFixed(1)} s, ` +
        `peak RSS ${refused.peakMiB.toFixed(0)} MiB — ${refused.body.detail}`,
    );
    if (refused.status !== 422) throw new Error(`expected 422, got ${refused.status}`);

    const first = await upload(base, token, file, pid);
    if (first.status !== 200) throw new Error(`import failed: ${first.status} ${JSON.stringify(first.body)}`);
    console.log(
      `import: ${first.body.created.toLocaleString('en')} credits in ${first.seconds.toFixed(1)} s ` +
        `(${Math.round(first.body.created / first.seconds).toLocaleString('en')} rows/s), peak RSS ${first.peakMiB.toFixed(0)} MiB`,
    );
    const again = await upload(base, token, file, pid);
    console.log(
      `same file again: created ${again.body.created}, unchanged ${again.body.unchanged.toLocaleString('en')} ` +
        `in ${again.seconds.toFixed(1)} s, peak RSS ${again.peakMiB.toFixed(0)} MiB`,
    );
    if (again.body.created !== 0) throw new Error('a second import created credits');

    const client = new Client({ connectionString: db.url });
    await client.connect();
    started = Date.now();
    const results = await checkInvariants(client);
    await client.end();
    const failed = results.filter((r) => !r.ok);
    console.log(
      `invariants: ${results.length - failed.length}/${results.length} hold (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    if (failed.length > 0) throw new Error(`invariants failed: ${failed.map((f) => f.name).join('; ')}`);
  } finally {
    await service.stop();
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
