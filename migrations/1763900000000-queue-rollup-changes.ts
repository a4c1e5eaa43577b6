import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Takes report rollup maintenance out of the credit's transaction. A credit or reversal now writes
 * one row here, in its own transaction, saying which credit to add to (sign 1) or take out of
 * (sign −1) the rollups; `foldPending` in `src/reports/rollups.ts` moves committed rows into the
 * rollups in batches, one fold at a time, and deletes them in the same transaction, so each change
 * is counted exactly once. Reports fold before they read, so they still see every committed credit.
 *
 * `id` orders the changes: a credit's row always precedes its reversal's, because the reversal can
 * only begin once the credit is committed. No index: the table holds about one second of writes,
 * and an index would cost every credit an extra insert.
 */
export class QueueRollupChanges1763900000000 implements MigrationInterface {
  name = 'QueueRollupChanges1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE report_pending (
        id bigint GENERATED ALWAYS AS IDENTITY,
        credit_id uuid NOT NULL,
        sign smallint NOT NULL,
        CONSTRAINT report_pending_sign_ck CHECK (sign IN (1, -1))
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
              autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE report_pending`);
  }
}
