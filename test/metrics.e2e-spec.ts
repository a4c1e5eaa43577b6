import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, creditBody, postCredit, TestUser } from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format: throws on any line it does not understand. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))(?: \d+)?$/i;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const typed = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (typed) {
      types.set(typed[1], typed[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const m = sample.exec(line);
    if (!m) throw new Error(`not Prometheus text format: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      label.lastIndex = 0;
      let consumed = 0;
      for (let l = label.exec(m[2]); l; l = label.exec(m[2])) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = label.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`bad labels: ${line}`);
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('/metrics (e2e)', () => {
  let t: TestApp;
  let agent: TestUser;
  let finance: TestUser;
  let roleName: string;
  let teamName: string;
  let roleId: string;
  let teamId: string;

  beforeAll(async () => {
    t = await TestApp.start();
    roleName = `Role ${randomUUID().slice(0, 8)}`;
    teamName = `Team ${randomUUID().slice(0, 8)}`;
    roleId = await createRole(t, roleName);
    teamId = await createTeam(t, teamName);
    agent = await createUser(t, ['agent'], { roleId, teamId, displayName: `Agent ${randomUUID().slice(0, 8)}` });
    finance = await createUser(t, ['finance'], { displayName: `Finance ${randomUUID().slice(0, 8)}` });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  async function scrape(headers: Record<string, string> = {}) {
    const res = await t.request('GET', '/metrics', { token: null, headers });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(res.text);
  }

  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);

  it('is open without LEEWAY_METRICS_TOKEN, in Prometheus text format, with the documented families', async () => {
    const { samples, types } = await scrape();
    expect(types.get('leeway_http_requests_total')).toBe('counter');
    expect(types.get('leeway_http_request_duration_seconds')).toBe('histogram');
    expect(types.get('leeway_credits_logged_total')).toBe('counter');
    expect(types.get('leeway_credit_reversals_total')).toBe('counter');
    // No live spend figure and no count per currency (see the test below).
    expect(types.has('leeway_credit_amount_minor_units_total')).toBe(false);
    expect(types.has('leeway_reversed_amount_minor_units_total')).toBe(false);
    expect(types.get('leeway_release_jobs_total')).toBe('counter');
    expect(types.get('leeway_release_duration_seconds')).toBe('histogram');
    for (const gauge of [
      'leeway_db_pool_connections',
      'leeway_db_pool_idle_connections',
      'leeway_db_pool_waiting_requests',
    ]) {
      expect(types.get(gauge)).toBe('gauge');
    }
    // The pool is in use: the app has run queries, so it holds at least one connection.
    expect(value(samples, 'leeway_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'leeway_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts credits and reversals once committed, not replays, with no amount and no currency', async () => {
    const before = (await scrape()).samples;
    const key = randomUUID();
    const body = creditBody({ amount: 1234, currency: 'DKK' });
    const credit = await postCredit(t, agent.token, body, key);
    expect(credit.status).toBe(201);
    const replay = await postCredit(t, agent.token, body, key);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const refused = await postCredit(t, agent.token, creditBody({ amount: 0, currency: 'DKK' }));
    expect(refused.status).toBe(400);
    const reversal = await t.as(finance.token).post(`/v1/credits/${credit.body.id}/reversal`, { reason: 'test' });
    expect(reversal.status).toBe(201);
    // Recorded last month: the next report releases that month.
    await backdate(t, 1, { creditIds: [credit.body.id], reversalIds: [reversal.body.reversedBy.id] });
    expect((await t.as(finance.token).get('/v1/reports/spend')).status).toBe(200);

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('leeway_credits_logged_total')).toBe(1);
    expect(delta('leeway_credit_reversals_total')).toBe(1);
    // A count per currency, in a currency one agent uses, is that agent's count; an amount counter
    // read before and after one credit is that credit. Neither is exposed.
    for (const s of after) {
      expect({ name: s.name, currency: s.labels.currency }).toEqual({ name: s.name, currency: undefined });
      expect(s.name).not.toMatch(/amount|minor_units/);
    }
    // The requests themselves, by route template and status.
    expect(delta('leeway_http_requests_total', { method: 'POST', route: '/v1/credits', status: '201' })).toBe(2);
    expect(delta('leeway_http_requests_total', { method: 'POST', route: '/v1/credits', status: '400' })).toBe(1);
    expect(
      delta('leeway_http_requests_total', { method: 'POST', route: '/v1/credits/:id/reversal', status: '201' }),
    ).toBe(1);
    expect(
      delta('leeway_http_request_duration_seconds_count', { route: '/v1/credits/:id/reversal', status: '201' }),
    ).toBe(1);
    // The report released last month, once.
    expect(delta('leeway_release_jobs_total', { trigger: 'report', outcome: 'released' })).toBe(1);
    expect(delta('leeway_release_duration_seconds_count')).toBe(1);
  });

  it('labels routes by template, never a raw URL, and never an agent, team or role', async () => {
    const creditId = randomUUID();
    await t.as(agent.token).get(`/v1/credits/${creditId}`);
    await t.request('GET', `/v1/no-such-thing/${agent.id}`);
    await t.request('GET', `/v1/users/${agent.id}`);
    const { samples } = await scrape();
    const routes = new Set(samples.map((s) => s.labels.route).filter((r) => r !== undefined));
    expect(routes).toContain('/v1/credits/:id');
    expect(routes).toContain('unmatched');
    const forbidden = [agent.id, finance.id, roleId, teamId, roleName, teamName, creditId, agent.token];
    const users = await t.query<{ id: string; display_name: string }>(`SELECT id, display_name FROM users`);
    forbidden.push(...users.flatMap((u) => [u.id, u.display_name]));
    const labelValues = new Set(samples.flatMap((s) => Object.values(s.labels)));
    for (const v of labelValues) {
      for (const f of forbidden) expect(v.includes(f) ? `${v} contains ${f}` : 'clean').toBe('clean');
    }
    const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)));
    for (const name of [
      'agent',
      'agentId',
      'agent_id',
      'team',
      'teamId',
      'team_id',
      'role',
      'roleId',
      'role_id',
      'user',
    ]) {
      expect(labelNames).not.toContain(name);
    }
  });

  describe('with LEEWAY_METRICS_TOKEN', () => {
    const TOKEN = 'metrics-scrape-token-0123456789';
    let guarded: TestApp;

    beforeAll(async () => {
      guarded = await TestApp.start({}, { LEEWAY_METRICS_TOKEN: TOKEN });
    }, 60_000);

    afterAll(async () => {
      await guarded?.close();
    });

    it('answers 401 problem+json without it or with a wrong one, and the metrics with it', async () => {
      for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`]) {
        const res = await guarded.request('GET', '/metrics', {
          token: null,
          headers: authorization ? { authorization } : {},
        });
        expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
        expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.text).not.toContain('leeway_http_requests_total');
      }
      // A user's token is not the metrics token.
      const admin = await guarded.request('GET', '/metrics');
      expect(admin.status).toBe(401);
      const ok = await guarded.request('GET', '/metrics', { token: TOKEN });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('leeway_http_requests_total');
    });
  });
});
