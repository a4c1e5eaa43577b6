import { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateReportRollups1763800200000 } from './1763800200000-create-report-rollups';
import { QueueRollupChanges1763900000000 } from './1763900000000-queue-rollup-changes';

/**
 * Reports read closed-month releases now, never live data, so the live rollups, their queue and
 * their agent samples go: a credit's transaction writes no report row at all.
 */
export class DropReportRollups1764700000000 implements MigrationInterface {
  name = 'DropReportRollups1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE report_pending`);
    await q.query(`DROP TABLE report_agent_months, report_amounts, report_cell_agents, report_cells`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The tables come back empty; the releases hold what reports need.
    await new CreateReportRollups1763800200000().up(q);
    await new QueueRollupChanges1763900000000().up(q);
  }
}
