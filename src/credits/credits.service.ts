import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { toJson } from '../common/json';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { duplicateOf, pgError } from '../common/pg-errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { CurrencyLimits } from '../roles/limits';
import { requestHash } from './canonical-json';
import { CREDIT_COLUMNS, CreditReadRow, CreditView, creditView } from './credit-view';
import { CreateCreditDto, ReverseCreditDto } from './dto/create-credit.dto';
import { IntegrationCreditView } from './dto/credit-view.dto';
import { ListCreditsDto } from './dto/list-credits.dto';
import { headroomView } from './headroom.service';
import { creditFields, CreditsRepository, LoggedCreditRow, LogCreditParams } from './credits.repository';

export interface CreditResult {
  status: number;
  body: string;
  replayed: boolean;
  creditId: string;
}

/** A credit just logged, through the same view as every other read (it has no reversal yet). */
function loggedView(row: LoggedCreditRow): CreditView {
  return creditView({
    ...row,
    reversal_id: null,
    reversed_by: null,
    reversal_reason: null,
    reversal_recorded_at: null,
  });
}

/**
 * The 201 body: the credit through the same view as every other read, with the headroom the first
 * answer showed (kept with the key, so a replay answers exactly what the first did).
 */
function answer(row: LoggedCreditRow): string {
  if (row.stored_response !== null) return row.stored_response;
  const big = (v: string | null) => (v === null ? null : BigInt(v));
  const limits: CurrencyLimits | null = row.unbudgeted
    ? null
    : {
        currency: row.currency,
        perCredit: big(row.per_credit),
        perCase: big(row.per_case),
        perAgentDay: big(row.per_agent_day),
        perAgentMonth: big(row.per_agent_month),
      };
  const used = { usedCase: BigInt(row.used_case!), usedDay: BigInt(row.used_day!), usedMonth: BigInt(row.used_month!) };
  return toJson({
    ...loggedView(row),
    headroom: headroomView(row.currency, row.limits_version, limits, used, row.case_ref),
  });
}

/** The 201 body for an integration: the credit it asked for, without the agent's split or headroom. */
function integrationAnswer(row: LoggedCreditRow, agentRef: string): string {
  const view = loggedView(row);
  const body: IntegrationCreditView = {
    id: view.id,
    agentRef,
    amount: view.amount,
    currency: view.currency,
    kind: view.kind,
    reasonCode: view.reasonCode,
    caseRef: view.caseRef,
    customerRef: view.customerRef,
    channel: view.channel,
    note: view.note,
    occurredAt: view.occurredAt,
    recordedAt: view.recordedAt,
    source: view.source!,
  };
  return toJson(body);
}

