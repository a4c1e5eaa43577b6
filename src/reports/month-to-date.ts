import { passesRules, ReleaseRules } from './release-rule';

/** One agent's entries of one day in one currency: credits (reversals not counted) and net amount. */
export interface DayShare {
  day: string;
  agent: string;
  credits: number;
  amount: bigint;
}

export interface MonthToDateChain {
  /** The last published figure: everything up to and including `asOf` (null: nothing yet). */
  published: { amount: bigint; credits: number; asOf: string | null };
  /** Whether entries after `asOf` exist: their increment did not pass the rules (yet). */
  tail: boolean;
}

/**
 * Month-to-date's chain over whole days, oldest first: the running total advances to the end of a
 * day only when the increment since the last published figure covers minCohort agents (non-zero
 * net) and passes the p% rule; other days carry forward. The same function gives the open month's
 * answer and, at release, the month's last published point, so the two can never disagree.
 */
export function monthToDateChain(shares: DayShare[], rules: ReleaseRules): MonthToDateChain {
  const byDay = new Map<string, DayShare[]>();
  for (const s of shares) {
    const list = byDay.get(s.day);
    if (list) list.push(s);
    else byDay.set(s.day, [s]);
  }
  let published = { amount: 0n, credits: 0, asOf: null as string | null };
  let pending = { amount: 0n, credits: 0, agents: new Map<string, bigint>(), entries: 0 };
  for (const day of [...byDay.keys()].sort()) {
    for (const s of byDay.get(day)!) {
      pending.amount += s.amount;
      pending.credits += s.credits;
      pending.entries++;
      pending.agents.set(s.agent, (pending.agents.get(s.agent) ?? 0n) + s.amount);
    }
    if (passesRules(pending.agents, rules)) {
      published = {
        amount: published.amount + pending.amount,
        credits: published.credits + pending.credits,
        asOf: day,
      };
      pending = { amount: 0n, credits: 0, agents: new Map(), entries: 0 };
    }
  }
  return { published, tail: pending.entries > 0 };
}
