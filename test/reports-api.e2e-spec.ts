import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRole, createTeam, createUser, creditBody, postCredit, setLimits, TestUser } from './factories';
import { Reply, TestApp } from './support/app';

/**
 * The report endpoints as a caller sees them: who may read them, which queries are refused, and —
 * on small hand-built ledgers whose every figure is worked out below from DESIGN.md — exactly what
 * cohort suppression publishes, what CSV carries, what limit-fit says, and that no agent can be
 * identified from any of it.
 *
 * Credits are dated explicitly (noon UTC, two to four days ago) so that a run across midnight
 * still puts every credit on the day the expectations assume.
 */

const DAY_MS = 86_400_000;
const NOW = Date.now();
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const daysAgo = (n: number) => isoDay(NOW - n * DAY_MS);
const noon = (day: string) => `${day}T12:00:00.000Z`;

function firstOfMonth(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

function lastOfMonth(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return isoDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
}

/** ISO 8601 week label, written from the definition: the week belongs to the year of its Thursday. */
function isoWeekLabel(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const mondayBased = (d.getUTCDay() + 6) % 7;
  const thursday = new Date(d.getTime() + (3 - mondayBased) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const LABEL: Record<string, (day: string) => string> = {
  day: (day) => day,
  week: isoWeekLabel,
  month: (day) => day.slice(0, 7),
  quarter: (day) => `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`,
};

interface Fig {
  credits: number;
  amount: number;
  withinDiscretion: number;
  overrun: number;
  creditsWithOverrun: number;
}

const fig = (credits: number, amount: number, withinDiscretion: number, overrun: number, creditsWithOverrun: number) =>
  ({ credits, amount, withinDiscretion, overrun, creditsWithOverrun }) as Fig;

const FIG_KEYS = ['credits', 'amount', 'withinDiscretion', 'overrun', 'creditsWithOverrun'] as const;

const figOf = (r: Record<string, any>): Fig =>
  fig(r.credits, r.amount, r.withinDiscretion, r.overrun, r.creditsWithOverrun);
const plus = (a: Fig, b: Fig): Fig =>
  fig(...(FIG_KEYS.map((k) => a[k] + b[k]) as [number, number, number, number, number]));
const minus = (a: Fig, b: Fig): Fig =>
  fig(...(FIG_KEYS.map((k) => a[k] - b[k]) as [number, number, number, number, number]));
const ZERO = fig(0, 0, 0, 0, 0);
const NULL_FIGURES = { credits: null, amount: null, withinDiscretion: null, overrun: null, creditsWithOverrun: null };

/** Rows in a stable order, so that expectations need not depend on the order the API chose. */
function sorted<T extends Record<string, any>>(rows: T[]): T[] {
  const key = (r: Record<string, any>) =>
    JSON.stringify([r.period, r.reason, r.kind, r.role?.id, r.team?.id, r.channel, r.currency]);
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const byCurrency = <T extends { currency: string }>(rows: T[]): T[] =>
  [...rows].sort((a, b) => a.currency.localeCompare(b.currency));

function expectProblem(res: Reply, status: number, field?: string) {
  expect(res.status).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    }),
  );
  if (field !== undefined) {
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  }
}

/**
 * DESIGN.md: "totals − visible rows never reveals a small group" — per currency, what the totals
 * hold beyond the visible rows is exactly the suppressed bucket, and a currency without a total
 * shows neither rows nor bucket figures.
 */
function expectTotalsMinusRowsIsTheBucket(body: any) {
  const currencies = new Set<string>([
    ...body.rows.map((r: any) => r.currency),
    ...body.suppressed.map((s: any) => s.currency),
    ...body.totals.map((s: any) => s.currency),
  ]);
  for (const currency of currencies) {
    const total = body.totals.find((x: any) => x.currency === currency);
    const bucket = body.suppressed.find((x: any) => x.currency === currency);
    const visible = body.rows
      .filter((r: any) => r.currency === currency)
      .map(figOf)
      .reduce(plus, ZERO);
    if (!total) {
      expect({ currency, visible }).toEqual({ currency, visible: ZERO });
      expect(bucket).toEqual(expect.objectContaining(NULL_FIGURES));
    } else if (bucket) {
      expect({ currency, rest: minus(figOf(total), visible) }).toEqual({ currency, rest: figOf(bucket) });
    } else {
      expect({ currency, visible }).toEqual({ currency, visible: figOf(total) });
    }
  }
}

/** RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF line ends. */
function parseCsv(text: string): string[][] {
  const lines: string[][] = [];
  let line: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      line.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      line.push(field);
      lines.push(line);
      line = [];
      field = '';
    } else {
      field += c;
    }
  }
  expect(quoted).toBe(false);
  if (field !== '' || line.length > 0) {
    line.push(field);
    lines.push(line);
  }
  return lines;
}

/** The CSV as records keyed by its header line. */
function csvRecords(text: string): { header: string[]; records: Array<Record<string, string>> } {
  const [header, ...lines] = parseCsv(text);
  for (const l of lines) expect(l).toHaveLength(header.length);
  return { header, records: lines.map((l) => Object.fromEntries(header.map((h, i) => [h, l[i]]))) };
}

const csvFig = (r: Record<string, string>) => ({
  credits: r.credits,
  amount: r.amount,
  withinDiscretion: r.within_discretion,
  overrun: r.overrun,
  creditsWithOverrun: r.credits_with_overrun,
});
const asText = (f: Record<string, unknown>) =>
  Object.fromEntries(FIG_KEYS.map((k) => [k, f[k] === null || f[k] === undefined ? '' : String(f[k])]));

interface Agent extends TestUser {
  name: string;
}

async function createAgent(t: TestApp, name: string, extra: { roleId?: string; teamId?: string }): Promise<Agent> {
  const user = await createUser(t, ['agent'], { ...extra, displayName: name });
  return { ...user, name };
}

/** Logs one credit on a given day and returns the 201 body. */
async function give(
  t: TestApp,
  agent: TestUser,
  day: string,
  amount: number,
  currency: string,
  extra: Record<string, unknown> = {},
) {
  const res = await postCredit(t, agent.token, creditBody({ amount, currency, occurredAt: noon(day), ...extra }));
  if (res.status !== 201) throw new Error(`credit failed: ${res.status} ${res.text}`);
  return res.body;
}

