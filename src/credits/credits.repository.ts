import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CreditRow, CreditView } from './credit-view';

/** What a credit says of itself, as sent (a POST body, an imported row). */
export type CreditFields = Pick<
  CreditView,
  'amount' | 'currency' | 'kind' | 'reasonCode' | 'caseRef' | 'customerRef' | 'channel' | 'note'
>;

/** The fields of a valid credit body (or imported row), as the ledger stores them. */
export function creditFields(dto: {
  amount: number;
  currency: string;
  kind: string;
  reasonCode: string;
  caseRef: string;
  customerRef?: string | null;
  channel?: string | null;
  note?: string | null;
}): CreditFields {
  return {
    amount: BigInt(dto.amount),
    currency: dto.currency,
    kind: dto.kind,
    reasonCode: dto.reasonCode,
    caseRef: dto.caseRef,
    customerRef: dto.customerRef ?? null,
    channel: dto.channel ?? null,
    note: dto.note ?? null,
  };
}

/** What logging a credit sends to `leeway_log_credit` (migration 1765300000000). */
export interface LogCreditParams extends CreditFields {
  /** Who owns the Idempotency-Key: the agent, or the integration logging on an agent's behalf. */
  callerId: string;
  /** For an integration: the agent's externalRef. Null: the caller is the agent. */
  agentRef: string | null;
  /** For an integration: its name, recorded as the credit's source system. */
  sourceSystem: string | null;
  key: string;
  requestHash: Buffer;
  creditId: string;
  occurredAt: Date;
  timezone: string;
}

/** The credit as recorded (the columns creditView reads everywhere), and what its answer shows. */
export interface LoggedCreditRow extends CreditRow {
  replayed: boolean;
  /** A response stored by an earlier version of the service, replayed as it was. */
  stored_status: number | null;
  stored_response: string | null;
  per_credit: string | null;
  per_case: string | null;
  per_agent_day: string | null;
  per_agent_month: string | null;
  used_case: string | null;
  used_day: string | null;
  used_month: string | null;
}

/** The credit ledger's writes. */
@Injectable()
export class CreditsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Logs a credit in one statement (one round trip, its own transaction): see the function. Null
   * when the key is known but names no credit (never settled).
   */
  async log(p: LogCreditParams): Promise<LoggedCreditRow | null> {
    const rows: LoggedCreditRow[] = await this.dataSource.query(
      `SELECT * FROM leeway_log_credit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        p.callerId,
        p.agentRef,
        p.sourceSystem,
        p.key,
        p.requestHash,
        p.creditId,
        p.amount.toString(),
        p.currency,
        p.kind,
        p.reasonCode,
        p.caseRef,
        p.customerRef,
        p.channel,
        p.note,
        p.occurredAt,
        p.timezone,
      ],
    );
    return rows[0] ?? null;
  }

  /** A reversal's posting lines: the credit's lines with the accounts swapped, by the one writer. */
  async postReversal(
    m: EntityManager,
    reversalId: string,
    currency: string,
    within: string,
    overrun: string,
    timezone: string,
  ): Promise<void> {
    await m.query(`SELECT leeway_post($1, 'reversal', $2, $3, $4, $5)`, [
      reversalId,
      currency,
      within,
      overrun,
      timezone,
    ]);
  }
}
