import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { splitCredit } from '../src/credits/split-rule';
import { checkInvariants } from '../src/ledger/invariants';
import { TestApp } from './support/app';
import { createRole, createUser, setLimits, TestUser } from './support/factories';
import { expectProblem } from './support/problems';
import { DAY_MS } from './support/time';

/**
 * POST /v1/imports: historical credits from CSV, all or nothing, the same rules as every credit,
 * and a second import of the same file changes nothing.
 */
describe('CSV import of historical credits (e2e)', () => {
  let t: TestApp;
  let agent: TestUser;
  let shop: TestUser;
  let roleId: string;
  const agentRef = `agent-${randomUUID().slice(0, 8)}`;
  const run = randomUUID().slice(0, 6);
  const HEADER = 'externalId,agentRef,amount,currency,kind,reasonCode,caseRef,occurredAt,customerRef,channel,note';
  const day = (daysAgo: number, hour = 10) => {
    const d = new Date(Date.now() - daysAgo * DAY_MS);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };

  const ledger = async () =>
    (
      await t.query<{ credits: number; postings: number; keys: number; events: number }>(
        `SELECT (SELECT count(*)::int FROM credits) AS credits, (SELECT count(*)::int FROM postings) AS postings,
                (SELECT count(*)::int FROM idempotency_keys) AS keys, (SELECT count(*)::int FROM events) AS events`,
      )
    )[0];

  const importFile = (csv: string, opts: { token?: string; integrationId?: string | null } = {}) =>
    t.request(
      'POST',
      opts.integrationId === null ? '/v1/imports' : `/v1/imports?integrationId=${opts.integrationId ?? shop.id}`,
      { token: opts.token, rawBody: csv, headers: { 'content-type': 'text/csv; charset=utf-8' } },
    );

  beforeAll(async () => {
    t = await TestApp.start();
    roleId = await createRole(t);
    const leader = await createUser(t, ['leader']);
    agent = await createUser(t, ['agent'], { roleId });
    expect((await t.request('PATCH', `/v1/users/${agent.id}`, { body: { externalRef: agentRef } })).status).toBe(200);
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 5000, perAgentDay: 8000 }]);
    shop = await createUser(t, ['integration'], { displayName: 'Shop' });
  });

  afterAll(() => t.close());

  it('imports every row in file order with the split of the day it occurred, and a second import changes nothing', async () => {
    const when = day(40);
    const csv = [
      HEADER,
      `${run}-1,${agentRef},5000,EUR,refund,late_delivery,CASE-H1,${when},CUST-1,phone,`,
      `${run}-2,${agentRef},6000,EUR,store_credit,late_delivery,CASE-H2,${when},,,"Late again, ""sorry""\nsecond line"`,
      `${run}-3,${agentRef},250,EUR,voucher,late_delivery,CASE-H3,${day(400)},,,`,
    ].join('\n');
    const before = await ledger();
    const res = await importFile(csv);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ system: 'Shop', rows: 3, created: 3, unchanged: 0 });
    const credits = await t.query<{
      source_external_id: string;
      amount: string;
      within_discretion: string;
      overrun: string;
      occurred_at: Date;
      note: string | null;
      source_system: string;
    }>(
      `SELECT source_external_id, amount::text, within_discretion::text, overrun::text, occurred_at, note, source_system
         FROM credits WHERE source_external_id LIKE $1 ORDER BY source_external_id`,
      [`${run}-%`],
    );
    // Row 2 comes after row 1 on the same day: 3,000 of the day's 8,000 is left within discretion.
    expect(credits.map((c) => [c.source_external_id, c.amount, c.within_discretion, c.overrun])).toEqual([
      [`${run}-1`, '5000', '5000', '0'],
      [`${run}-2`, '6000', '3000', '3000'],
      [`${run}-3`, '250', '250', '0'],
    ]);
    expect(credits[1].note).toBe('Late again, "sorry"\nsecond line');
    expect(credits[2].occurred_at.toISOString()).toBe(day(400));
    expect(credits.every((c) => c.source_system === 'Shop')).toBe(true);
    const after = await ledger();
    expect(after.credits).toBe(before.credits + 3);
    // History was paid long ago: no webhook events for it.
    expect(after.events).toBe(before.events);
    const [audit] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'credits.imported' AND subject_id = $1 ORDER BY id DESC LIMIT 1`,
      [shop.id],
    );
    expect(audit.details).toMatchObject({ rows: 3, created: 3, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // Again, by the admin and by the integration itself: nothing changes.
    expect((await importFile(csv)).body).toEqual({ system: 'Shop', rows: 3, created: 0, unchanged: 3 });
    const itself = await importFile(csv, { token: shop.token, integrationId: null });
    expect(itself.body).toEqual({ system: 'Shop', rows: 3, created: 0, unchanged: 3 });
    expect(await ledger()).toEqual(after);
    // The agent sees the imported credits as their own, with their source.
    const own = await t.as(agent.token).get('/v1/credits?limit=100');
    expect(own.body.data.filter((c: { source: unknown }) => c.source !== null)).toHaveLength(3);
  });

  it('reports every invalid row with its line and field, and writes nothing, not even the valid rows', async () => {
    await importFile([HEADER, `${run}-old,${agentRef},100,EUR,refund,late_delivery,CASE-O,${day(3)},,,`].join('\n'));
    const before = await ledger();
    const csv = [
      HEADER,
      `${run}-ok,${agentRef},100,EUR,refund,late_delivery,CASE-OK,${day(2)},,,`,
      `${run}-a,${agentRef},12.50,EUR,refund,late_delivery,CASE-A,${day(2)},,,`,
      `${run}-b,nobody-${run},100,EUR,refund,late_delivery,CASE-B,${day(2)},,,`,
      `${run}-ok,${agentRef},100,EUR,refund,late_delivery,CASE-OK,${day(2)},,,`,
      `${run}-c,${agentRef},100,EUR,refund,late_delivery,CASE-C,${new Date(Date.now() + DAY_MS).toISOString()},,,`,
      `${run}-d,${agentRef},100,EURO,teleport,no_such_reason,CASE-D,${day(2)},,fax,`,
      `${run}-old,${agentRef},999,EUR,refund,late_delivery,CASE-O,${day(3)},,,`,
      `${run}-e,${agentRef},100,EUR,refund,unknown_reason_x,CASE-E,yesterday,,,`,
    ].join('\n');
    const res = await importFile(csv);
    expectProblem(res, 422, 'invalid-import');
    const byLine = (res.body.errors as Array<{ line: number; field: string }>).map((e) => `${e.line} ${e.field}`);
    expect(byLine).toEqual([
      '3 amount',
      '4 agentRef',
      '5 externalId',
      '6 occurredAt',
      '7 currency',
      '7 kind',
      '7 channel',
      '8 externalId',
      '9 occurredAt',
      '9 occurredAt',
    ]);
    expect(res.body.errors.find((e: { line: number }) => e.line === 8).message).toBe(
      'externalId was logged before with another amount',
    );
    expect(res.body.errors.find((e: { line: number }) => e.line === 5).message).toBe('externalId is also on line 2');
    expect(res.body.detail).toMatch(/^10 problems in the file, nothing was imported; the first, on line 3: /);
    expect(await ledger()).toEqual(before);
  });

  it('names the reason a file cannot be read: header, emptiness, CSV syntax, media type', async () => {
    const before = await ledger();
    const missing = await importFile('externalId,agentRef,amount,colour\nx,y,1,red');
    expectProblem(missing, 422, 'invalid-import');
    expect(missing.body.errors).toEqual(
      expect.arrayContaining([
        { line: 1, field: 'colour', message: 'colour is not a known column' },
        { line: 1, field: 'currency', message: 'the currency column is required' },
      ]),
    );
    expectProblem(await importFile(''), 422, 'invalid-import');
    expectProblem(await importFile(`${HEADER}\n`), 422, 'invalid-import');
    const unclosed = await importFile(`${HEADER}\n"a,${agentRef},1,EUR,refund,late_delivery,C,${day(1)},,,`);
    expectProblem(unclosed, 422, 'invalid-import');
    expect(unclosed.body.errors[0]).toMatchObject({ field: 'file' });
    const ragged = await importFile(`${HEADER}\nx,${agentRef},1`);
    expectProblem(ragged, 422, 'invalid-import');
    expect(ragged.body.errors[0]).toMatchObject({ field: 'file', line: 2 });
    const json = await t.request('POST', `/v1/imports?integrationId=${shop.id}`, { body: { rows: [] } });
    expectProblem(json, 415, 'unsupported-media-type');
    const csvToCredits = await t.request('POST', '/v1/credits', {
      token: agent.token,
      rawBody: 'a,b\n1,2',
      headers: { 'content-type': 'text/csv', 'idempotency-key': randomUUID() },
    });
    expectProblem(csvToCredits, 415, 'unsupported-media-type');
    expect(await ledger()).toEqual(before);
  });

  it('asks an admin which integration the credits come from, and an integration imports only as itself', async () => {
    const csv = [HEADER, `${run}-who,${agentRef},100,EUR,refund,late_delivery,CASE-W,${day(1)},,,`].join('\n');
    const none = await importFile(csv, { integrationId: null });
    expectProblem(none, 400, 'validation');
    expect(none.body.errors[0].field).toBe('integrationId');
    expectProblem(await importFile(csv, { integrationId: agent.id }), 400, 'validation');
    const other = await createUser(t, ['integration'], { displayName: 'Other' });
    expectProblem(await importFile(csv, { token: other.token, integrationId: shop.id }), 400, 'validation');
    expectProblem(await importFile(csv, { token: agent.token }), 403, 'forbidden');
  });

  it('runs one import per integration at a time: a simultaneous second import logs nothing twice', async () => {
    const rows = Array.from(
      { length: 400 },
      (_, i) => `${run}-race-${i},${agentRef},10,EUR,refund,late_delivery,CASE-R${i},${day(5)},,,`,
    );
    const csv = [HEADER, ...rows].join('\n');
    const before = await ledger();
    const [a, b] = await Promise.all([importFile(csv), importFile(csv)]);
    const statuses = [a.status, b.status].sort();
    expect([
      [200, 200],
      [200, 409],
    ]).toContainEqual(statuses);
    const created = [a, b].filter((r) => r.status === 200).reduce((sum, r) => sum + r.body.created, 0);
    expect(created).toBe(400);
    expect((await ledger()).credits).toBe(before.credits + 400);
  });

  it('writes nothing when the upload is cut off before the end of the file', async () => {
    const base = await t.listen();
    const rows = Array.from(
      { length: 2000 },
      (_, i) => `${run}-cut-${i},${agentRef},10,EUR,refund,late_delivery,CASE-C${i},${day(6)},,,`,
    );
    const csv = [HEADER, ...rows].join('\n') + '\n';
    const before = await ledger();
    const { port } = new URL(base);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/imports?integrationId=${shop.id} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            `Authorization: Bearer test-admin-token-0123456789abcdef\r\nContent-Type: text/csv\r\n` +
            `Content-Length: ${Buffer.byteLength(csv)}\r\n\r\n`,
        );
        // Whole lines only, so that what arrived would parse as a shorter valid file.
        const cut = csv.slice(0, csv.indexOf('\n', Math.floor(csv.length / 2)) + 1);
        socket.write(cut, () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // The import's transaction ends with the request; then the same file imports whole.
    let whole = await importFile(csv);
    for (let i = 0; i < 50 && whole.status === 409; i++) {
      await new Promise((r) => setTimeout(r, 100));
      whole = await importFile(csv);
    }
    expect(whole.body).toEqual({ system: 'Shop', rows: 2000, created: 2000, unchanged: 0 });
    expect((await ledger()).credits).toBe(before.credits + 2000);
  });

  it('splits a large random file exactly as logging its rows one by one in file order would', async () => {
    // Two agents in a role with every kind of limit, one without a role (unbudgeted), a few cases
    // shared between them and a live credit already on the first agent's day: 25,000 rows span
    // more than one logging statement, so the usage carried between them is checked too.
    const leader = await createUser(t, ['leader']);
    const tight = await createRole(t);
    await setLimits(t, leader.token, tight, [
      { currency: 'EUR', perCredit: 3000, perCase: 9000, perAgentDay: 12000, perAgentMonth: 150000 },
    ]);
    const refs = [0, 1, 2].map((i) => `model-${run}-${i}`);
    for (const [i, ref] of refs.entries()) {
      const user = await createUser(t, ['agent'], i < 2 ? { roleId: tight } : {});
      await t.request('PATCH', `/v1/users/${user.id}`, { body: { externalRef: ref } });
    }
    const seed = Date.now() % 100_000;
    let state = seed;
    const random = (n: number) => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state % n;
    };
    const cases = Array.from({ length: 40 }, (_, i) => `CASE-M${run}-${i}`);
    const days = [2, 9, 40, 41].map((d) => day(d));
    const rows = Array.from({ length: 25_000 }, (_, i) => ({
      externalId: `${run}-model-${i}`,
      agentRef: refs[random(3)],
      amount: 1 + random(4000),
      caseRef: cases[random(cases.length)],
      occurredAt: days[random(days.length)],
    }));
    const csv = [
      'externalId,agentRef,amount,currency,kind,reasonCode,caseRef,occurredAt',
      ...rows.map(
        (r) => `${r.externalId},${r.agentRef},${r.amount},EUR,refund,late_delivery,${r.caseRef},${r.occurredAt}`,
      ),
    ].join('\n');
    const res = await importFile(csv);
    expect({ seed, status: res.status, created: res.body.created }).toEqual({ seed, status: 200, created: 25_000 });

    // The model: the rule in TypeScript, applied row by row with the usage the rows add up.
    const limits = { perCredit: 3000n, perCase: 9000n, perAgentDay: 12000n, perAgentMonth: 150000n };
    const used = new Map<string, bigint>();
    const add = (key: string, amount: bigint) => used.set(key, (used.get(key) ?? 0n) + amount);
    const expected = rows.map((r) => {
      const amount = BigInt(r.amount);
      const month = r.occurredAt.slice(0, 7);
      const usage = {
        usedCase: used.get(`c ${r.caseRef}`) ?? 0n,
        usedDay: used.get(`d ${r.agentRef} ${r.occurredAt.slice(0, 10)}`) ?? 0n,
        usedMonth: used.get(`m ${r.agentRef} ${month}`) ?? 0n,
      };
      add(`c ${r.caseRef}`, amount);
      add(`d ${r.agentRef} ${r.occurredAt.slice(0, 10)}`, amount);
      add(`m ${r.agentRef} ${month}`, amount);
      const split = splitCredit(amount, r.agentRef === refs[2] ? null : limits, usage);
      return `${r.externalId} ${split.within} ${split.overrun} ${split.bindingLimit}`;
    });
    const stored = await t.query<{ line: string }>(
      `SELECT source_external_id || ' ' || within_discretion || ' ' || overrun || ' ' || coalesce(binding_limit, 'null') AS line
         FROM credits WHERE source_external_id LIKE $1
        ORDER BY split_part(source_external_id, '-model-', 2)::int`,
      [`${run}-model-%`],
    );
    const actual = stored.map((r) => r.line);
    const firstDifference = actual.findIndex((line, i) => line !== expected[i]);
    expect({ seed, firstDifference, row: actual[firstDifference] ?? null }).toEqual({
      seed,
      firstDifference: -1,
      row: null,
    });
    expect(actual).toHaveLength(25_000);
  }, 120_000);

  it('keeps every ledger invariant', async () => {
    expect((await checkInvariants(t.dataSource)).filter((r) => !r.ok)).toEqual([]);
  });
});
