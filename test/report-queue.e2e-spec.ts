import { QueryRunner } from 'typeorm';
import { checkInvariants } from '../src/ledger/invariants';
import { foldPending, rebuildRollups } from '../src/reports/rollups';
import { createRole, createTeam, createUser, creditBody, postCredit, TestUser } from './factories';
import { TestApp } from './support/app';

/**
 * Credits queue their report change; folds move committed changes into the rollups. Each change
 * must be counted exactly once: whatever the batch boundaries, however many folds run at once,
 * and whether a fold commits or fails. Holding the fold lock from a test connection keeps changes
 * queued for as long as a test needs (the background fold gives way to it).
 */
describe('report queue and folds (e2e)', () => {
  let t: TestApp;
  let finance: TestUser;
  let agents: TestUser[];
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await TestApp.start({ minCohort: 3 });
    const roleId = await createRole(t);
    const teamId = await createTeam(t);
    finance = await createUser(t, ['finance']);
    agents = [];
    for (let i = 0; i < 4; i++) agents.push(await createUser(t, ['agent'], { roleId, teamId }));
  }, 60_000);

  afterAll(() => t.close());

  /**
   * Keeps every other fold out until released (a report's fold waits; the background fold gives
   * way). Folds and rebuilds on the returned connection still run: advisory locks are re-entrant
   * within a session.
   */
  async function holdFoldLock(): Promise<{ q: QueryRunner; release: () => Promise<void> }> {
    const q = t.dataSource.createQueryRunner();
    await q.query(`SELECT pg_advisory_lock(hashtext('leeway.report_fold'))`);
    return {
      q,
      release: async () => {
        await q.query(`SELECT pg_advisory_unlock(hashtext('leeway.report_fold'))`);
        await q.release();
      },
    };
  }

  async function credit(agent: TestUser, amount: number, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await postCredit(t, agent.token, creditBody({ amount, ...extra }));
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function reverse(id: string): Promise<void> {
    const res = await t.as(finance.token).post(`/v1/credits/${id}/reversal`, { reason: 'Entered twice' });
    expect(res.status).toBe(201);
  }

  const queued = async () =>
    (await t.query<{ sign: number; n: number }>(`SELECT sign, count(*)::int AS n FROM report_pending GROUP BY sign`))
      .map((r) => `${r.sign}:${r.n}`)
      .sort();

  /** Live EUR spend straight from the ledger, as the report's totals should state it. */
  async function ledgerTotals(): Promise<{ credits: number; amount: string }> {
    const [row] = await t.query<{ credits: number; amount: string }>(
      `SELECT count(*)::int AS credits, coalesce(sum(amount), 0)::text AS amount FROM credits c
        WHERE currency = 'EUR' AND NOT EXISTS (SELECT 1 FROM credit_reversals r WHERE r.credit_id = c.id)`,
    );
    return row;
  }

  const spendReport = () => t.as(finance.token).get(`/v1/reports/spend?from=${today}&to=${today}&currency=EUR`);

  function totalsOf(body: any): { credits: number; amount: string } {
    const eur = body.totals.find((x: any) => x.currency === 'EUR');
    return { credits: Number(eur.credits), amount: String(eur.amount) };
  }

  async function expectInvariants(): Promise<void> {
    expect((await checkInvariants(t.dataSource)).filter((r) => !r.ok)).toEqual([]);
  }

  it('a credit commits without waiting for the rollups; a report folds it in before it reads', async () => {
    const { release } = await holdFoldLock();
    let reportDone = false;
    let report: Promise<any> | undefined;
    try {
      const cellsBefore = await t.query(`SELECT id, credits, amount FROM report_cells ORDER BY id`);
      for (const [i, a] of agents.entries()) await credit(a, 1000 + i);
      expect(await queued()).toEqual(['1:4']);
      // Nothing reached the rollups yet, and the invariants account for what is queued.
      expect(await t.query(`SELECT id, credits, amount FROM report_cells ORDER BY id`)).toEqual(cellsBefore);
      await expectInvariants();

      report = spendReport().then((r) => {
        reportDone = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 400));
      expect(reportDone).toBe(false); // it waits for the fold rather than reading stale rollups
    } finally {
      await release();
    }
    const res = await report!;
    expect(res.status).toBe(200);
    expect(totalsOf(res.body)).toEqual(await ledgerTotals());
    expect(totalsOf(res.body).credits).toBe(4);
    expect(await queued()).toEqual([]);
    await expectInvariants();
  });

  it('a credit and its reversal folded in one batch leave no trace in the rollups', async () => {
    const { release } = await holdFoldLock();
    try {
      const id = await credit(agents[0], 777, { reasonCode: 'long_wait', kind: 'store_credit', channel: 'email' });
      await reverse(id);
      expect(await queued()).toEqual(['-1:1', '1:1']);
      await expectInvariants();
    } finally {
      await release();
    }
    const res = await spendReport();
    expect(totalsOf(res.body)).toEqual(await ledgerTotals());
    expect(await queued()).toEqual([]);
    // The cells this credit created hold nothing, and the agent is a member of none of them.
    const cells = await t.query<{ credits: string; agents: string[]; members: number }>(
      `SELECT c.credits::text AS credits, c.agents,
              (SELECT count(*)::int FROM report_cell_agents a WHERE a.cell_id = c.id) AS members
         FROM report_cells c WHERE reason_code = 'long_wait' AND kind = 'store_credit' AND channel = 'email'`,
    );
    expect(cells).toHaveLength(3);
    expect(cells.every((c) => c.credits === '0' && c.agents.length === 0 && c.members === 0)).toBe(true);
    await expectInvariants();
  });

  it('folds a backlog in bounded batches in queue order, exact after every batch', async () => {
    const { q, release } = await holdFoldLock();
    try {
      const a = await credit(agents[1], 1500, { reasonCode: 'damaged_item' });
      await credit(agents[2], 2500, { reasonCode: 'damaged_item' });
      await reverse(a);
      await credit(agents[3], 3500, { reasonCode: 'damaged_item' });
      expect(await queued()).toEqual(['-1:1', '1:3']);
      // Fold one change at a time on the connection that holds the lock.
      const steps: number[] = [];
      for (;;) {
        await q.startTransaction();
        const folded = await foldPending(q, { wait: true, limit: 1 });
        await q.commitTransaction();
        steps.push(folded!);
        await expectInvariants();
        if (folded === 0) break;
      }
      expect(steps).toEqual([1, 1, 1, 1, 0]);
    } finally {
      await release();
    }
    expect(totalsOf((await spendReport()).body)).toEqual(await ledgerTotals());
  });

  it('a fold that fails leaves its whole batch queued, and the next fold counts it once', async () => {
    const { q, release } = await holdFoldLock();
    try {
      await credit(agents[0], 4100);
      await credit(agents[1], 4200);
      // A queue row naming no credit makes the fold fail after it has deleted and upserted.
      await q.startTransaction();
      await q.query(`INSERT INTO report_pending (credit_id, sign) VALUES (gen_random_uuid(), 1)`);
      const cellsBefore = await q.query(`SELECT id, credits, amount, agents FROM report_cells ORDER BY id`);
      await q.query(`SAVEPOINT fold`);
      await expect(foldPending(q, { wait: true })).rejects.toThrow(/names 1 credit\(s\) that do not exist/);
      await q.query(`ROLLBACK TO SAVEPOINT fold`);
      expect(await q.query(`SELECT id, credits, amount, agents FROM report_cells ORDER BY id`)).toEqual(cellsBefore);
      expect(await q.query(`SELECT count(*)::int AS n FROM report_pending`)).toEqual([{ n: 3 }]);
      await q.rollbackTransaction();
    } finally {
      await release();
    }
    expect(await queued()).toEqual(['1:2']);
    const res = await spendReport();
    expect(totalsOf(res.body)).toEqual(await ledgerTotals());
    expect(await queued()).toEqual([]);
    await expectInvariants();
  });

  it('many folds at once, beside many writers, count every credit exactly once', async () => {
    const writes = Array.from({ length: 40 }, (_, i) =>
      credit(agents[i % agents.length], 100 + i, { reasonCode: i % 2 ? 'late_delivery' : 'billing_error' }),
    );
    const folds = Array.from({ length: 8 }, (_, i) =>
      (async () => {
        for (let round = 0; round < 5; round++) {
          await t.dataSource.transaction((m) => foldPending(m, { wait: i % 2 === 0 }));
        }
      })(),
    );
    const ids = await Promise.all(writes);
    await Promise.all(folds);
    for (const id of ids.slice(0, 5)) await reverse(id);
    expect(totalsOf((await spendReport()).body)).toEqual(await ledgerTotals());
    expect(await queued()).toEqual([]);
    await expectInvariants();
  });

  it('the background fold drains the queue without any report being asked for', async () => {
    await credit(agents[2], 900);
    await credit(agents[3], 901);
    const deadline = Date.now() + 10_000;
    while ((await queued()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await queued()).toEqual([]);
    await expectInvariants();
  });

  it('a rebuild beside queued changes leaves them queued and counts nothing twice', async () => {
    const { q, release } = await holdFoldLock();
    try {
      const id = await credit(agents[0], 5100);
      await credit(agents[1], 5200);
      await reverse(id);
      await q.startTransaction();
      await rebuildRollups(q);
      await q.commitTransaction();
      expect(await queued()).toEqual(['-1:1', '1:2']);
      await expectInvariants();
    } finally {
      await release();
    }
    expect(totalsOf((await spendReport()).body)).toEqual(await ledgerTotals());
    await expectInvariants();
  });
});
