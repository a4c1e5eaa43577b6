import { TestApp } from './app';

const ENTRIES = [
  { table: 'credits', kind: 'credit', ids: 'creditIds' },
  { table: 'credit_reversals', kind: 'reversal', ids: 'reversalIds' },
] as const;
const TABLES = ['credits', 'credit_reversals', 'postings'];

/**
 * Moves the recording time of entries (credits, reversals and their postings) back by whole
 * months, as if they had been recorded then: the same data as waiting for those months to close,
 * without waiting. The ledger's append-only triggers are suspended for this one statement batch
 * only (a test database belongs to one spec file). `occurred_at` and the usage counters stay as
 * they are: they belong to the split rule, not to the month an entry is reported in.
 */
export async function backdate(t: TestApp, months: number, where: { creditIds?: string[]; reversalIds?: string[] }) {
  await t.dataSource.transaction(async (m) => {
    for (const table of TABLES) await m.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    const shift = `make_interval(months => ${Math.trunc(months)})`;
    for (const entry of ENTRIES) {
      const ids = where[entry.ids];
      if (!ids?.length) continue;
      await m.query(`UPDATE ${entry.table} SET recorded_at = recorded_at - ${shift} WHERE id = ANY($1::uuid[])`, [ids]);
      await m.query(
        `UPDATE postings SET posted_at = posted_at - ${shift} WHERE entry_kind = $2 AND entry_id = ANY($1::uuid[])`,
        [ids, entry.kind],
      );
    }
    for (const table of TABLES) await m.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  });
}
