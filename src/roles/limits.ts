/** One currency's discretion limits; null = no limit in that window. */
export interface Limits {
  perCredit: bigint | null;
  perCase: bigint | null;
  perAgentDay: bigint | null;
  perAgentMonth: bigint | null;
}

export const LIMIT_KEYS = ['perCredit', 'perCase', 'perAgentDay', 'perAgentMonth'] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

export interface CurrencyLimits extends Limits {
  currency: string;
}

/** A role_limits row as the driver gives it (bigint as string; the numbers callers pass work too). */
export interface LimitsRow {
  currency: string;
  per_credit: string | number | null | undefined;
  per_case: string | number | null | undefined;
  per_agent_day: string | number | null | undefined;
  per_agent_month: string | number | null | undefined;
}

export function limitsFromRow(row: LimitsRow): CurrencyLimits {
  const big = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as string));
  return {
    currency: row.currency as string,
    perCredit: big(row.per_credit),
    perCase: big(row.per_case),
    perAgentDay: big(row.per_agent_day),
    perAgentMonth: big(row.per_agent_month),
  };
}
