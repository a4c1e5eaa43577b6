import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { APP_CONFIG, AppConfig } from '../config/config';
import { CurrencyLimits, LimitKey, Limits, limitsFromRow, LimitsRow } from '../roles/limits';
import { headroomOf, Usage } from './split-rule';

export interface HeadroomView {
  currency: string;
  unbudgeted: boolean;
  limitsVersion: number | null;
  limits: Limits | null;
  caseRef: string | null;
  used: { case: bigint | null; day: bigint; month: bigint };
  remaining: Record<LimitKey, bigint | null>;
  available: bigint | null;
}

export function headroomView(
  currency: string,
  limitsVersion: number | null,
  limits: CurrencyLimits | Limits | null,
  used: Partial<Usage> & { usedDay: bigint; usedMonth: bigint },
  caseRef: string | null,
): HeadroomView {
  const { remaining, available } = headroomOf(limits, used);
  return {
    currency,
    unbudgeted: limits === null,
    limitsVersion,
    limits: limits
      ? {
          perCredit: limits.perCredit,
          perCase: limits.perCase,
          perAgentDay: limits.perAgentDay,
          perAgentMonth: limits.perAgentMonth,
        }
      : null,
    caseRef,
    used: { case: used.usedCase ?? null, day: used.usedDay, month: used.usedMonth },
    remaining,
    available,
  };
}

@Injectable()
export class HeadroomService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Per currency the agent has limits or spending in: limits, used (case/day/month) and what remains now. */
  async forAgent(agent: Principal, currency?: string, caseRef?: string): Promise<{ data: HeadroomView[] }> {
    const tz = this.config.timezone;
    const [role]: Array<{ version: number }> = agent.roleId
      ? await this.dataSource.query(`SELECT current_limits_version AS version FROM roles WHERE id = $1`, [agent.roleId])
      : [];
    const version = role?.version ?? null;
    const limitRows: LimitsRow[] =
      version !== null
        ? await this.dataSource.query(
            `SELECT currency, per_credit, per_case, per_agent_day, per_agent_month FROM role_limits
              WHERE role_id = $1 AND version = $2 AND ($3::text IS NULL OR currency = $3)`,
            [agent.roleId, version, currency ?? null],
          )
        : [];
    const usage: Array<{ currency: string; day: string | null; month: string | null; case_used: string | null }> =
      await this.dataSource.query(
        `WITH today AS (SELECT (now() AT TIME ZONE $2)::date AS day)
         SELECT cur.currency,
                (SELECT used FROM usage_agent_day d, today WHERE d.agent_id = $1 AND d.currency = cur.currency AND d.day = today.day) AS day,
                (SELECT used FROM usage_agent_month mo, today
                  WHERE mo.agent_id = $1 AND mo.currency = cur.currency AND mo.month = date_trunc('month', today.day)::date) AS month,
                (SELECT used FROM usage_case c WHERE c.case_ref = $4 AND c.currency = cur.currency) AS case_used
           FROM (SELECT DISTINCT currency FROM usage_agent_month, today
                  WHERE agent_id = $1 AND month = date_trunc('month', today.day)::date
                 UNION SELECT unnest($3::text[])) cur(currency)`,
        [agent.id, tz, currency ? [currency] : limitRows.map((r) => r.currency), caseRef ?? null],
      );
    const limitsBy = new Map(limitRows.map((r) => [r.currency, limitsFromRow(r)]));
    const data = usage
      .filter((u) => !currency || u.currency === currency)
      .map((u) =>
        headroomView(
          u.currency,
          version,
          limitsBy.get(u.currency) ?? null,
          {
            usedCase: caseRef ? BigInt(u.case_used ?? 0) : undefined,
            usedDay: BigInt(u.day ?? 0),
            usedMonth: BigInt(u.month ?? 0),
          },
          caseRef ?? null,
        ),
      )
      .sort((a, b) => a.currency.localeCompare(b.currency));
    return { data };
  }
}
