import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { toJson } from '../common/json';
import { localDay } from '../common/local-day';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { duplicateOf } from '../common/pg-errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { CurrencyLimits, limitsFromRow } from '../roles/limits';
import { requestHash } from './canonical-json';
import { ACCOUNTS } from './credit-kinds';
import { CREDIT_COLUMNS, CreditView, creditView } from './credit-view';
import { CreateCreditDto, ReverseCreditDto } from './dto/create-credit.dto';
import { ListCreditsDto } from './dto/list-credits.dto';
import { headroomView, HeadroomView } from './headroom.service';
import { splitCredit } from './split-rule';

const PAST_WINDOW_MS = 7 * 24 * 3600 * 1000;
const FUTURE_WINDOW_MS = 5 * 60 * 1000;

export interface CreditResult {
  status: number;
  body: string;
  replayed: boolean;
  creditId: string;
}

interface Posting {
  debit: string;
  credit: string;
  amount: bigint;
}

/** The lines a credit posts; a reversal posts the same lines with the accounts swapped. */
export function postingsFor(within: bigint, overrun: bigint): Posting[] {
  const lines: Posting[] = [];
  if (within > 0n) lines.push({ debit: ACCOUNTS.within, credit: ACCOUNTS.owed, amount: within });
  if (overrun > 0n) lines.push({ debit: ACCOUNTS.overrun, credit: ACCOUNTS.owed, amount: overrun });
  return lines;
}

function pgCode(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}

