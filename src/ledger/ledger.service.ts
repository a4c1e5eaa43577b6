import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';

export interface Balance {
  account: string;
  currency: string;
  balance: bigint;
}

export interface JournalRow {
  day: string;
  account: string;
  currency: string;
  debits: bigint;
  credits: bigint;
  net: bigint;
}

const MAX_JOURNAL_DAYS = 366;

@Injectable()
export class LedgerService {
  constructor(private readonly dataSource: DataSource) {}

  /** Signed balances (debits positive) per account and currency, read in one snapshot. */
  async balances(currency?: string): Promise<Balance[]> {
    const rows: Array<{ account: string; currency: string; balance: string }> = await this.dataSource.query(
      `SELECT account, currency, sum(delta)::text AS balance FROM (
         SELECT debit_account AS account, currency, amount AS delta FROM postings WHERE ($1::text IS NULL OR currency = $1)
         UNION ALL
         SELECT credit_account, currency, -amount FROM postings WHERE ($1::text IS NULL OR currency = $1)
       ) lines GROUP BY account, currency ORDER BY currency, account`,
      [currency ?? null],
    );
    return rows.map((r) => ({ account: r.account, currency: r.currency, balance: BigInt(r.balance) }));
  }

  /** Daily totals per account and currency by posting day; no entry or agent detail. */
  async journal(from: string, to: string, currency?: string): Promise<JournalRow[]> {
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
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
      [from, to, currency ?? null],
    );
    return rows.map((r) => {
      const debits = BigInt(r.debits);
      const credits = BigInt(r.credits);
      return { day: r.day, account: r.account, currency: r.currency, debits, credits, net: debits - credits };
    });
  }
}
