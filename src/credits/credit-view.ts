import { LimitKey } from '../roles/limits';

export interface ReversalView {
  id: string;
  by: string;
  reason: string;
  recordedAt: string;
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
}

/** Columns every credit read selects, so creditView can map them. */
export const CREDIT_COLUMNS = `
  c.id, c.agent_id, c.role_id, c.team_id, c.limits_version, c.amount, c.currency, c.kind, c.reason_code,
  c.case_ref, c.customer_ref, c.channel, c.note, c.occurred_at, c.recorded_at, c.within_discretion,
  c.overrun, c.unbudgeted, c.binding_limit,
  to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_cursor,
  r.id AS reversal_id, r.reversed_by, r.reason AS reversal_reason, r.recorded_at AS reversal_recorded_at`;

export function creditView(row: Record<string, any>): CreditView {
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
    occurredAt: (row.occurred_at as Date).toISOString(),
    recordedAt: (row.recorded_at as Date).toISOString(),
    withinDiscretion: BigInt(row.within_discretion),
    overrun: BigInt(row.overrun),
    unbudgeted: row.unbudgeted,
    limitsVersion: row.limits_version,
    bindingLimit: row.binding_limit,
    reversedBy: row.reversal_id
      ? {
          id: row.reversal_id,
          by: row.reversed_by,
          reason: row.reversal_reason,
          recordedAt: (row.reversal_recorded_at as Date).toISOString(),
        }
      : null,
  };
}