@Injectable()
export class CreditsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly repository: CreditsRepository,
  ) {}

  /**
   * Logs a credit exactly once per (caller, Idempotency-Key): the key claim, the usage counters,
   * the credit, its postings and the settled key commit in one database call (leeway_log_credit),
   * or not at all. A known key with the same body answers the first answer again. The caller is
   * the agent, or an integration naming the agent by `agentRef`.
   */
  async create(caller: Principal, key: string, rawBody: unknown, dto: CreateCreditDto): Promise<CreditResult> {
    const integration = caller.access.includes('integration');
    if (integration && dto.agentRef === undefined) {
      throw DomainError.validation('agentRef', 'is required: the externalRef of the agent this credit is for');
    }
    if (!integration && dto.agentRef !== undefined) {
      throw DomainError.validation('agentRef', 'is for integrations; an agent logs credits as themself');
    }
    const params: LogCreditParams = {
      callerId: caller.id,
      agentRef: integration ? dto.agentRef! : null,
      sourceSystem: integration ? caller.displayName : null,
      key,
      requestHash: requestHash(rawBody),
      creditId: randomUUID(),
      ...creditFields(dto),
      occurredAt: this.occurredAt(dto.occurredAt),
      timezone: this.config.timezone,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.repository.log(params);
        if (!row) {
          throw new DomainError(
            'IDEMPOTENCY_KEY_IN_FLIGHT',
            'A request with this Idempotency-Key is still in progress.',
          );
        }
        // Counted once committed; a replay logged nothing new.
        if (!row.replayed) this.metrics.creditLogged();
        const body = integration ? integrationAnswer(row, dto.agentRef!) : answer(row);
        return { status: row.stored_status ?? 201, body, replayed: row.replayed, creditId: row.id };
      } catch (error) {
        const { code, column, message } = pgError(error);
        // Deadlocks cannot arise from the fixed lock order, but a retry keeps a stray one harmless.
        if ((code === '40P01' || code === '40001') && attempt < 3) continue;
        if (code === '55P03') {
          throw new DomainError(
            'IDEMPOTENCY_KEY_IN_FLIGHT',
            'A request with this Idempotency-Key is still in progress.',
          );
        }
        if (code === 'LW409') {
          throw new DomainError(
            'IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was already used with a different request body; use a new key for a new credit.',
          );
        }
        if (code === 'LW422') throw DomainError.validation(column ?? 'body', message);
        if (code === 'LWAGT')
          throw new DomainError('UNKNOWN_AGENT', `agentRef: ${message}`, [{ field: 'agentRef', message }]);
        throw error;
      }
    }
  }

  /** Only the form is checked here: the window, which moves with time, is checked for new keys only. */
  private occurredAt(given: string | null | undefined): Date {
    if (given === undefined) return new Date();
    if (given === null)
      throw DomainError.validation('occurredAt', 'must be an ISO 8601 date-time, or left out for now');
    const at = new Date(given);
    if (Number.isNaN(at.getTime())) throw DomainError.validation('occurredAt', 'must be an ISO 8601 date-time');
    return at;
  }

  async reverse(actor: Principal, creditId: string, dto: ReverseCreditDto): Promise<CreditView> {
    const asFinance = actor.access.includes('finance');
    const reversed = await this.dataSource.transaction('READ COMMITTED', async (m) => {
      const [row]: Array<CreditReadRow & { day: string }> = await m.query(
        `SELECT ${CREDIT_COLUMNS}, c.local_day::text AS day FROM credits c
           LEFT JOIN credit_reversals r ON r.credit_id = c.id WHERE c.id = $1`,
        [creditId],
      );
      if (!row || (!asFinance && row.agent_id !== actor.id)) throw new DomainError('NOT_FOUND', 'No such credit.');
      if (row.reversal_id) throw new DomainError('ALREADY_REVERSED', 'This credit has already been reversed.');
      if (!asFinance) {
        const closesAt = (row.recorded_at as Date).getTime() + this.config.reversalWindowHours * 3600 * 1000;
        if (Date.now() > closesAt) {
          throw new DomainError(
            'REVERSAL_WINDOW_CLOSED',
            `Credits can be reversed by their agent within ${this.config.reversalWindowHours} hours; finance can reverse it as a correction.`,
          );
        }
      }
      // The unique constraint makes the reversal happen at most once, even for simultaneous requests.
      const reversalId = randomUUID();
      let reversal: { recorded_at: Date };
      try {
        [reversal] = await m.query(
          `INSERT INTO credit_reversals (id, credit_id, reversed_by, reason) VALUES ($1, $2, $3, $4)
           RETURNING recorded_at`,
          [reversalId, creditId, actor.id, dto.reason],
        );
      } catch (error) {
        if (duplicateOf(error) === 'credit_reversals_credit_uq') {
          throw new DomainError('ALREADY_REVERSED', 'This credit has already been reversed.');
        }
        throw error;
      }
      const amount = String(row.amount);
      // Give the amount back to the windows it used, in the same lock order as logging.
      await m.query(`UPDATE usage_case SET used = used - $3 WHERE case_ref = $1 AND currency = $2`, [
        row.case_ref,
        row.currency,
        amount,
      ]);
      await m.query(`UPDATE usage_agent_day SET used = used - $4 WHERE agent_id = $1 AND currency = $2 AND day = $3`, [
        row.agent_id,
        row.currency,
        row.day,
        amount,
      ]);
      await m.query(
        `UPDATE usage_agent_month SET used = used - $4
          WHERE agent_id = $1 AND currency = $2 AND month = date_trunc('month', $3::date)::date`,
        [row.agent_id, row.currency, row.day, amount],
      );
      await this.repository.postReversal(
        m,
        reversalId,
        row.currency,
        String(row.within_discretion),
        String(row.overrun),
        this.config.timezone,
      );
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'credit.reversed',
        subjectType: 'credit',
        subjectId: creditId,
        details: { reversalId, reason: dto.reason, asFinance: asFinance && row.agent_id !== actor.id },
      });
      return creditView({
        ...row,
        reversal_id: reversalId,
        reversed_by: actor.id,
        reversal_reason: dto.reason,
        reversal_recorded_at: reversal.recorded_at,
      });
    });
    this.metrics.creditReversed();
    return reversed;
  }

  async get(actor: Principal, id: string): Promise<CreditView> {
    const asAuditor = actor.access.includes('auditor');
    const rows: CreditReadRow[] = await this.dataSource.query(
      `SELECT ${CREDIT_COLUMNS} FROM credits c LEFT JOIN credit_reversals r ON r.credit_id = c.id WHERE c.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row || (!asAuditor && row.agent_id !== actor.id)) throw new DomainError('NOT_FOUND', 'No such credit.');
    if (asAuditor && row.agent_id !== actor.id) {
      await this.audit.record(this.dataSource.manager, {
        actorId: actor.id,
        action: 'credit.read',
        subjectType: 'credit',
        subjectId: id,
        details: { agentId: row.agent_id },
      });
    }
    return creditView(row);
  }

  async list(actor: Principal, q: ListCreditsDto): Promise<Page<CreditView>> {
    const asAuditor = actor.access.includes('auditor');
    if (!asAuditor && ((q.agentId && q.agentId !== actor.id) || q.agentRef !== undefined)) {
      throw new DomainError('FORBIDDEN', 'Only auditors may read other agents’ credits.');
    }
    const limit = q.limit ?? 50;
    const after = decodeCursor(q.cursor, 2);
    const agentId = asAuditor ? (q.agentId ?? null) : actor.id;
    const agentRef = asAuditor ? (q.agentRef ?? null) : null;
    const from = q.from ? new Date(q.from) : null;
    const to = q.to ? new Date(q.to) : null;
    if (from && to && from >= to) throw DomainError.validation('to', 'must be after from');
    const rows: CreditReadRow[] = await this.dataSource.query(
      `SELECT ${CREDIT_COLUMNS} FROM credits c LEFT JOIN credit_reversals r ON r.credit_id = c.id
        WHERE ($1::uuid IS NULL OR c.agent_id = $1)
          AND ($2::timestamptz IS NULL OR c.occurred_at >= $2)
          AND ($3::timestamptz IS NULL OR c.occurred_at < $3)
          AND ($4::timestamptz IS NULL OR (c.recorded_at, c.id) < ($4::timestamptz, $5::uuid))
          AND ($7::text IS NULL OR c.agent_id IN (SELECT id FROM users WHERE external_ref = $7))
        ORDER BY c.recorded_at DESC, c.id DESC
        LIMIT $6`,
      [agentId, from, to, after?.[0] ?? null, after?.[1] ?? null, limit + 1, agentRef],
    );
    const page = toPage(rows, limit, creditView, (r) => [r.recorded_cursor as string, r.id as string]);
    // An auditor reading their own credits reads their own view, as an agent does: not an audited read.
    if (asAuditor && (agentId !== actor.id || agentRef !== null)) {
      await this.audit.record(this.dataSource.manager, {
        actorId: actor.id,
        action: 'credit.read',
        subjectType: 'credit',
        subjectId: null,
        details: {
          filters: { agentId, agentRef, from: q.from ?? null, to: q.to ?? null },
          creditIds: page.data.map((c) => c.id),
        },
      });
    }
    return page;
  }
}