@Injectable()
export class CreditsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Logs a credit exactly once per (caller, Idempotency-Key). The key claim, the usage counters,
   * the credit, its postings and the stored response commit in one READ COMMITTED transaction.
   */
  async create(agent: Principal, key: string, rawBody: unknown, dto: CreateCreditDto): Promise<CreditResult> {
    const hash = requestHash(rawBody);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.dataSource.transaction('READ COMMITTED', (m) =>
          this.createIn(m, agent, key, hash, dto),
        );
        // Counted once committed; a replay logged nothing new.
        if (!result.replayed) this.metrics.creditLogged(dto.currency, dto.amount);
        return result;
      } catch (error) {
        // Deadlocks cannot arise from the fixed lock order, but a retry keeps a stray one harmless.
        if ((pgCode(error) === '40P01' || pgCode(error) === '40001') && attempt < 3) continue;
        throw error;
      }
    }
  }

  private async createIn(
    m: EntityManager,
    agent: Principal,
    key: string,
    hash: Buffer,
    dto: CreateCreditDto,
  ): Promise<CreditResult> {
    // 1. Claim the key. A concurrent claim of the same key waits here until the first commits.
    let claimed: unknown[];
    try {
      await m.query(`SET LOCAL lock_timeout = '5s'`);
      claimed = await m.query(
        `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT ON CONSTRAINT idempotency_keys_pk DO NOTHING RETURNING 1`,
        [agent.id, key, hash],
      );
      await m.query(`SET LOCAL lock_timeout = '10s'`);
    } catch (error) {
      if (pgCode(error) === '55P03') {
        throw new DomainError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still in progress.');
      }
      throw error;
    }
    if (claimed.length === 0) return this.replay(m, agent.id, key, hash);
    // Checked only for a new key: a retry of a credit logged near the edge of the window still replays.
    // A refusal rolls the claim back, so the key stays usable.
    const occurredAt = this.occurredAt(dto.occurredAt);

    // 2. What the agent may spend, as of now.
    const amount = BigInt(dto.amount);
    const [context]: Array<Record<string, any>> = await m.query(
      `SELECT (SELECT active FROM reasons WHERE code = $1) AS reason_active,
              r.current_limits_version AS version,
              l.currency, l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month
         FROM (SELECT 1) one
         LEFT JOIN roles r ON r.id = $2
         LEFT JOIN role_limits l ON l.role_id = r.id AND l.version = r.current_limits_version AND l.currency = $3`,
      [dto.reasonCode, agent.roleId, dto.currency],
    );
    if (context.reason_active !== true) {
      throw DomainError.validation(
        'reasonCode',
        context.reason_active === false ? 'this reason is retired' : 'no reason has this code',
      );
    }
    const limitsVersion: number | null = agent.roleId ? (context.version ?? null) : null;
    const limits: CurrencyLimits | null = context.currency ? limitsFromRow(context) : null;

    // 3. Take the usage rows in one fixed order (case, agent-day, agent-month) and add this amount.
    //    The row locks serialise credits that share a window and nothing else.
    const tz = this.config.timezone;
    // One statement; each upsert selects from the one before it, so the rows are always taken in this order.
    const [usage]: Array<{ case_used: string; day_used: string; day: string; month_used: string }> = await m.query(
      `WITH c AS (
         INSERT INTO usage_case AS u (case_ref, currency, used) VALUES ($1, $2, $5)
         ON CONFLICT (case_ref, currency) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used
       ), d AS (
         INSERT INTO usage_agent_day AS u (agent_id, currency, day, used)
         SELECT $3::uuid, $2, ($4::timestamptz AT TIME ZONE $6)::date, $5 FROM c
         ON CONFLICT (agent_id, currency, day) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used, day
       ), mo AS (
         INSERT INTO usage_agent_month AS u (agent_id, currency, month, used)
         SELECT $3::uuid, $2, date_trunc('month', d.day)::date, $5 FROM d
         ON CONFLICT (agent_id, currency, month) DO UPDATE SET used = u.used + EXCLUDED.used RETURNING used
       )
       SELECT c.used AS case_used, d.used AS day_used, d.day::text AS day, mo.used AS month_used FROM c, d, mo`,
      [dto.caseRef, dto.currency, agent.id, occurredAt, amount.toString(), tz],
    );
    const caseRow = { used: usage.case_used };
    const dayRow = { used: usage.day_used, day: usage.day };
    const monthRow = { used: usage.month_used };
    const after = { usedCase: BigInt(caseRow.used), usedDay: BigInt(dayRow.used), usedMonth: BigInt(monthRow.used) };
    const before = {
      usedCase: after.usedCase - amount,
      usedDay: after.usedDay - amount,
      usedMonth: after.usedMonth - amount,
    };

    // 4. Split, record, post.
    const split = splitCredit(amount, limits, before);
    const id = randomUUID();
    // One statement writes the credit and its posting lines. Reports read closed-month releases,
    // so nothing report-related is written here.
    const lines = postingsFor(split.within, split.overrun);
    const [row]: Array<Record<string, any>> = await m.query(
      `WITH credit AS (
         INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code,
                              case_ref, customer_ref, channel, note, occurred_at, local_day, within_discretion, overrun,
                              unbudgeted, binding_limit)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::date, $16, $17, $18, $19)
         RETURNING id, recorded_at
       ), posted AS (
         INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
         SELECT credit.id, 'credit', $7, l.debit, l.credit, l.amount, (now() AT TIME ZONE $20)::date
           FROM credit, unnest($21::text[], $22::text[], $23::bigint[]) AS l(debit, credit, amount)
       )
       SELECT recorded_at FROM credit`,
      [
        id,
        agent.id,
        agent.roleId,
        agent.teamId,
        limitsVersion,
        amount.toString(),
        dto.currency,
        dto.kind,
        dto.reasonCode,
        dto.caseRef,
        dto.customerRef ?? null,
        dto.channel ?? null,
        dto.note ?? null,
        occurredAt,
        dayRow.day,
        split.within.toString(),
        split.overrun.toString(),
        split.unbudgeted,
        split.bindingLimit,
        tz,
        lines.map((l) => l.debit),
        lines.map((l) => l.credit),
        lines.map((l) => l.amount.toString()),
      ],
    );

    const credit: CreditView & { headroom: HeadroomView } = {
      id,
      agentId: agent.id,
      roleId: agent.roleId,
      teamId: agent.teamId,
      amount,
      currency: dto.currency,
      kind: dto.kind,
      reasonCode: dto.reasonCode,
      caseRef: dto.caseRef,
      customerRef: dto.customerRef ?? null,
      channel: dto.channel ?? null,
      note: dto.note ?? null,
      occurredAt: occurredAt.toISOString(),
      recordedAt: (row.recorded_at as Date).toISOString(),
      withinDiscretion: split.within,
      overrun: split.overrun,
      unbudgeted: split.unbudgeted,
      limitsVersion,
      bindingLimit: split.bindingLimit,
      reversedBy: null,
      headroom: headroomView(
        dto.currency,
        limitsVersion,
        limits,
        await this.usageNow(m, agent.id, dto.currency, dayRow.day, after),
        dto.caseRef,
      ),
    };
    const body = toJson(credit);
    await m.query(
      `UPDATE idempotency_keys SET status_code = 201, response = $3, credit_id = $4 WHERE user_id = $1 AND key = $2`,
      [agent.id, key, body, id],
    );
    return { status: 201, body, replayed: false, creditId: id };
  }

  private async replay(m: EntityManager, userId: string, key: string, hash: Buffer): Promise<CreditResult> {
    const [stored]: Array<{ request_hash: Buffer; status_code: number; response: string; credit_id: string }> =
      await m.query(
        `SELECT request_hash, status_code, response, credit_id FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [userId, key],
      );
    if (!stored.request_hash.equals(hash)) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different request body; use a new key for a new credit.',
      );
    }
    if (stored.response === null) {
      throw new DomainError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still in progress.');
    }
    return { status: stored.status_code, body: stored.response, replayed: true, creditId: stored.credit_id };
  }

  /**
   * Headroom is what the agent can still give now: for a back-dated credit, today's windows, not the
   * credit's own day and month.
   */
  private async usageNow(
    m: EntityManager,
    agentId: string,
    currency: string,
    creditDay: string,
    after: { usedCase: bigint; usedDay: bigint; usedMonth: bigint },
  ) {
    const today = localDay(this.config.timezone);
    if (today === creditDay) return after;
    const [now]: Array<{ day: string | null; month: string | null }> = await m.query(
      `SELECT (SELECT used FROM usage_agent_day WHERE agent_id = $1 AND currency = $2 AND day = $3::date) AS day,
              (SELECT used FROM usage_agent_month
                WHERE agent_id = $1 AND currency = $2 AND month = date_trunc('month', $3::date)::date) AS month`,
      [agentId, currency, today],
    );
    return { usedCase: after.usedCase, usedDay: BigInt(now.day ?? 0), usedMonth: BigInt(now.month ?? 0) };
  }

  private occurredAt(given: string | null | undefined): Date {
    const now = Date.now();
    if (given === undefined) return new Date(now);
    if (given === null)
      throw DomainError.validation('occurredAt', 'must be an ISO 8601 date-time, or left out for now');
    const at = new Date(given);
    if (Number.isNaN(at.getTime())) throw DomainError.validation('occurredAt', 'must be an ISO 8601 date-time');
    if (at.getTime() < now - PAST_WINDOW_MS)
      throw DomainError.validation('occurredAt', 'must be within the last 7 days');
    if (at.getTime() > now + FUTURE_WINDOW_MS) {
      throw DomainError.validation('occurredAt', 'must not be more than 5 minutes in the future');
    }
    return at;
  }

  private async post(
    m: EntityManager,
    entryId: string,
    kind: 'credit' | 'reversal',
    currency: string,
    lines: Posting[],
  ) {
    if (lines.length === 0) return;
    const values: string[] = [];
    const params: unknown[] = [entryId, kind, currency, this.config.timezone];
    for (const line of lines) {
      params.push(line.debit, line.credit, line.amount.toString());
      const n = params.length;
      values.push(`($1, $2, $3, $${n - 2}, $${n - 1}, $${n}, (now() AT TIME ZONE $4)::date)`);
    }
    await m.query(
      `INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
       VALUES ${values.join(', ')}`,
      params,
    );
  }

  async reverse(actor: Principal, creditId: string, dto: ReverseCreditDto): Promise<CreditView> {
    const asFinance = actor.access.includes('finance');
    const reversed = await this.dataSource.transaction('READ COMMITTED', async (m) => {
      const [row]: Array<Record<string, any>> = await m.query(
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
      const original = postingsFor(BigInt(row.within_discretion), BigInt(row.overrun));
      await this.post(
        m,
        reversalId,
        'reversal',
        row.currency,
        original.map((l) => ({ debit: l.credit, credit: l.debit, amount: l.amount })),
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
    this.metrics.creditReversed(reversed.currency, reversed.amount);
    return reversed;
  }

  async get(actor: Principal, id: string): Promise<CreditView> {
    const asAuditor = actor.access.includes('auditor');
    const rows: Array<Record<string, any>> = await this.dataSource.query(
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
    if (!asAuditor && q.agentId && q.agentId !== actor.id) {
      throw new DomainError('FORBIDDEN', 'Only auditors may read other agents’ credits.');
    }
    const limit = q.limit ?? 50;
    const after = decodeCursor(q.cursor, 2);
    const agentId = asAuditor ? (q.agentId ?? null) : actor.id;
    const from = q.from ? new Date(q.from) : null;
    const to = q.to ? new Date(q.to) : null;
    if (from && to && from >= to) throw DomainError.validation('to', 'must be after from');
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT ${CREDIT_COLUMNS} FROM credits c LEFT JOIN credit_reversals r ON r.credit_id = c.id
        WHERE ($1::uuid IS NULL OR c.agent_id = $1)
          AND ($2::timestamptz IS NULL OR c.occurred_at >= $2)
          AND ($3::timestamptz IS NULL OR c.occurred_at < $3)
          AND ($4::timestamptz IS NULL OR (c.recorded_at, c.id) < ($4::timestamptz, $5::uuid))
        ORDER BY c.recorded_at DESC, c.id DESC
        LIMIT $6`,
      [agentId, from, to, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    const page = toPage(rows, limit, creditView, (r) => [r.recorded_cursor as string, r.id as string]);
    if (asAuditor) {
      await this.audit.record(this.dataSource.manager, {
        actorId: actor.id,
        action: 'credit.read',
        subjectType: 'credit',
        subjectId: null,
        details: {
          filters: { agentId, from: q.from ?? null, to: q.to ?? null },
          creditIds: page.data.map((c) => c.id),
        },
      });
    }
    return page;
  }
}
