import { LimitKey } from '../roles/limits';

export interface ReversalView {
  id: string;
  by: string;
  reason: string;
  recordedAt: string;
}

/** Where a credit came from, when another system logged it through an integration. */
export interface CreditSource {
  system: string;
  externalId: string;
}

export interface CreditView {
  id: string;
  agentId: string;
  roleId: string | null;
  teamId: string | null;
  amount: bigint;
  currency: string;
  kind: string;
  reasonCode: string;
  caseRef: string;
  customerRef: string | null;
  channel: string | null;
  note: string | null;
  occurredAt: string;
  recordedAt: string;
  withinDiscretion: bigint;
  overrun: bigint;
  unbudgeted: boolean;
  limitsVersion: number | null;
  bindingLimit: LimitKey | 'none' | null;
  reversedBy: ReversalView | null;
  source: CreditSource | null;
}

/** A credit as stored (`credits`), as the driver gives it: bigint as string, timestamps as Date. */
export interface CreditRow {
  id: string;
  agent_id: string;
  role_id: string | null;
  team_id: string | null;
  limits_version: number | null;
  amount: string;
  currency: string;
  kind: string;
  reason_code: string;
  case_ref: string;
  customer_ref: string | null;
  channel: string | null;
  note: string | null;
  occurred_at: Date;
  recorded_at: Date;
  within_discretion: string;
  overrun: string;
  unbudgeted: boolean;
  binding_limit: string | null;
  source_system: string | null;
  source_external_id: string | null;
}

/** What CREDIT_COLUMNS selects: the credit, its reversal if any, and a cursor for paging. */
export interface CreditReadRow extends CreditRow {
  recorded_cursor?: string;
  reversal_id: string | null;
  reversed_by: string | null;
  reversal_reason: string | null;
  reversal_recorded_at: Date | null;
}

/** Columns every credit read selects, so creditView can map them. */
export const CREDIT_COLUMNS = `
  c.id, c.agent_id, c.role_id, c.team_id, c.limits_version, c.amount, c.currency, c.kind, c.reason_code,
  c.case_ref, c.customer_ref, c.channel, c.note, c.occurred_at, c.recorded_at, c.within_discretion,
  c.overrun, c.unbudgeted, c.binding_limit, c.source_system, c.source_external_id,
  to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_cursor,
  r.id AS reversal_id, r.reversed_by, r.reason AS reversal_reason, r.recorded_at AS reversal_recorded_at`;

export function creditView(row: CreditReadRow): CreditView {
  return {
    id: row.id,
    agentId: row.agent_id,
    roleId: row.role_id,
    teamId: row.team_id,
    amount: BigInt(row.amount),
    currency: row.currency,
    kind: row.kind,
    reasonCode: row.reason_code,
    caseRef: row.case_ref,
    customerRef: row.customer_ref,
    channel: row.channel,
    note: row.note,
    occurredAt: row.occurred_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    withinDiscretion: BigInt(row.within_discretion),
    overrun: BigInt(row.overrun),
    unbudgeted: row.unbudgeted,
    limitsVersion: row.limits_version,
    bindingLimit: row.binding_limit as CreditView['bindingLimit'],
    reversedBy: row.reversal_id
      ? {
          id: row.reversal_id,
          by: row.reversed_by!,
          reason: row.reversal_reason!,
          recordedAt: row.reversal_recorded_at!.toISOString(),
        }
      : null,
    source: row.source_system === null ? null : { system: row.source_system, externalId: row.source_external_id! },
  };
}
