import { TestApp } from './app';

const MOVED = [
  ['credits', 'recorded_at'],
  ['credit_reversals', 'recorded_at'],
  ['postings', 'posted_at'],
] as const;

/**
 * Moves the recording time of entries (credits, reversals and their postings) back by whole
 * months, as if they had been recorded then: the same data as waiting for those months to close,
 * without waiting. The ledger's append-only triggers are suspended for this one statement batch
 * only (a test database belongs to one spec file). `occurred_at` and the usage counters stay as
 * they are: they belong to the split rule, not to the month an entry is reported in.
 */
export async function backdate(t: TestApp, months: number, where: { creditIds?: string[]; reversalIds?: string[] }) {
  await t.dataSource.transaction(async (m) => {
    for (const [table] of MOVED) await m.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    const shift = `make_interval(months => ${Math.trunc(months)})`;
    if (where.creditIds?.length) {
      await m.query(`UPDATE credits SET recorded_at = recorded_at - ${shift} WHERE id = ANY($1::uuid[])`, [
        where.creditIds,
      ]);
      await m.query(
        `UPDATE postings SET posted_at = posted_at - ${shift} WHERE entry_kind = 'credit' AND entry_id = ANY($1::uuid[])`,
        [where.creditIds],
      );
    }
    if (where.reversalIds?.length) {
      await m.query(`UPDATE credit_reversals SET recorded_at = recorded_at - ${shift} WHERE id = ANY($1::uuid[])`, [
        where.reversalIds,
      ]);
      await m.query(
        `UPDATE postings SET posted_at = posted_at - ${shift} WHERE entry_kind = 'reversal' AND entry_id = ANY($1::uuid[])`,
        [where.reversalIds],
      );
    }
    for (const [table] of MOVED) await m.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  });
}
