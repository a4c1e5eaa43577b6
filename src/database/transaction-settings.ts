import { EntitySubscriberInterface, EventSubscriber, TransactionStartEvent } from 'typeorm';

/**
 * The server settings every transaction the service opens runs with, and the one place that knows
 * them. They are applied with `SET LOCAL` as the first statement of each transaction, never as
 * connection startup parameters: PgBouncer in transaction pooling mode refuses `lock_timeout` at
 * startup (and, told to ignore it, drops it), and hands each transaction whichever server connection
 * is free, so session settings cannot be relied on.
 * Work that must differ (a shorter lock wait, a bigger sort) sets its own `SET LOCAL` afterwards.
 */
export interface TransactionSettings {
  statement_timeout: string;
  lock_timeout: string;
  idle_in_transaction_session_timeout: string;
  /** A month's release groups its entries per cell and agent: keep that in memory. */
  work_mem: string;
}

/** For requests. A statement outside a transaction is bounded by the client's QUERY_TIMEOUT_MS instead. */
export const SERVICE_SETTINGS: Readonly<TransactionSettings> = Object.freeze({
  statement_timeout: '30s',
  lock_timeout: '10s',
  idle_in_transaction_session_timeout: '60s',
  work_mem: '32MB',
});

/** For migrations and the seed, which may rewrite large tables: no statement or idle limits. */
export const LONG_RUNNING_SETTINGS: Readonly<TransactionSettings> = Object.freeze({
  ...SERVICE_SETTINGS,
  statement_timeout: '0',
  idle_in_transaction_session_timeout: '0',
});

/** Client-side limit on any single query (the pg driver's query_timeout), transaction or not. */
export const QUERY_TIMEOUT_MS = 30_000;

/**
 * One round trip: `SET LOCAL name = 'value'; …` for every setting, sent as one simple query. SET takes
 * no snapshot, so work that follows may still choose its isolation level with SET TRANSACTION.
 */
export function settingsStatement(settings: TransactionSettings): string {
  return Object.entries(settings)
    .map(([name, value]) => `SET LOCAL ${name} = '${value.replace(/'/g, "''")}'`)
    .join('; ');
}

function subscriberFor(settings: TransactionSettings): new () => EntitySubscriberInterface {
  const sql = settingsStatement(settings);
  class ApplyTransactionSettings implements EntitySubscriberInterface {
    async afterTransactionStart(event: TransactionStartEvent): Promise<void> {
      // A nested transaction is a savepoint inside one that already has them (and may have
      // narrowed them on purpose): leave it alone. TypeORM counts the depth before this event.
      const depth = (event.queryRunner as unknown as { transactionDepth?: number }).transactionDepth;
      if (depth !== undefined && depth > 1) return;
      await event.queryRunner.query(sql);
    }
  }
  EventSubscriber()(ApplyTransactionSettings);
  return ApplyTransactionSettings;
}

// Built once each: TypeORM registers subscriber classes in a global store.
const SERVICE_SUBSCRIBER = subscriberFor(SERVICE_SETTINGS);
const LONG_RUNNING_SUBSCRIBER = subscriberFor(LONG_RUNNING_SETTINGS);

/** The TypeORM subscriber that applies the settings at the start of every transaction. */
export function transactionSettingsSubscriber(longRunning = false): new () => EntitySubscriberInterface {
  return longRunning ? LONG_RUNNING_SUBSCRIBER : SERVICE_SUBSCRIBER;
}
