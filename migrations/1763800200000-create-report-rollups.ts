import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollups the reports read instead of scanning credits. They are derived state, maintained in each
 * credit's and reversal's own transaction, and can always be rebuilt from the ledger
 * (`src/reports/rollups.ts` holds both the maintenance and the rebuild).
 *
 * - report_cells: sums per local day ('d') and per local month ('m') × currency × role × team ×
 *   reason × kind × channel, and per local month × currency × reason × kind × channel ('r', role and
 *   team left out so reports by reason, kind or channel read few rows), excluding reversed credits,
 *   plus `agents`: up to AGENT_SAMPLE (20) of the agents behind the cell. Fewer than 20 means
 *   "exactly these agents", which is all cohort suppression needs (LEEWAY_MIN_COHORT is at most 20).
 * - report_cell_agents: how many unreversed credits each agent has in a cell, so a reversal can
 *   tell whether the agent still belongs to the cell and refill the sample.
 * - report_agent_months: sums per local month × currency × role × team × agent. Each row belongs to
 *   one agent, so only that agent's own (already serialised) writes touch it; reports by role and
 *   team read it and count distinct agents exactly. It is never shown per agent.
 * - report_amounts: per local month × role × currency, how many credits had each exact amount and
 *   which limit bound them, so limit-fit percentiles are exact without reading credits.
 */
export class CreateReportRollups1763800200000 implements MigrationInterface {
  name = 'CreateReportRollups1763800200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE report_cells (
        id bigint GENERATED ALWAYS AS IDENTITY,
        grain char(1) NOT NULL,
        bucket date NOT NULL,
        currency char(3) NOT NULL,
        role_id uuid,
        team_id uuid,
        reason_code text NOT NULL,
        kind text NOT NULL,
        channel text,
        credits bigint NOT NULL,
        amount bigint NOT NULL,
        within_discretion bigint NOT NULL,
        overrun bigint NOT NULL,
        credits_with_overrun bigint NOT NULL,
        agents uuid[] NOT NULL DEFAULT '{}',
        CONSTRAINT report_cells_pk PRIMARY KEY (id),
        CONSTRAINT report_cells_key UNIQUE NULLS NOT DISTINCT
          (grain, bucket, currency, role_id, team_id, reason_code, kind, channel),
        CONSTRAINT report_cells_grain_ck CHECK (grain IN ('d', 'm', 'r')),
        CONSTRAINT report_cells_shape_ck CHECK (grain <> 'r' OR (role_id IS NULL AND team_id IS NULL)),
        CONSTRAINT report_cells_sums_ck CHECK (
          credits >= 0 AND amount >= 0 AND within_discretion >= 0 AND overrun >= 0
          AND credits_with_overrun >= 0 AND within_discretion + overrun = amount),
        CONSTRAINT report_cells_agents_ck CHECK (cardinality(agents) <= 20)
      )`);
    await q.query(`
      CREATE TABLE report_cell_agents (
        cell_id bigint NOT NULL,
        agent_id uuid NOT NULL,
        credits integer NOT NULL,
        CONSTRAINT report_cell_agents_pk PRIMARY KEY (cell_id, agent_id),
        CONSTRAINT report_cell_agents_cell_fk FOREIGN KEY (cell_id) REFERENCES report_cells (id),
        CONSTRAINT report_cell_agents_credits_ck CHECK (credits > 0)
      )`);
    await q.query(`
      CREATE TABLE report_amounts (
        month date NOT NULL,
        role_id uuid,
        currency char(3) NOT NULL,
        amount bigint NOT NULL,
        credits bigint NOT NULL,
        credits_with_overrun bigint NOT NULL,
        bound_per_credit bigint NOT NULL,
        bound_per_case bigint NOT NULL,
        bound_per_agent_day bigint NOT NULL,
        bound_per_agent_month bigint NOT NULL,
        CONSTRAINT report_amounts_key UNIQUE NULLS NOT DISTINCT (month, role_id, currency, amount),
        CONSTRAINT report_amounts_counts_ck CHECK (credits >= 0 AND credits_with_overrun >= 0)
      )`);
    await q.query(`
      CREATE TABLE report_agent_months (
        month date NOT NULL,
        currency char(3) NOT NULL,
        role_id uuid,
        team_id uuid,
        agent_id uuid NOT NULL,
        credits bigint NOT NULL,
        amount bigint NOT NULL,
        within_discretion bigint NOT NULL,
        overrun bigint NOT NULL,
        credits_with_overrun bigint NOT NULL,
        CONSTRAINT report_agent_months_key UNIQUE NULLS NOT DISTINCT (month, currency, role_id, team_id, agent_id),
        CONSTRAINT report_agent_months_sums_ck CHECK (
          credits >= 0 AND amount >= 0 AND within_discretion >= 0 AND overrun >= 0
          AND credits_with_overrun >= 0 AND within_discretion + overrun = amount)
      )`);
    // A migration holds its own SQL: the rollups start empty here (on a new database there is nothing
    // to roll up), and DropReportRollups1764700000000 removes them since reports read releases.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE report_agent_months`);
    await q.query(`DROP TABLE report_amounts`);
    await q.query(`DROP TABLE report_cell_agents`);
    await q.query(`DROP TABLE report_cells`);
  }
}