/** None of the agents' ids or display names anywhere in a response. */
function expectNoAgentIdentity(text: string, agents: Agent[], what: string) {
  expect(text.length).toBeGreaterThan(0);
  const haystack = text.toLowerCase();
  const found = agents.flatMap((a) => [a.id, a.name]).filter((s) => haystack.includes(s.toLowerCase()));
  expect({ what, found }).toEqual({ what, found: [] });
}

const qs = (params: Record<string, string | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');

// ---------------------------------------------------------------------------------------------

describe('reports: access, validation and neutral language (e2e)', () => {
  let t: TestApp;
  const users: Record<string, TestUser> = {};

  beforeAll(async () => {
    t = await TestApp.start();
    const roleId = await createRole(t);
    users.leader = await createUser(t, ['leader']);
    users.finance = await createUser(t, ['finance']);
    users.agent = await createUser(t, ['agent'], { roleId });
    users.auditor = await createUser(t, ['auditor']);
    users.admin = await createUser(t, ['admin']);
  });

  afterAll(async () => {
    await t?.close();
  });

  const SPEND = `/v1/reports/spend?from=2026-11-01&to=2026-11-30`;
  const LIMIT_FIT = `/v1/reports/limit-fit`;

  it.each(['leader', 'finance'])('%s may read the spend report and limit-fit', async (who) => {
    const spend = await t.as(users[who].token).get(SPEND);
    expect(spend.status).toBe(200);
    expect(String(spend.headers['content-type'])).toMatch(/^application\/json/);
    // Unconfigured, the cohort is DESIGN.md's default of 5.
    expect(spend.body).toEqual(
      expect.objectContaining({ minCohort: 5, from: '2026-11-01', to: '2026-11-30', rows: [], totals: [] }),
    );
    expect(Array.isArray(spend.body.suppressed)).toBe(true);
    const fit = await t.as(users[who].token).get(LIMIT_FIT);
    expect(fit.status).toBe(200);
    expect(fit.body).toEqual(expect.objectContaining({ minCohort: 5, rows: [] }));
  });

  it.each(['agent', 'auditor', 'admin'])('%s is refused both reports with 403 problem+json', async (who) => {
    expectProblem(await t.as(users[who].token).get(SPEND), 403);
    expectProblem(await t.as(users[who].token).get(LIMIT_FIT), 403);
    expectProblem(await t.as(users[who].token).get(`${SPEND}&format=csv`), 403);
  });

  it('answers 401 problem+json without a token or with an unknown one', async () => {
    for (const token of [null, 'not-a-real-token-0123456789abcdef']) {
      expectProblem(await t.as(token).get(SPEND), 401);
      expectProblem(await t.as(token).get(LIMIT_FIT), 401);
    }
  });

  const spendCases: Array<[string, string, string | string[]]> = [
    ['groupBy=agent', 'from=2026-11-01&to=2026-11-30&groupBy=agent', 'groupBy'],
    ['groupBy=reason,agent', 'from=2026-11-01&to=2026-11-30&groupBy=reason,agent', 'groupBy'],
    ['groupBy=agentId', 'from=2026-11-01&to=2026-11-30&groupBy=team,agentId', 'groupBy'],
    ['a repeated groupBy key', 'from=2026-11-01&to=2026-11-30&groupBy=team,team', 'groupBy'],
    ['an unknown period', 'from=2026-11-01&to=2026-11-30&period=hour', 'period'],
    ['a missing from', 'to=2026-11-30', 'from'],
    ['a missing to', 'from=2026-11-01', 'to'],
    ['from on 30 February', 'from=2026-02-30&to=2026-03-10', 'from'],
    ['to on 30 February', 'from=2026-02-01&to=2026-02-30', 'to'],
    ['from in another format', 'from=01.11.2026&to=2026-11-30', 'from'],
    ['a month 13', 'from=2026-11-01&to=2026-13-01', 'to'],
    ['to before from', 'from=2026-11-30&to=2026-11-01', 'to'],
    ['an unknown currency', 'from=2026-11-01&to=2026-11-30&currency=ZZZ', 'currency'],
    ['a currency that is not a code', 'from=2026-11-01&to=2026-11-30&currency=EURO', 'currency'],
    ['a range of 27 years', 'from=2000-01-01&to=2026-12-31', ['from', 'to']],
    ['a day-by-day report over two years', 'from=2025-01-01&to=2026-12-31&period=day', ['from', 'to', 'period']],
    ['an unknown format', 'from=2026-11-01&to=2026-11-30&format=xml', 'format'],
    ['an unknown query parameter', 'from=2026-11-01&to=2026-11-30&colour=blue', 'colour'],
    ['a filter by agent', 'from=2026-11-01&to=2026-11-30&agentId=6f1f7bd2-7b9e-4a5e-9d1c-0a4f1b0c2d3e', 'agentId'],
  ];

  it.each(spendCases)('spend refuses %s with 400 naming the field', async (_name, query, field) => {
    const res = await t.as(users.finance.token).get(`/v1/reports/spend?${query}`);
    expectProblem(res, 400);
    const fields: string[] = (res.body.errors ?? []).map((e: { field: string }) => e.field);
    expect(fields.length).toBeGreaterThan(0);
    const wanted = Array.isArray(field) ? field : [field];
    expect(fields.some((f) => wanted.includes(f))).toBe(true);
    for (const e of res.body.errors) expect(e.message).toEqual(expect.any(String));
  });

  it('names an unknown query parameter as not a known field', async () => {
    const res = await t.as(users.leader.token).get(`${SPEND}&colour=blue`);
    expectProblem(res, 400, 'colour');
    expect(res.body.errors.find((e: any) => e.field === 'colour').message).toMatch(/not a known field/);
  });

  it('accepts a year by month, any subset of the group keys and a known currency', async () => {
    const res = await t
      .as(users.finance.token)
      .get(
        `/v1/reports/spend?from=2026-01-01&to=2026-12-31&period=month&groupBy=reason,kind,role,team,channel&currency=EUR`,
      );
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ currency: 'EUR', rows: [], totals: [] }));
  });

  const fitCases: Array<[string, string, string | string[]]> = [
    ['from on 30 February', 'from=2026-02-30', 'from'],
    ['to in month 13', 'to=2026-13-01', 'to'],
    ['to before from', 'from=2026-11-01&to=2026-10-01', 'to'],
    ['an unknown currency', 'currency=ZZZ', 'currency'],
    ['a range of 27 years', 'from=2000-01-01&to=2026-12-31', ['from', 'to']],
    ['a grouping (limit-fit is per role)', 'groupBy=team', 'groupBy'],
    ['a filter by agent', 'agentId=6f1f7bd2-7b9e-4a5e-9d1c-0a4f1b0c2d3e', 'agentId'],
  ];

  it.each(fitCases)('limit-fit refuses %s with 400 naming the field', async (_name, query, field) => {
    const res = await t.as(users.leader.token).get(`/v1/reports/limit-fit?${query}`);
    expectProblem(res, 400);
    const fields: string[] = (res.body.errors ?? []).map((e: { field: string }) => e.field);
    const wanted = Array.isArray(field) ? field : [field];
    expect(fields.some((f) => wanted.includes(f))).toBe(true);
  });

  // The forbidden words, assembled so that this file does not itself contain them.
  const FORBIDDEN = [
    ['vio', 'lation'],
    ['bre', 'ach'],
    ['offen', 'der'],
  ].map((p) => p.join(''));

  it('never uses the forbidden words in the OpenAPI document', async () => {
    const res = await t.as(null).get('/docs-json');
    expect(res.status).toBe(200);
    expect(res.text).toContain('/v1/reports/spend');
    const lower = res.text.toLowerCase();
    expect(FORBIDDEN.filter((w) => lower.includes(w))).toEqual([]);
  });

  it('never uses the forbidden words in src/ or README.md', () => {
    const root = join(__dirname, '..');
    const files: string[] = [join(root, 'README.md')];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(root, 'src'));
    expect(files.length).toBeGreaterThan(30);
    const hits: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8').toLowerCase();
      for (const word of FORBIDDEN) if (text.includes(word)) hits.push(`${file.slice(root.length + 1)}: ${word}`);
    }
    expect(hits).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * minCohort 3. Role A; teams X (4 agents), Y (3), Z (1), W (2). Limits for A: EUR perCredit 1000,
 * GBP perCredit 500, nothing for JPY (so JPY credits are wholly overrun). Only perCredit applies,
 * so within = min(amount, perCredit) for every credit.
 *
 * D1 (2 days ago), reason late_delivery throughout:
 *   EUR: x1..x4 800 each, x1 also 1500 (within 1000); y1..y3 1200 each (within 1000); z1 300
 *        X {5, 4700, 4200, 500, 1}   Y {3, 3600, 3000, 600, 3}   Z {1, 300, 300, 0, 0}
 *   GBP: x1..x4 600 each (within 500); y1..y3 200 each
 *        X {4, 2400, 2000, 400, 4}   Y {3, 600, 600, 0, 0}
 *   JPY: x1 5000, y1 5000 (unbudgeted)          — 2 agents in the whole currency
 * D2 (3 days ago), EUR: x1..x4 100, y1..y3 200, z1 300, w1 w2 400 each — all within.
 * D3 (4 days ago), EUR by reason: late_delivery x1..x4 y1..y3 500 each; damaged_item y1..y3 700;
 *   long_wait z1 900; wrong_item z1 1100, w1 1100 (within 1000 each).
 */
