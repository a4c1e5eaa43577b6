import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { ReleaseReader } from '../reports/release-reader';

export interface Balance {
  account: string;
  currency: string;
  balance: bigint | null;
}

export interface JournalRow {
  period: string;
  account: string;
  currency: string;
  debits: bigint | null;
  credits: bigint | null;
  net: bigint | null;
}

const MAX_JOURNAL_DAYS = 366;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

@Injectable()
export class LedgerService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly releases: ReleaseReader,
    private readonly audit: AuditService,
  ) {}

  /** Auditors read live (and the read is audited); finance reads as at the last close. */
  async balances(actor: Principal, currency?: string): Promise<{ asOf: Date | null; data: Balance[] }> {
    if (!actor.access.includes('auditor')) return this.releases.balances(currency);
    const rows: Array<{ account: string; currency: string; balance: string; as_of: Date }> =
      await this.dataSource.query(
        `SELECT account, currency, sum(delta)::text AS balance, now() AS as_of FROM (
         SELECT debit_account AS account, currency, amount AS delta FROM postings WHERE ($1::text IS NULL OR currency = $1)
         UNION ALL
         SELECT credit_account, currency, -amount FROM postings WHERE ($1::text IS NULL OR currency = $1)
       ) lines GROUP BY account, currency ORDER BY currency, account`,
        [currency ?? null],
      );
    await this.recordRead(actor, 'balances', { currency: currency ?? null });
    const [{ now }]: Array<{ now: Date }> = await this.dataSource.query(`SELECT now()`);
    return {
      asOf: now,
      data: rows.map((r) => ({ account: r.account, currency: r.currency, balance: BigInt(r.balance) })),
    };
  }

  async journal(
    actor: Principal,
    q: { from?: string; to?: string; currency?: string },
  ): Promise<{ from: string | null; to: string | null; data: JournalRow[] }> {
    const daily = DAY.test(q.from ?? '') || DAY.test(q.to ?? '');
    if (!daily) {
      const closed = await this.releases.journal(q);
      return {
        from: closed.from,
        to: closed.to,
        data: closed.data.map(({ month, ...r }) => ({ period: month, ...r })),
      };
    }
    if (!actor.access.includes('auditor')) {
      throw DomainError.validation(
        'from',
        'daily journal totals are for auditors (each read is audited); finance reads closed months such as 2026-10',
      );
    }
    for (const field of ['from', 'to'] as const) {
      const value = q[field];
      if (!value || !DAY.test(value) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value)
        throw DomainError.validation(field, 'a daily journal needs from and to as real days such as 2026-10-03');
    }
    const days = (Date.parse(q.to!) - Date.parse(q.from!)) / 86_400_000;
    if (days < 0) throw DomainError.validation('to', 'must be on or after from');
    if (days >= MAX_JOURNAL_DAYS)
      throw DomainError.validation('to', `the range may span at most ${MAX_JOURNAL_DAYS} days`);
    const rows: Array<Record<string, string>> = await this.dataSource.query(
      `SELECT local_day::text AS day, account, currency, sum(debit)::text AS debits, sum(credit)::text AS credits FROM (
         SELECT local_day, debit_account AS account, currency, amount AS debit, 0::bigint AS credit FROM postings
          WHERE local_day BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR currency = $3)
         UNION ALL
         SELECT local_day, credit_account, currency, 0, amount FROM postings
          WHERE local_day BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR currency = $3)
       ) lines GROUP BY local_day, account, currency ORDER BY local_day, currency, account`,
      [q.from!, q.to!, q.currency ?? null],
    );
    await this.recordRead(actor, 'journal', { from: q.from, to: q.to, currency: q.currency ?? null });
    return {
      from: q.from!,
      to: q.to!,
      data: rows.map((r) => {
        const debits = BigInt(r.debits);
        const credits = BigInt(r.credits);
        return { period: r.day, account: r.account, currency: r.currency, debits, credits, net: debits - credits };
      }),
    };
  }

  private recordRead(actor: Principal, what: string, details: Record<string, unknown>): Promise<void> {
    return this.audit.record(this.dataSource.manager, {
      actorId: actor.id,
      action: 'ledger.read',
      subjectType: 'ledger',
      details: { what, ...details },
    });
  }
}
