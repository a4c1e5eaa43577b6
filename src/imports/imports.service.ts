import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { DataSource, QueryRunner } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError, FieldProblem } from '../common/domain-error';
import { pgError } from '../common/pg-errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { csvRows, FileMeter, ValidRow } from './csv-rows';
import { ImportResultView } from './dto/import.dto';

/** Rows staged per INSERT, and lines logged per statement (each well inside the 30 s limits). */
const STAGE_BATCH = 2_000;
const LOG_CHUNK = 20_000;
/** Problems listed in a refusal; the detail gives their total. */
const MAX_LISTED = 1_000;

/** The problems found in a file, in line order, at most MAX_LISTED kept. */
class Problems {
  readonly listed: FieldProblem[] = [];
  count = 0;

  /** Adds problems (in line order; `total` counts those not given too), keeping the list in line order. */
  add(problems: FieldProblem[], total = problems.length): void {
    this.count += total;
    const last = this.listed.at(-1)?.line ?? 0;
    if (this.listed.length >= MAX_LISTED && problems.every((p) => p.line! >= last)) return;
    this.listed.push(...problems);
    if (problems.some((p) => p.line! < last)) this.listed.sort((a, b) => a.line! - b.line!);
    this.listed.length = Math.min(this.listed.length, MAX_LISTED);
  }

  throwIfAny(): void {
    if (this.count === 0) return;
    const first = this.listed[0];
    throw new DomainError(
      'INVALID_IMPORT',
      `${this.count} problem${this.count === 1 ? '' : 's'} in the file, nothing was imported; the first, on line ${first.line}: ${first.message}` +
        (this.count > this.listed.length ? ` (the first ${this.listed.length} are listed)` : ''),
      this.listed,
    );
  }
}

interface Integration {
  id: string;
  name: string;
}

/**
 * Historical credits from a CSV file, all or nothing. The file is read as it arrives and each row
 * checked as POST /v1/credits checks a body; valid rows are staged in a temporary table, so memory
 * stays flat however long the file. Then the database checks every row at once (agents, reasons,
 * externalIds logged before), and only a file without a single problem is logged: in file order,
 * thousands of rows per statement, with the split function and posting lines of every credit and
 * its idempotency (the externalId is the integration's key, so a second import of the file finds
 * every row logged and changes nothing). Imported credits are history: they write no events.
 */