describe('reports: cohort suppression, CSV, periods and anonymity (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let roleA: string;
  const team: Record<'X' | 'Y' | 'Z' | 'W', string> = { X: '', Y: '', Z: '', W: '' };
  const TEAM_NAME = { X: 'North, "East"', Y: '@Yonder', Z: 'Zenith', W: 'Westmoor' };
  const ROLE_NAME = 'Frontline, "Tier 1"';
  let x: Agent[];
  let y: Agent[];
  let z: Agent[];
  let w: Agent[];
  let everyone: Agent[];
  const D1 = daysAgo(2);
  const D2 = daysAgo(3);
  const D3 = daysAgo(4);

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 3 });
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    roleA = await createRole(t, ROLE_NAME);
    for (const k of ['X', 'Y', 'Z', 'W'] as const) team[k] = await createTeam(t, TEAM_NAME[k]);
    await setLimits(t, leader.token, roleA, [
      { currency: 'EUR', perCredit: 1000 },
      { currency: 'GBP', perCredit: 500 },
    ]);
    const make = async (k: 'X' | 'Y' | 'Z' | 'W', n: number) => {
      const list: Agent[] = [];
      for (let i = 1; i <= n; i++) {
        list.push(await createAgent(t, `Quokka ${k}${i} Lindqvist`, { roleId: roleA, teamId: team[k] }));
      }
      return list;
    };
    x = await make('X', 4);
    y = await make('Y', 3);
    z = await make('Z', 1);
    w = await make('W', 2);
    everyone = [...x, ...y, ...z, ...w];

    // D1
    for (const a of x) await give(t, a, D1, 800, 'EUR');
    await give(t, x[0], D1, 1500, 'EUR');
    for (const a of y) await give(t, a, D1, 1200, 'EUR');
    await give(t, z[0], D1, 300, 'EUR');
    for (const a of x) await give(t, a, D1, 600, 'GBP');
    for (const a of y) await give(t, a, D1, 200, 'GBP');
    await give(t, x[0], D1, 5000, 'JPY');
    await give(t, y[0], D1, 5000, 'JPY');
    // D2
    for (const a of x) await give(t, a, D2, 100, 'EUR');
    for (const a of y) await give(t, a, D2, 200, 'EUR');
    await give(t, z[0], D2, 300, 'EUR');
    for (const a of w) await give(t, a, D2, 400, 'EUR');
    // D3
    for (const a of [...x, ...y]) await give(t, a, D3, 500, 'EUR', { reasonCode: 'late_delivery' });
    for (const a of y) await give(t, a, D3, 700, 'EUR', { reasonCode: 'damaged_item', kind: 'voucher' });
    await give(t, z[0], D3, 900, 'EUR', { reasonCode: 'long_wait', channel: 'chat' });
    await give(t, z[0], D3, 1100, 'EUR', { reasonCode: 'wrong_item', kind: 'replacement' });
    await give(t, w[0], D3, 1100, 'EUR', { reasonCode: 'wrong_item', kind: 'replacement' });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const spend = (params: Record<string, string | undefined>, headers?: Record<string, string>) =>
    t.as(finance.token).get(`/v1/reports/spend?${qs(params)}`, { headers });

  const teamRef = (k: 'X' | 'Y' | 'Z' | 'W') => ({ id: team[k], name: TEAM_NAME[k] });
  const roleRef = () => ({ id: roleA, name: ROLE_NAME });

  it('groupBy=team: a one-agent team is suppressed and the smallest visible team joins it', async () => {
    // EUR: Z (1 agent) is too small; the bucket {z1} covers 1 < 3 agents, so the smallest visible
    // row, Y (3 agents, against X's 4), moves in: bucket = Y + Z, 4 agents. GBP: X and Y are both
    // large enough, no bucket. JPY: X and Y have one agent each; the bucket covers 2 < 3 agents with
    // nothing left to move, so its figures are withheld and JPY has no total.
    const res = await spend({ from: D1, to: D1, groupBy: 'team' });
    expect(res.status).toBe(200);
    expect(res.body.minCohort).toBe(3);
    expect(res.body.from).toBe(D1);
    expect(res.body.to).toBe(D1);
    expect(sorted(res.body.rows)).toEqual(
      sorted([
        { team: teamRef('X'), currency: 'EUR', ...fig(5, 4700, 4200, 500, 1) },
        { team: teamRef('X'), currency: 'GBP', ...fig(4, 2400, 2000, 400, 4) },
        { team: teamRef('Y'), currency: 'GBP', ...fig(3, 600, 600, 0, 0) },
      ]),
    );
    expect(byCurrency(res.body.suppressed)).toEqual([
      { currency: 'EUR', rows: 2, ...fig(4, 3900, 3300, 600, 3) },
      { currency: 'JPY', rows: 2, ...NULL_FIGURES },
    ]);
    expect(byCurrency(res.body.totals)).toEqual([
      { currency: 'EUR', ...fig(9, 8600, 7500, 1100, 4) },
      { currency: 'GBP', ...fig(7, 3000, 2600, 400, 4) },
    ]);
    expectTotalsMinusRowsIsTheBucket(res.body);
  });

  it('groupBy=team: small teams that together cover minCohort agents form the bucket alone', async () => {
    // D2, EUR only: Z {z1} and W {w1, w2} are each too small; together 3 agents, enough: X and Y stay.
    const res = await spend({ from: D2, to: D2, groupBy: 'team' });
    expect(res.status).toBe(200);
    expect(sorted(res.body.rows)).toEqual(
      sorted([
        { team: teamRef('X'), currency: 'EUR', ...fig(4, 400, 400, 0, 0) },
        { team: teamRef('Y'), currency: 'EUR', ...fig(3, 600, 600, 0, 0) },
      ]),
    );
    expect(res.body.suppressed).toEqual([{ currency: 'EUR', rows: 2, ...fig(3, 1100, 1100, 0, 0) }]);
    expect(res.body.totals).toEqual([{ currency: 'EUR', ...fig(10, 2100, 2100, 0, 0) }]);
    expectTotalsMinusRowsIsTheBucket(res.body);
  });

  it('groupBy=reason: the bucket counts distinct agents, not the sum of its rows', async () => {
    // D3: long_wait {z1} and wrong_item {z1, w1} are small. Their rows "count" 1 + 2 = 3, but the
    // bucket covers only 2 distinct agents, so the smallest visible reason, damaged_item (3 agents,
    // against late_delivery's 7), must join it.
    const res = await spend({ from: D3, to: D3, groupBy: 'reason' });
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([{ reason: 'late_delivery', currency: 'EUR', ...fig(7, 3500, 3500, 0, 0) }]);
    expect(res.body.suppressed).toEqual([{ currency: 'EUR', rows: 3, ...fig(6, 5200, 5000, 200, 2) }]);
    expect(res.body.totals).toEqual([{ currency: 'EUR', ...fig(13, 8700, 8500, 200, 2) }]);
    expectTotalsMinusRowsIsTheBucket(res.body);
  });

  it('groupBy=role: each currency has its own bucket and total; one below minCohort has neither figures nor total', async () => {
    const res = await spend({ from: D1, to: D1, groupBy: 'role' });
    expect(res.status).toBe(200);
    expect(sorted(res.body.rows)).toEqual(
      sorted([
        { role: roleRef(), currency: 'EUR', ...fig(9, 8600, 7500, 1100, 4) },
        { role: roleRef(), currency: 'GBP', ...fig(7, 3000, 2600, 400, 4) },
      ]),
    );
    expect(res.body.suppressed).toEqual([{ currency: 'JPY', rows: 1, ...NULL_FIGURES }]);
    expect(byCurrency(res.body.totals)).toEqual([
      { currency: 'EUR', ...fig(9, 8600, 7500, 1100, 4) },
      { currency: 'GBP', ...fig(7, 3000, 2600, 400, 4) },
    ]);
    expectTotalsMinusRowsIsTheBucket(res.body);
  });

  it('groupBy takes a comma list: role,team shows both keys on every row', async () => {
    const res = await spend({ from: D2, to: D2, groupBy: 'role,team' });
    expect(res.status).toBe(200);
    expect(sorted(res.body.rows)).toEqual(
      sorted([
        { role: roleRef(), team: teamRef('X'), currency: 'EUR', ...fig(4, 400, 400, 0, 0) },
        { role: roleRef(), team: teamRef('Y'), currency: 'EUR', ...fig(3, 600, 600, 0, 0) },
      ]),
    );
    expect(res.body.suppressed).toEqual([{ currency: 'EUR', rows: 2, ...fig(3, 1100, 1100, 0, 0) }]);
    expect(res.body.totals).toEqual([{ currency: 'EUR', ...fig(10, 2100, 2100, 0, 0) }]);
  });

  it('the currency filter returns that currency only', async () => {
    const gbp = await spend({ from: D1, to: D1, groupBy: 'team', currency: 'GBP' });
    expect(gbp.status).toBe(200);
    expect(gbp.body.currency).toBe('GBP');
    expect(sorted(gbp.body.rows)).toEqual(
      sorted([
        { team: teamRef('X'), currency: 'GBP', ...fig(4, 2400, 2000, 400, 4) },
        { team: teamRef('Y'), currency: 'GBP', ...fig(3, 600, 600, 0, 0) },
      ]),
    );
    expect(gbp.body.suppressed).toEqual([]);
    expect(gbp.body.totals).toEqual([{ currency: 'GBP', ...fig(7, 3000, 2600, 400, 4) }]);

    const eur = await spend({ from: D1, to: D1, groupBy: 'team', currency: 'EUR' });
    expect(eur.body.rows).toEqual([{ team: teamRef('X'), currency: 'EUR', ...fig(5, 4700, 4200, 500, 1) }]);
    expect(eur.body.suppressed).toEqual([{ currency: 'EUR', rows: 2, ...fig(4, 3900, 3300, 600, 3) }]);
    expect(eur.body.totals).toEqual([{ currency: 'EUR', ...fig(9, 8600, 7500, 1100, 4) }]);

    // A currency whose whole activity covers 2 agents: nothing but a bucket without figures.
    const jpy = await spend({ from: D1, to: D1, groupBy: 'team', currency: 'JPY' });
    expect(jpy.body).toEqual(
      expect.objectContaining({
        currency: 'JPY',
        rows: [],
        suppressed: [{ currency: 'JPY', rows: 2, ...NULL_FIGURES }],
        totals: [],
      }),
    );
    const jpyFlat = await spend({ from: D1, to: D1, currency: 'JPY' });
    expect(jpyFlat.body).toEqual(
      expect.objectContaining({ rows: [], suppressed: [{ currency: 'JPY', rows: 1, ...NULL_FIGURES }], totals: [] }),
    );
  });

  // Per day, in EUR: D1 {9, 8600, 7500, 1100, 4} (8 agents), D2 {10, 2100, 2100, 0, 0} (10 agents),
  // D3 {13, 8700, 8500, 200, 2} (9 agents): every period row is large enough to show.
  const EUR_BY_DAY: Array<[string, Fig]> = [
    [D1, fig(9, 8600, 7500, 1100, 4)],
    [D2, fig(10, 2100, 2100, 0, 0)],
    [D3, fig(13, 8700, 8500, 200, 2)],
  ];

  it('labels its own week helper correctly (sanity check for the period expectations)', () => {
    expect(isoWeekLabel('2026-11-22')).toBe('2026-W47');
    expect(isoWeekLabel('2026-11-23')).toBe('2026-W48');
    expect(isoWeekLabel('2027-01-01')).toBe('2026-W53');
    expect(isoWeekLabel('2025-12-29')).toBe('2026-W01');
  });

  it.each([
    ['day', /^\d{4}-\d{2}-\d{2}$/],
    ['week', /^\d{4}-W\d{2}$/],
    ['month', /^\d{4}-\d{2}$/],
    ['quarter', /^\d{4}-Q[1-4]$/],
  ])('period=%s labels and sums the days', async (period, pattern) => {
    const want = new Map<string, Fig>();
    for (const [day, f] of EUR_BY_DAY) {
      const label = LABEL[period](day);
      want.set(label, plus(want.get(label) ?? ZERO, f));
    }
    const expected = sorted([...want].map(([label, f]) => ({ period: label, currency: 'EUR', ...f })));
    const ranges = [
      { from: D3, to: D1 },
      // Whole months around the same days (month rollups and edge days, depending on the period).
      { from: firstOfMonth(D3), to: lastOfMonth(D1) },
    ];
    for (const range of ranges) {
      const res = await spend({ ...range, period, currency: 'EUR' });
      expect(res.status).toBe(200);
      for (const r of res.body.rows) expect(r.period).toMatch(pattern);
      expect(sorted(res.body.rows)).toEqual(expected);
      expect(res.body.suppressed).toEqual([]);
      expect(res.body.totals).toEqual([{ currency: 'EUR', ...fig(32, 19400, 18100, 1300, 6) }]);
    }
  });

  it('CSV by format=csv and by Accept: text/csv: same file, same numbers as the JSON', async () => {
    const params = { from: D1, to: D1, groupBy: 'team' };
    const json = await spend(params);
    const byFormat = await spend({ ...params, format: 'csv' });
    const byAccept = await spend(params, { accept: 'text/csv' });
    for (const res of [byFormat, byAccept]) {
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/^text\/csv/);
      expect(String(res.headers['content-disposition'])).toMatch(/^attachment\b.*filename=/);
    }
    expect(byAccept.text).toBe(byFormat.text);

    const { header, records } = csvRecords(byFormat.text);
    expect(header[0]).toBe('row');
    expect(header).toEqual(
      expect.arrayContaining([
        'team_id',
        'team_name',
        'currency',
        'credits',
        'amount',
        'within_discretion',
        'overrun',
        'credits_with_overrun',
      ]),
    );
    const groups = records.filter((r) => r.row === 'group');
    const buckets = records.filter((r) => r.row === 'suppressed');
    const totals = records.filter((r) => r.row === 'total');
    expect(records).toHaveLength(groups.length + buckets.length + totals.length);
    expect(groups).toHaveLength(json.body.rows.length);
    expect(buckets).toHaveLength(json.body.suppressed.length);
    expect(totals).toHaveLength(json.body.totals.length);
    expect(groups).toHaveLength(3);

    for (const row of json.body.rows) {
      const line = groups.find((g) => g.team_id === row.team.id && g.currency === row.currency);
      expect(line).toBeDefined();
      // (The formula-like name of team Y is checked, defused, in the next test.)
      if (row.team.id !== team.Y) expect(line!.team_name).toBe(row.team.name);
      expect(csvFig(line!)).toEqual(asText(row));
    }
    for (const bucket of json.body.suppressed) {
      const line = buckets.find((b) => b.currency === bucket.currency);
      expect(csvFig(line!)).toEqual(asText(bucket));
      expect(line!.suppressed_rows).toBe(String(bucket.rows));
    }
    // The JPY bucket's figures are withheld in CSV too.
    expect(csvFig(buckets.find((b) => b.currency === 'JPY')!)).toEqual(asText(NULL_FIGURES));
    for (const total of json.body.totals) {
      const line = totals.find((b) => b.currency === total.currency);
      expect(csvFig(line!)).toEqual(asText(total));
    }
  });

  it('CSV quotes names with commas and quotes and carries role and team names', async () => {
    const json = await spend({ from: D2, to: D2, groupBy: 'role,team' });
    const csv = await spend({ from: D2, to: D2, groupBy: 'role,team', format: 'csv' });
    expect(csv.status).toBe(200);
    // RFC 4180: a field with a comma or a quote is quoted and its quotes doubled.
    expect(csv.text).toContain('"North, ""East"""');
    expect(csv.text).toContain('"Frontline, ""Tier 1"""');
    expect(csv.text).not.toContain(',North, "East",');
    const { header, records } = csvRecords(csv.text);
    expect(header).toEqual(expect.arrayContaining(['role_id', 'role_name', 'team_id', 'team_name']));
    const groups = records.filter((r) => r.row === 'group');
    expect(groups).toHaveLength(2);
    for (const row of json.body.rows) {
      const line = groups.find((g) => g.team_id === row.team.id);
      expect(line).toEqual(
        expect.objectContaining({ role_id: roleA, role_name: ROLE_NAME, currency: 'EUR', ...asCsvCols(row) }),
      );
    }
    expect(groups.find((g) => g.team_id === team.X)!.team_name).toBe('North, "East"');
    // A name that a spreadsheet would run as a formula is defused.
    const yonder = groups.find((g) => g.team_id === team.Y)!;
    expect(yonder.team_name).toContain('Yonder');
    expect(yonder.team_name).not.toMatch(/^[=+\-@]/);
  });

  function asCsvCols(row: Record<string, unknown>) {
    const f = asText(row);
    return {
      credits: f.credits,
      amount: f.amount,
      within_discretion: f.withinDiscretion,
      overrun: f.overrun,
      credits_with_overrun: f.creditsWithOverrun,
    };
  }

  const GROUPINGS = [undefined, 'reason', 'kind', 'role', 'team', 'channel', 'reason,kind,role,team,channel'];

  it.each(GROUPINGS.map((g) => [g ?? '(none)', g]))(
    'spend grouped by %s names no agent, in JSON or CSV',
    async (_name, groupBy) => {
      for (const period of ['none', 'day']) {
        for (const format of ['json', 'csv']) {
          const res = await spend({ from: D3, to: D1, groupBy, period, format });
          expect(res.status).toBe(200);
          expectNoAgentIdentity(res.text, everyone, `${groupBy} ${period} ${format}`);
        }
      }
      // A single small day, where suppression has the most to hide.
      const small = await spend({ from: D3, to: D3, groupBy, currency: 'EUR' });
      expect(small.status).toBe(200);
      expectNoAgentIdentity(small.text, everyone, `${groupBy} D3`);
    },
  );

  it('limit-fit and the journal name no agent', async () => {
    const fit = await t.as(leader.token).get(`/v1/reports/limit-fit`);
    expect(fit.status).toBe(200);
    expect(fit.body.rows.length).toBeGreaterThan(0);
    expectNoAgentIdentity(fit.text, everyone, 'limit-fit');

    const journal = await t.as(finance.token).get(`/v1/ledger/journal?from=${D3}&to=${daysAgo(-1)}`);
    expect(journal.status).toBe(200);
    expect(journal.body.data.length).toBeGreaterThan(0);
    expectNoAgentIdentity(journal.text, everyone, 'journal json');

    const journalCsv = await t.as(finance.token).get(`/v1/ledger/journal?from=${D3}&to=${daysAgo(-1)}&format=csv`);
    expect(journalCsv.status).toBe(200);
    expect(String(journalCsv.headers['content-type'])).toMatch(/^text\/csv/);
    expect(parseCsv(journalCsv.text).length).toBeGreaterThan(1);
    expectNoAgentIdentity(journalCsv.text, everyone, 'journal csv');

    const journalAccept = await t
      .as(finance.token)
      .get(`/v1/ledger/journal?from=${D3}&to=${daysAgo(-1)}`, { headers: { accept: 'text/csv' } });
    expect(journalAccept.status).toBe(200);
    expectNoAgentIdentity(journalAccept.text, everyone, 'journal csv by accept');
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * minCohort 3. Role "Fit role" (P), agents a1..a4, limits at logging time EUR perCredit 1500,
 * perAgentDay 2000; afterwards changed to perCredit 1200 (the current limits).
 *
 * Dp (3 days ago): a1 1700, a2 1800, a3 1900, a4 2000 — each bound by perCredit (within 1500).
 * D  (2 days ago), each agent in this order (used = the agent's day total before the credit):
 *   a1: 100, 500, 900, 1300 (used 1500, room 500 → perAgentDay binds, within 500)
 *   a2: 200, 600, 1000, 1400 (used 1800, room 200 → perAgentDay, within 200)
 *   a3: 300, 700, 1100 (used 1000, room 1000 → perAgentDay, within 1000), 1500 (room −100 → perAgentDay, 0)
 *   a4: 400, 800, 1200 (used 1200, room 800 → perAgentDay, within 800), 1600 (room −400 → perAgentDay, 0)
 * Dr (4 days ago): a1, a2, a3 5000 each (perCredit binds) — all three reversed by finance.
 *
 * Unreversed: the 20 amounts 100, 200, …, 2000. Nearest rank over 20: p50 → 10th = 1000,
 * p90 → 18th = 1800, p95 → 19th = 1900, p99 → 20th = 2000. Over the CURRENT perCredit 1200:
 * 1300..2000 = 8 of 20 = 0.4 (over the old 1500 it would be 0.25). With overrun: 4 + 6 = 10 of 20.
 * Binding: perAgentDay 6, perCredit 4 → perAgentDay. Counting the reversed three would change every
 * one of these (23 credits, p95 2000, p99 5000, perCredit binding 7 times).
 *
 * Also: P in GBP by a1, a2 only (2 agents → suppressed); role "Small role" (Q), 2 agents in EUR
 * (suppressed); role "Open role" (R), no limits, 3 agents with 100, 200, 300 EUR on D.
 * Role "Thin role" (T), EUR perCredit 1000, agents t1 200, t2 400, t3 600 on D — t3's credit reversed,
 * so only 2 agents remain behind T. Role "Split role" (S), EUR perCredit 150, 3 agents with 100,
 * 200, 300 on Dp: 2 of 3 credits exceed perCredit and carry overrun.
 */
describe('reports: limit-fit (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let leader: TestUser;
  let roleP: string;
  let roleQ: string;
  let roleR: string;
  let roleS: string;
  let roleT: string;
  let everyone: Agent[];
  const D = daysAgo(2);
  const Dp = daysAgo(3);
  const Dr = daysAgo(4);

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 3 });
    leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    roleP = await createRole(t, 'Fit role');
    roleQ = await createRole(t, 'Small role');
    roleR = await createRole(t, 'Open role');
    roleS = await createRole(t, 'Split role');
    roleT = await createRole(t, 'Thin role');
    await setLimits(t, leader.token, roleS, [{ currency: 'EUR', perCredit: 150 }]);
    await setLimits(t, leader.token, roleT, [{ currency: 'EUR', perCredit: 1000 }]);
    await setLimits(t, leader.token, roleP, [{ currency: 'EUR', perCredit: 1500, perAgentDay: 2000 }]);
    await setLimits(t, leader.token, roleQ, [{ currency: 'EUR', perCredit: 1000 }]);
    const a: Agent[] = [];
    for (let i = 1; i <= 4; i++) a.push(await createAgent(t, `Wombat A${i} Okonkwo`, { roleId: roleP }));
    const q: Agent[] = [];
    for (let i = 1; i <= 2; i++) q.push(await createAgent(t, `Wombat Q${i} Okonkwo`, { roleId: roleQ }));
    const r: Agent[] = [];
    for (let i = 1; i <= 3; i++) r.push(await createAgent(t, `Wombat R${i} Okonkwo`, { roleId: roleR }));
    const s: Agent[] = [];
    for (let i = 1; i <= 3; i++) s.push(await createAgent(t, `Wombat S${i} Okonkwo`, { roleId: roleS }));
    const th: Agent[] = [];
    for (let i = 1; i <= 3; i++) th.push(await createAgent(t, `Wombat T${i} Okonkwo`, { roleId: roleT }));
    everyone = [...a, ...q, ...r, ...s, ...th];

    const within = async (agent: Agent, day: string, amount: number, expected: number, currency = 'EUR') => {
      const body = await give(t, agent, day, amount, currency);
      expect({ amount, within: body.withinDiscretion }).toEqual({ amount, within: expected });
      return body.id as string;
    };
    await within(a[0], Dp, 1700, 1500);
    await within(a[1], Dp, 1800, 1500);
    await within(a[2], Dp, 1900, 1500);
    await within(a[3], Dp, 2000, 1500);
    const plan: Array<Array<[number, number]>> = [
      [
        [100, 100],
        [500, 500],
        [900, 900],
        [1300, 500],
      ],
      [
        [200, 200],
        [600, 600],
        [1000, 1000],
        [1400, 200],
      ],
      [
        [300, 300],
        [700, 700],
        [1100, 1000],
        [1500, 0],
      ],
      [
        [400, 400],
        [800, 800],
        [1200, 800],
        [1600, 0],
      ],
    ];
    for (const [i, credits] of plan.entries()) {
      for (const [amount, expected] of credits) await within(a[i], D, amount, expected);
    }
    const reversed: string[] = [];
    for (const agent of a.slice(0, 3)) reversed.push(await within(agent, Dr, 5000, 1500));
    for (const id of reversed) {
      const res = await t.as(finance.token).post(`/v1/credits/${id}/reversal`, { reason: 'Entered twice' });
      expect(res.status).toBe(201);
    }
    await give(t, a[0], D, 300, 'GBP');
    await give(t, a[1], D, 300, 'GBP');
    for (const agent of q) await give(t, agent, D, 500, 'EUR');
    for (const [i, agent] of r.entries()) await give(t, agent, D, 100 * (i + 1), 'EUR');
    for (const [i, agent] of s.entries()) await give(t, agent, Dp, 100 * (i + 1), 'EUR');
    await give(t, th[0], D, 200, 'EUR');
    await give(t, th[1], D, 400, 'EUR');
    const thin = await give(t, th[2], D, 600, 'EUR');
    const undo = await t.as(finance.token).post(`/v1/credits/${thin.id}/reversal`, { reason: 'Wrong customer' });
    expect(undo.status).toBe(201);
    // The current limits differ from those the credits were logged under.
    await setLimits(t, leader.token, roleP, [{ currency: 'EUR', perCredit: 1200, perAgentDay: 2000 }]);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const fitRow = (rows: any[], roleId: string, currency: string) =>
    rows.find((r) => r.role.id === roleId && r.currency === currency);

  it('gives percentiles, shares, the binding limit and a suggestion for a large enough role', async () => {
    const res = await t.as(leader.token).get('/v1/reports/limit-fit');
    expect(res.status).toBe(200);
    expect(res.body.minCohort).toBe(3);
    expect(fitRow(res.body.rows, roleP, 'EUR')).toEqual({
      role: { id: roleP, name: 'Fit role' },
      currency: 'EUR',
      credits: 20,
      limits: { perCredit: 1200, perCase: null, perAgentDay: 2000, perAgentMonth: null },
      p50: 1000,
      p90: 1800,
      p95: 1900,
      p99: 2000,
      shareOverPerCredit: 0.4,
      shareWithOverrun: 0.5,
      bindingLimit: 'perAgentDay',
      suggestedPerCredit: 1900,
    });
  });

  it('shows a role or currency below minCohort agents as suppressed, with no figures', async () => {
    const res = await t.as(finance.token).get('/v1/reports/limit-fit');
    expect(res.status).toBe(200);
    expect(fitRow(res.body.rows, roleQ, 'EUR')).toEqual({
      role: { id: roleQ, name: 'Small role' },
      currency: 'EUR',
      suppressed: true,
    });
    expect(fitRow(res.body.rows, roleP, 'GBP')).toEqual({
      role: { id: roleP, name: 'Fit role' },
      currency: 'GBP',
      suppressed: true,
    });
    expect(res.body.rows).toHaveLength(6);
  });

  it('describes a role without limits: all credits overrun, nothing to bind, no perCredit to exceed', async () => {
    const res = await t.as(finance.token).get('/v1/reports/limit-fit');
    const row = fitRow(res.body.rows, roleR, 'EUR');
    expect(row).toEqual(
      expect.objectContaining({
        role: { id: roleR, name: 'Open role' },
        credits: 3,
        p50: 200,
        p90: 300,
        p95: 300,
        p99: 300,
        shareWithOverrun: 1,
        bindingLimit: null,
        suggestedPerCredit: 300,
      }),
    );
    expect([null, { perCredit: null, perCase: null, perAgentDay: null, perAgentMonth: null }]).toContainEqual(
      row.limits,
    );
    expect([null, 0]).toContainEqual(row.shareOverPerCredit);
  });

  it('works in whole months and filters by currency', async () => {
    const res = await t.as(finance.token).get(`/v1/reports/limit-fit?from=${Dr}&to=${D}`);
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(firstOfMonth(Dr));
    expect(res.body.to).toBe(lastOfMonth(D));
    expect(fitRow(res.body.rows, roleP, 'EUR')).toEqual(expect.objectContaining({ credits: 20, p95: 1900 }));

    const past = await t.as(finance.token).get(`/v1/reports/limit-fit?from=2025-01-10&to=2025-03-05`);
    expect(past.status).toBe(200);
    expect(past.body).toEqual(expect.objectContaining({ from: '2025-01-01', to: '2025-03-31', rows: [] }));

    const gbp = await t.as(finance.token).get(`/v1/reports/limit-fit?currency=GBP`);
    expect(gbp.status).toBe(200);
    expect(gbp.body.rows).toEqual([{ role: { id: roleP, name: 'Fit role' }, currency: 'GBP', suppressed: true }]);
  });

  it('an agent whose only credit was reversed no longer counts towards the cohort', async () => {
    const res = await t.as(finance.token).get('/v1/reports/limit-fit');
    expect(fitRow(res.body.rows, roleT, 'EUR')).toEqual({
      role: { id: roleT, name: 'Thin role' },
      currency: 'EUR',
      suppressed: true,
    });
    // Spend on D in EUR: P (4 agents) and R (3) show; Q {q1, q2} and T {t1, t2} form the bucket.
    // P on D: 100..1600 by hundreds = 13600, within 4 × 2000 (perAgentDay) = 8000, 6 with overrun.
    const spend = await t.as(finance.token).get(`/v1/reports/spend?from=${D}&to=${D}&groupBy=role&currency=EUR`);
    expect(spend.status).toBe(200);
    expect(sorted(spend.body.rows)).toEqual(
      sorted([
        { role: { id: roleP, name: 'Fit role' }, currency: 'EUR', ...fig(16, 13600, 8000, 5600, 6) },
        { role: { id: roleR, name: 'Open role' }, currency: 'EUR', ...fig(3, 600, 0, 600, 3) },
      ]),
    );
    expect(spend.body.suppressed).toEqual([{ currency: 'EUR', rows: 2, ...fig(4, 1600, 1600, 0, 0) }]);
    expect(spend.body.totals).toEqual([{ currency: 'EUR', ...fig(23, 15800, 9600, 6200, 9) }]);
  });

  it('rounds shares to the nearest ten-thousandth (2 of 3 → 0.6667)', async () => {
    const res = await t.as(finance.token).get('/v1/reports/limit-fit');
    const row = fitRow(res.body.rows, roleS, 'EUR');
    expect(row).toEqual(
      expect.objectContaining({
        credits: 3,
        limits: { perCredit: 150, perCase: null, perAgentDay: null, perAgentMonth: null },
        p50: 200,
        p99: 300,
        bindingLimit: 'perCredit',
        suggestedPerCredit: 300,
      }),
    );
    // toBeCloseTo(x, 4) demands |share − 2/3| < 0.00005: 0.6667 passes, a truncated 0.6666 does not.
    expect(row.shareOverPerCredit).toBeCloseTo(2 / 3, 4);
    expect(row.shareWithOverrun).toBeCloseTo(2 / 3, 4);
  });

  it('leaves reversed credits out of the spend report too', async () => {
    const reversedDay = await t.as(finance.token).get(`/v1/reports/spend?from=${Dr}&to=${Dr}&groupBy=role`);
    expect(reversedDay.status).toBe(200);
    expect(reversedDay.body).toEqual(expect.objectContaining({ rows: [], suppressed: [], totals: [] }));
  });

  it('names no agent', async () => {
    for (const url of ['/v1/reports/limit-fit', `/v1/reports/limit-fit?from=${Dr}&to=${D}&currency=EUR`]) {
      const res = await t.as(leader.token).get(url);
      expect(res.status).toBe(200);
      expectNoAgentIdentity(res.text, everyone, url);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * LEEWAY_MIN_COHORT 4 and LEEWAY_TIMEZONE Pacific/Kiritimati (UTC+14). Role "Island role", teams
 * T1 and T2 with 3 agents each; every agent logs EUR 100 at noon UTC three days ago, which is 02:00
 * the next local day. With a cohort of 4 neither team may be shown (each would be with 3), but the
 * bucket of both covers 6 agents and so shows its figures.
 */
describe('reports: configured cohort and local days (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let roleId: string;
  const utcDay = daysAgo(3);
  const localDay = daysAgo(2);

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 4, timezone: 'Pacific/Kiritimati' });
    const leader = await createUser(t, ['leader']);
    finance = await createUser(t, ['finance']);
    roleId = await createRole(t, 'Island role');
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 1000 }]);
    for (const name of ['Atoll one', 'Atoll two']) {
      const teamId = await createTeam(t, name);
      for (let i = 0; i < 3; i++) {
        const agent = await createUser(t, ['agent'], { roleId, teamId });
        await give(t, agent, utcDay, 100, 'EUR');
      }
    }
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('hides groups below the configured cohort of 4 and shows their bucket of 6 agents', async () => {
    const res = await t.as(finance.token).get(`/v1/reports/spend?from=${localDay}&to=${localDay}&groupBy=team`);
    expect(res.status).toBe(200);
    expect(res.body.minCohort).toBe(4);
    expect(res.body.rows).toEqual([]);
    expect(res.body.suppressed).toEqual([{ currency: 'EUR', rows: 2, ...fig(6, 600, 600, 0, 0) }]);
    expect(res.body.totals).toEqual([{ currency: 'EUR', ...fig(6, 600, 600, 0, 0) }]);
  });

  it('counts a credit on its local day, not its UTC day', async () => {
    const utc = await t.as(finance.token).get(`/v1/reports/spend?from=${utcDay}&to=${utcDay}`);
    expect(utc.status).toBe(200);
    expect(utc.body).toEqual(expect.objectContaining({ rows: [], suppressed: [], totals: [] }));
    const byDay = await t.as(finance.token).get(`/v1/reports/spend?from=${utcDay}&to=${localDay}&period=day`);
    expect(byDay.body.rows).toEqual([{ period: localDay, currency: 'EUR', ...fig(6, 600, 600, 0, 0) }]);
  });

  it('limit-fit shows the role once 4 or more agents are behind it', async () => {
    const res = await t.as(finance.token).get(`/v1/reports/limit-fit?from=${utcDay}&to=${localDay}`);
    expect(res.status).toBe(200);
    expect(res.body.minCohort).toBe(4);
    expect(res.body.rows).toEqual([
      expect.objectContaining({
        role: { id: roleId, name: 'Island role' },
        currency: 'EUR',
        credits: 6,
        p50: 100,
        p95: 100,
        shareOverPerCredit: 0,
        shareWithOverrun: 0,
        bindingLimit: null,
      }),
    ]);
  });
});
