/**
 * bench:soak — two service processes on one database, several minutes of mixed traffic (credits,
 * replays, reversals, headroom, reports), then every invariant: balances sum to zero, counters and
 * releases match a recomputation, no idempotency key settled twice, no 5xx, memory stable.
 *
 *   BENCH_SOAK_SECONDS=180 BENCH_SOAK_CONNECTIONS=24 npm run bench:soak
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { checkInvariants } from '../../src/ledger/invariants';
import { api, freshDatabase, startService, rssMiB } from './bench-support';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 180);
const CONNECTIONS = Number(process.env.BENCH_SOAK_CONNECTIONS ?? 24);
const AGENTS = 60;
const BOOTSTRAP = `soak-${randomUUID()}`;
const REASONS = ['late_delivery', 'damaged_item', 'billing_error', 'long_wait'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'GBP'];

interface Sent {
  key: string;
  token: string;
  body: string;
  id: string;
}

async function main(): Promise<void> {
  const { db, cleanup } = await freshDatabase();
  const env = { DATABASE_URL: db.url, LEEWAY_BOOTSTRAP_TOKEN: BOOTSTRAP, LEEWAY_MIN_COHORT: '3' };
  const a = await startService(env);
  const b = await startService(env);
  const services = [a, b];
  const failures: string[] = [];
  try {
    const admin = BOOTSTRAP;
    const mk = async (displayName: string, access: string[], extra: object = {}) => {
      const u = await api(a.url, 'POST', '/v1/users', admin, { displayName, access, ...extra });
      return (await api(a.url, 'POST', `/v1/users/${u.id}/tokens`, admin, {})).token as string;
    };
    const leader = await mk('Lead', ['leader']);
    const finance = await mk('Finance', ['finance']);
    const roles: string[] = [];
    for (const name of ['Frontline', 'Senior agent']) {
      const role = await api(a.url, 'POST', '/v1/roles', admin, { name });
      await api(a.url, 'PUT', `/v1/roles/${role.id}/limits`, leader, {
        limits: [
          { currency: 'EUR', perCredit: 3000, perCase: 6000, perAgentDay: 20000 },
          { currency: 'GBP', perCredit: 2500, perAgentMonth: 100000 },
        ],
      });
      roles.push(role.id);
    }
    const teams: string[] = [];
    for (const name of ['North', 'South', 'East'])
      teams.push((await api(a.url, 'POST', '/v1/teams', admin, { name })).id);
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      agents.push(await mk(`Agent ${i}`, ['agent'], { roleId: roles[i % 2], teamId: teams[i % 3] }));
    }

    const rssStart = services.map((s) => rssMiB(s.child.pid!));
    const statuses = new Map<string, number>();
    const sent: Sent[] = [];
    const replayedIds = new Map<string, string>();
    let requests = 0;
    const count = (what: string, status: number) => {
      const k = `${what} ${status}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
      if (status >= 500) failures.push(`${what} → ${status}`);
    };
    const call = async (what: string, method: string, path: string, token: string, body?: string, headers = {}) => {
      const base = services[requests++ % services.length].url;
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body,
      });
      const text = await res.text();
      count(what, res.status);
      return {
        status: res.status,
        headers: res.headers,
        body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
      };
    };
    const deadline = Date.now() + SECONDS * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        const r = Math.random();
        const token = agents[Math.floor(Math.random() * agents.length)];
        if (r < 0.55 || sent.length < 20) {
          const key = randomUUID();
          const body = JSON.stringify({
            amount: 200 + Math.floor(Math.random() * 4000),
            currency: CURRENCIES[Math.floor(Math.random() * CURRENCIES.length)],
            kind: 'voucher',
            reasonCode: REASONS[Math.floor(Math.random() * REASONS.length)],
            caseRef: `CASE-${Math.floor(Math.random() * 400)}`,
            channel: 'chat',
          });
          const res = await call('credit', 'POST', '/v1/credits', token, body, { 'idempotency-key': key });
          if (res.status === 201) sent.push({ key, token, body, id: res.body.id });
        } else if (r < 0.65) {
          const s = sent[Math.floor(Math.random() * sent.length)];
          const res = await call('replay', 'POST', '/v1/credits', s.token, s.body, { 'idempotency-key': s.key });
          if (res.status === 201) {
            if (res.body.id !== s.id || res.headers.get('idempotent-replayed') !== 'true') {
              failures.push(`replay of ${s.key} answered ${res.body.id}, first answer was ${s.id}`);
            }
            replayedIds.set(s.key, res.body.id);
          }
        } else if (r < 0.7) {
          const s = sent[Math.floor(Math.random() * sent.length)];
          const byFinance = Math.random() < 0.5;
          const res = await call(
            'reversal',
            'POST',
            `/v1/credits/${s.id}/reversal`,
            byFinance ? finance : s.token,
            JSON.stringify({ reason: 'Customer changed their mind' }),
          );
          if (![201, 409].includes(res.status)) failures.push(`reversal → ${res.status} ${JSON.stringify(res.body)}`);
        } else if (r < 0.88) {
          await call('headroom', 'GET', `/v1/me/headroom?currency=EUR`, token);
        } else if (r < 0.95) {
          await call('spend report', 'GET', `/v1/reports/spend?groupBy=reason,team`, finance);
        } else {
          await call('limit-fit', 'GET', `/v1/reports/limit-fit`, finance);
        }
      }
    };
    const started = Date.now();
    const samples: string[] = [];
    const sampler = setInterval(() => {
      samples.push(services.map((s) => rssMiB(s.child.pid!).toFixed(0)).join('/'));
    }, 20_000);
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    clearInterval(sampler);
    const elapsed = (Date.now() - started) / 1000;
    const rssEnd = services.map((s) => rssMiB(s.child.pid!));

    const client = new Client({ connectionString: db.url });
    await client.connect();
    const invariants = await checkInvariants(client);
    const twice = await client.query(
      `SELECT credit_id, count(*) FROM idempotency_keys WHERE credit_id IS NOT NULL GROUP BY credit_id HAVING count(*) > 1`,
    );
    const totals = await client.query(
      `SELECT (SELECT count(*) FROM credits) AS credits, (SELECT count(*) FROM credit_reversals) AS reversals,
              (SELECT count(*) FROM idempotency_keys) AS keys`,
    );
    await client.end();

    console.log(
      `bench:soak — 2 service processes, ${CONNECTIONS} connections, ${elapsed.toFixed(0)} s, ${requests} requests`,
    );
    for (const [k, n] of [...statuses].sort()) console.log(`  ${k.padEnd(22)} ${n}`);
    console.log(
      `  ledger: ${totals.rows[0].credits} credits, ${totals.rows[0].reversals} reversals, ${totals.rows[0].keys} idempotency keys`,
    );
    for (const r of invariants) {
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}`);
      if (!r.ok) failures.push(`invariant: ${r.name} ${JSON.stringify(r.sample)}`);
    }
    console.log(`  ${twice.rowCount === 0 ? 'ok  ' : 'FAIL'} no credit settled by two idempotency keys`);
    if (twice.rowCount) failures.push('a credit is referenced by two idempotency keys');
    console.log(`  replays checked: ${replayedIds.size} keys, each answered with its first credit`);
    for (const i of services.keys()) {
      console.log(`  service ${i + 1} RSS: ${rssStart[i].toFixed(0)} MiB at start, ${rssEnd[i].toFixed(0)} MiB at end`);
    }
    console.log(`  RSS every 20 s (MiB, service 1/2): ${samples.join('  ')}`);
    console.log(
      failures.length === 0
        ? 'verdict: all invariants hold, no 5xx'
        : `verdict: ${failures.length} problems\n  ${failures.slice(0, 10).join('\n  ')}`,
    );
    if (failures.length) process.exitCode = 1;
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