@Injectable()
export class ImportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(caller: Principal, integrationId: string | undefined, body: Readable): Promise<ImportResultView> {
    const integration = await this.integrationFor(caller, integrationId);
    const q = this.dataSource.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction('READ COMMITTED');
      const [{ locked }]: Array<{ locked: boolean }> = await q.query(
        `SELECT pg_try_advisory_xact_lock(hashtext('leeway.import'), hashtext($1)) AS locked`,
        [integration.id],
      );
      if (!locked) {
        throw new DomainError(
          'CONFLICT',
          `An import for ${integration.name} is already running; send this file again once it has finished.`,
        );
      }
      await q.query(`SET LOCAL leeway.no_events = 'on'`);
      await q.query(
        `CREATE TEMP TABLE import_rows (
           line integer PRIMARY KEY, external_id text NOT NULL, agent_ref text NOT NULL, amount bigint NOT NULL,
           currency text NOT NULL, kind text NOT NULL, reason_code text NOT NULL, case_ref text NOT NULL,
           customer_ref text, channel text, note text, occurred_at timestamptz NOT NULL, hash bytea NOT NULL,
           known boolean NOT NULL DEFAULT false) ON COMMIT DROP`,
      );
      const meter = new FileMeter();
      const { rows, lastLine, problems } = await this.stage(q, body, meter);
      await q.query(`ANALYZE import_rows`);
      const found = await this.check(q, integration.id);
      problems.add(found.listed, found.total);
      problems.throwIfAny();
      await this.plan(q);
      let created = 0;
      for (let from = 2; from <= lastLine; from += LOG_CHUNK) {
        created += await this.log(q, integration, from, from + LOG_CHUNK);
      }
      const result: ImportResultView = { system: integration.name, rows, created, unchanged: rows - created };
      await this.audit.record(q.manager, {
        actorId: caller.id,
        action: 'credits.imported',
        subjectType: 'user',
        subjectId: integration.id,
        details: { ...result, bytes: meter.bytes, sha256: meter.digest() },
      });
      await q.commitTransaction();
      return result;
    } catch (error) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw this.explain(error);
    } finally {
      await q.release();
    }
  }

  /** The integration the credits come from: the caller itself, or the one an admin names. */
  private async integrationFor(caller: Principal, integrationId: string | undefined): Promise<Integration> {
    if (caller.access.includes('integration')) {
      if (integrationId !== undefined && integrationId !== caller.id) {
        throw DomainError.validation('integrationId', 'an integration imports as itself; leave integrationId out');
      }
      return { id: caller.id, name: caller.displayName };
    }
    if (integrationId === undefined) {
      throw DomainError.validation('integrationId', 'is required: the integration these credits come from');
    }
    const found: Array<{ id: string; display_name: string }> = await this.dataSource.query(
      `SELECT id, display_name FROM users WHERE id = $1 AND active AND access = ARRAY['integration']`,
      [integrationId],
    );
    if (found.length === 0) throw DomainError.validation('integrationId', 'must name an active integration');
    return { id: found[0].id, name: found[0].display_name };
  }

  /** Reads the whole file, staging its valid rows, and collects the problems of the others. */
  private async stage(
    q: QueryRunner,
    body: Readable,
    meter: FileMeter,
  ): Promise<{ rows: number; lastLine: number; problems: Problems }> {
    const problems = new Problems();
    let rows = 0;
    let lastLine = 1;
    let batch: ValidRow[] = [];
    for await (const parsed of csvRows(body, meter, () => new Date())) {
      rows++;
      lastLine = parsed.line;
      if ('problems' in parsed) {
        problems.add(parsed.problems);
        continue;
      }
      batch.push(parsed.row);
      if (batch.length === STAGE_BATCH) {
        await insertRows(q, batch);
        batch = [];
      }
    }
    if ((body as { complete?: boolean }).complete === false) {
      throw new DomainError(
        'MALFORMED_REQUEST',
        'The upload ended before the whole file arrived; nothing was imported.',
      );
    }
    if (rows === 0) {
      problems.add([
        { field: 'file', message: 'the file holds no credits: a header line and one row per credit', line: 1 },
      ]);
    }
    if (batch.length > 0) await insertRows(q, batch);
    return { rows, lastLine, problems };
  }

  /**
   * What only the database can tell, for every row at once: a repeated externalId, an agent or a
   * reason it does not know, an externalId this integration logged before with other values. Rows
   * logged before with the same values are marked known, and left alone.
   */
  private async check(q: QueryRunner, integrationId: string): Promise<{ listed: FieldProblem[]; total: number }> {
    const found: Array<{ line: number; field: string; message: string; total: number }> = await q.query(
      `SELECT line, field, message, count(*) OVER ()::int AS total FROM (
         SELECT f.line, 'externalId' AS field, 'externalId is also on line ' || f.first AS message
           FROM (SELECT line, min(line) OVER (PARTITION BY external_id) AS first FROM import_rows) f
          WHERE f.line <> f.first
         UNION ALL
         SELECT s.line, 'agentRef', 'no active agent has this agentRef'
           FROM import_rows s
          WHERE NOT EXISTS (SELECT 1 FROM users u
                             WHERE u.external_ref = s.agent_ref AND u.active AND 'agent' = ANY (u.access))
         UNION ALL
         SELECT s.line, 'reasonCode', 'no reason has this code'
           FROM import_rows s WHERE NOT EXISTS (SELECT 1 FROM reasons r WHERE r.code = s.reason_code)
         UNION ALL
         SELECT s.line, 'externalId', 'externalId was logged before with another ' || d.field
           FROM import_rows s
           JOIN idempotency_keys k ON k.user_id = $1 AND k.key = s.external_id
           JOIN credits c ON c.id = k.credit_id
           JOIN users u ON u.id = c.agent_id
          CROSS JOIN LATERAL (SELECT CASE
                 WHEN u.external_ref IS DISTINCT FROM s.agent_ref THEN 'agentRef'
                 WHEN c.amount <> s.amount THEN 'amount'
                 WHEN rtrim(c.currency) <> s.currency THEN 'currency'
                 WHEN c.kind <> s.kind THEN 'kind'
                 WHEN c.reason_code <> s.reason_code THEN 'reasonCode'
                 WHEN c.case_ref <> s.case_ref THEN 'caseRef'
                 WHEN c.customer_ref IS DISTINCT FROM s.customer_ref THEN 'customerRef'
                 WHEN c.channel IS DISTINCT FROM s.channel THEN 'channel'
                 WHEN c.note IS DISTINCT FROM s.note THEN 'note'
                 WHEN c.occurred_at <> s.occurred_at THEN 'occurredAt'
               END AS field) d
          WHERE d.field IS NOT NULL
       ) p
       ORDER BY line, field
       LIMIT ${MAX_LISTED}`,
      [integrationId],
    );
    if (found.length > 0) {
      return { listed: found.map(({ line, field, message }) => ({ line, field, message })), total: found[0].total };
    }
    await q.query(
      `UPDATE import_rows s SET known = true FROM idempotency_keys k WHERE k.user_id = $1 AND k.key = s.external_id`,
      [integrationId],
    );
    return { listed: [], total: 0 };
  }

  /** Resolves each new row's agent once (the checks found every one), and gives each its credit id. */
  private async plan(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TEMP TABLE import_plan ON COMMIT DROP AS
       SELECT s.line, s.external_id, s.hash, gen_random_uuid() AS id, u.id AS agent_id, u.role_id, u.team_id,
              s.amount, s.currency, s.kind, s.reason_code, s.case_ref, s.customer_ref, s.channel, s.note,
              s.occurred_at, (s.occurred_at AT TIME ZONE $1)::date AS day
         FROM import_rows s
         JOIN users u ON u.external_ref = s.agent_ref AND u.active AND 'agent' = ANY (u.access)
        WHERE NOT s.known`,
      [this.config.timezone],
    );
    await q.query(`CREATE INDEX ON import_plan (line)`);
    await q.query(`ANALYZE import_plan`);
    const [{ planned, fresh }]: Array<{ planned: number; fresh: number }> = await q.query(
      `SELECT (SELECT count(*) FROM import_plan)::int AS planned,
              (SELECT count(*) FROM import_rows WHERE NOT known)::int AS fresh`,
    );
    if (planned !== fresh) {
      throw new DomainError(
        'CONFLICT',
        'An agent named in the file was deactivated while it was imported; nothing was imported, send the file again.',
      );
    }
  }

  /**
   * Logs the new rows of lines [from, to) in one statement, with the result of logging them one by
   * one in file order through leeway_log_credit: the usage rows of the chunk's cases, agent-days and
   * agent-months are added to first (in key order, which also locks them), so the usage before each
   * row is the total after, less the chunk's share, plus the rows before it in the file; each split
   * is leeway_split's, and each credit's posting lines are leeway_posting_lines'. Answers how many
   * credits that made.
   */
  private async log(q: QueryRunner, integration: Integration, from: number, to: number): Promise<number> {
    const [{ wanted, claimed, created }]: Array<{ wanted: number; claimed: number; created: number }> = await q.query(
      `WITH chunk AS MATERIALIZED (
         SELECT * FROM import_plan WHERE line >= $2 AND line < $3
       ), keys AS (
         INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, credit_id)
         SELECT $1, external_id, hash, 201, id FROM chunk
         ON CONFLICT ON CONSTRAINT idempotency_keys_pk DO NOTHING RETURNING 1
       ), cases AS (
         INSERT INTO usage_case AS x (case_ref, currency, used)
         SELECT case_ref, currency, sum(amount) FROM chunk GROUP BY case_ref, currency ORDER BY case_ref, currency
         ON CONFLICT (case_ref, currency) DO UPDATE SET used = x.used + EXCLUDED.used
         RETURNING case_ref, currency, used
       ), days AS (
         INSERT INTO usage_agent_day AS x (agent_id, currency, day, used)
         SELECT agent_id, currency, day, sum(amount) FROM chunk
          GROUP BY agent_id, currency, day ORDER BY agent_id, currency, day
         ON CONFLICT (agent_id, currency, day) DO UPDATE SET used = x.used + EXCLUDED.used
         RETURNING agent_id, currency, day, used
       ), months AS (
         INSERT INTO usage_agent_month AS x (agent_id, currency, month, used)
         SELECT agent_id, currency, date_trunc('month', day)::date, sum(amount) FROM chunk
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
         ON CONFLICT (agent_id, currency, month) DO UPDATE SET used = x.used + EXCLUDED.used
         RETURNING agent_id, currency, month, used
       ), usage AS (
         SELECT c.*, r.current_limits_version AS version, l.role_id IS NOT NULL AS has_limits,
                l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month,
                (uc.used - sum(c.amount) OVER w_case + sum(c.amount) OVER (w_case ORDER BY c.line) - c.amount)::bigint
                  AS used_case,
                (ud.used - sum(c.amount) OVER w_day + sum(c.amount) OVER (w_day ORDER BY c.line) - c.amount)::bigint
                  AS used_day,
                (um.used - sum(c.amount) OVER w_month + sum(c.amount) OVER (w_month ORDER BY c.line) - c.amount)::bigint
                  AS used_month
           FROM chunk c
           JOIN cases uc ON uc.case_ref = c.case_ref AND uc.currency = c.currency
           JOIN days ud ON ud.agent_id = c.agent_id AND ud.currency = c.currency AND ud.day = c.day
           JOIN months um ON um.agent_id = c.agent_id AND um.currency = c.currency
                         AND um.month = date_trunc('month', c.day)::date
           LEFT JOIN roles r ON r.id = c.role_id
           LEFT JOIN role_limits l ON l.role_id = c.role_id AND l.version = r.current_limits_version
                                  AND l.currency = c.currency
         WINDOW w_case AS (PARTITION BY c.case_ref, c.currency),
                w_day AS (PARTITION BY c.agent_id, c.currency, c.day),
                w_month AS (PARTITION BY c.agent_id, c.currency, date_trunc('month', c.day))
       ), split AS (
         SELECT u.*, s.within, s.overrun, s.unbudgeted, s.binding_limit
           FROM usage u
          CROSS JOIN LATERAL leeway_split(u.amount, u.has_limits, u.per_credit, u.per_case, u.per_agent_day,
                                          u.per_agent_month, u.used_case, u.used_day, u.used_month) s
       ), credited AS (
         INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code,
                              case_ref, customer_ref, channel, note, occurred_at, local_day, within_discretion,
                              overrun, unbudgeted, binding_limit, source_system, source_external_id)
         SELECT id, agent_id, role_id, team_id, CASE WHEN role_id IS NULL THEN NULL ELSE version END, amount, currency,
                kind, reason_code, case_ref, customer_ref, channel, note, occurred_at, day, within, overrun,
                unbudgeted, binding_limit, $4, external_id
           FROM split ORDER BY line
         RETURNING 1
       ), posted AS (
         INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
         SELECT p.* FROM split s
          CROSS JOIN LATERAL leeway_posting_lines(s.id, 'credit', s.currency, s.within, s.overrun, $5) p
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM chunk)::int AS wanted, (SELECT count(*) FROM keys)::int AS claimed,
              (SELECT count(*) FROM credited)::int AS created, (SELECT count(*) FROM posted)::int AS lines`,
      [integration.id, from, to, integration.name, this.config.timezone],
    );
    // A key claimed meanwhile (a live POST with one of these externalIds) would mean a credit twice.
    if (claimed !== wanted || created !== wanted) {
      throw new DomainError(
        'CONFLICT',
        'A credit with one of these externalIds was logged while the file was imported; nothing was imported, send the file again.',
      );
    }
    return created;
  }

  /** The database's refusals while logging: something changed under the import; nothing was written. */
  private explain(error: unknown): unknown {
    const { code } = pgError(error);
    if (code === '55P03' || code === '40P01') {
      return new DomainError(
        'CONFLICT',
        'Credits for the same cases or agents were being logged at the same moment; nothing was imported, send the file again.',
      );
    }
    return error;
  }
}

async function insertRows(q: QueryRunner, rows: ValidRow[]): Promise<void> {
  await q.query(
    `INSERT INTO import_rows (line, external_id, agent_ref, amount, currency, kind, reason_code, case_ref,
                              customer_ref, channel, note, occurred_at, hash)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                          $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::bytea[])`,
    [
      rows.map((r) => r.line),
      rows.map((r) => r.externalId),
      rows.map((r) => r.agentRef),
      rows.map((r) => r.amount.toString()),
      rows.map((r) => r.currency),
      rows.map((r) => r.kind),
      rows.map((r) => r.reasonCode),
      rows.map((r) => r.caseRef),
      rows.map((r) => r.customerRef),
      rows.map((r) => r.channel),
      rows.map((r) => r.note),
      rows.map((r) => r.occurredAt),
      rows.map((r) => r.hash),
    ],
  );
}
