import { LimitKey, Limits } from '../roles/limits';

export interface Usage {
  /** Unreversed credits on the same case in this currency, all agents. */
  usedCase: bigint;
  /** This agent's unreversed credits in this currency on the same local day. */
  usedDay: bigint;
  /** The same for the local month. */
  usedMonth: bigint;
}

export interface Split {
  within: bigint;
  overrun: bigint;
  /** No limits exist for this role and currency: the whole amount is overrun. */
  unbudgeted: boolean;
  /** The limit that set `within` below the amount; 'none' when the credit fits, null when unbudgeted. */
  bindingLimit: LimitKey | 'none' | null;
}

const ZERO = 0n;

/**
 * The TypeScript model of DESIGN.md's split rule. The service splits in the database
 * (`leeway_split`, migration 1765100000000, inside the one call that logs a credit);
 * test/split-rule.e2e-spec.ts holds that function to this model over random inputs, and
 * split-rule.spec.ts holds this model to the rule as written:
 *   within  = max(0, min(amount, perCredit, perCase - usedCase, perAgentDay - usedDay, perAgentMonth - usedMonth))
 *   overrun = amount - within
 * An absent limit is +infinity; no limits at all means no discretion.
 */
export function splitCredit(amount: bigint, limits: Limits | null, usage: Usage): Split {
  if (!limits) return { within: ZERO, overrun: amount, unbudgeted: true, bindingLimit: null };
  const room: Array<[LimitKey, bigint | null]> = [
    ['perCredit', limits.perCredit],
    ['perCase', limits.perCase === null ? null : limits.perCase - usage.usedCase],
    ['perAgentDay', limits.perAgentDay === null ? null : limits.perAgentDay - usage.usedDay],
    ['perAgentMonth', limits.perAgentMonth === null ? null : limits.perAgentMonth - usage.usedMonth],
  ];
  let within = amount;
  let bindingLimit: LimitKey | 'none' = 'none';
  for (const [key, value] of room) {
    if (value !== null && value < within) {
      within = value;
      bindingLimit = key;
    }
  }
  if (within < ZERO) within = ZERO;
  return { within, overrun: amount - within, unbudgeted: false, bindingLimit };
}

export interface Headroom {
  /** What is left in each window; null where no limit applies. */
  remaining: Record<LimitKey, bigint | null>;
  /** The most a next credit could put within discretion; null = no limit at all. */
  available: bigint | null;
}

export function headroomOf(limits: Limits | null, usage: Partial<Usage>): Headroom {
  if (!limits) {
    return { remaining: { perCredit: ZERO, perCase: ZERO, perAgentDay: ZERO, perAgentMonth: ZERO }, available: ZERO };
  }
  const left = (limit: bigint | null, used: bigint | undefined) => {
    if (limit === null) return null;
    const rest = limit - (used ?? ZERO);
    return rest > ZERO ? rest : ZERO;
  };
  const remaining = {
    perCredit: limits.perCredit,
    // Without a case, the case window cannot be known: report the whole limit.
    perCase: left(limits.perCase, usage.usedCase),
    perAgentDay: left(limits.perAgentDay, usage.usedDay),
    perAgentMonth: left(limits.perAgentMonth, usage.usedMonth),
  };
  let available: bigint | null = null;
  for (const value of Object.values(remaining)) {
    if (value !== null && (available === null || value < available)) available = value;
  }
  return { remaining, available };
}
