import { MigrationInterface, QueryRunner } from 'typeorm';

/** This version of the credit.logged event; 1765300000000 replaces it and restores it on the way down. */
export const EVENT_CREDIT_V1 = `
      CREATE OR REPLACE FUNCTION leeway_event_credit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF leeway_events_off() THEN RETURN NULL; END IF;
        INSERT INTO events (type, subject_id, agent_id, data)
        VALUES ('credit.logged', NEW.id, NEW.agent_id, jsonb_build_object(
          'creditId', NEW.id, 'amount', NEW.amount, 'currency', rtrim(NEW.currency), 'kind', NEW.kind,
          'reasonCode', NEW.reason_code, 'caseRef', NEW.case_ref, 'customerRef', NEW.customer_ref,
          'channel', NEW.channel, 'occurredAt', NEW.occurred_at, 'recordedAt', NEW.recorded_at));
        RETURN NULL;
      END $$`;

/**
 * The outbox and webhooks. Triggers write an event for every credit, reversal and limits change in
 * the transaction that makes it (so nothing commits without its event, and no event without its
 * commit, whichever code path wrote it), and a delivery for every active endpoint that wants it.
 * A limits change is a new version row plus its per-currency rows: its event is written by a
 * deferred trigger at commit, when all of them exist. A session that sets `leeway.no_events` (the
 * demo seed) writes history without events.
 *
 * A credit event carries what a system needs to issue the remedy, never the split of it within
 * discretion and over: with the agent's reference (an endpoint may ask for it), that would tie an
 * overrun to a named person outside the agent's own view.
 */
export class EventsAndWebhooks1765200000000 implements MigrationInterface {
  name = 'EventsAndWebhooks1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        type text NOT NULL,
        subject_id uuid NOT NULL,
        agent_id uuid,
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        data jsonb NOT NULL,
        CONSTRAINT events_pk PRIMARY KEY (id),
        CONSTRAINT events_seq_uq UNIQUE (seq),
        CONSTRAINT events_type_ck CHECK (type IN ('credit.logged', 'credit.reversed', 'limits.changed'))
      )`);
    await q.query(`CREATE INDEX events_subject_idx ON events (subject_id, seq)`);
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        url text NOT NULL,
        event_types text[] NOT NULL,
        secret text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        include_agent_ref boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT webhook_endpoints_pk PRIMARY KEY (id),
        CONSTRAINT webhook_endpoints_types_ck CHECK (
          cardinality(event_types) >= 1
          AND event_types <@ ARRAY['credit.logged', 'credit.reversed', 'limits.changed']::text[]),
        CONSTRAINT webhook_endpoints_url_ck CHECK (url ~ '^https?://')
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL,
        event_id uuid NOT NULL,
        event_seq bigint NOT NULL,
        subject_id uuid NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        last_status integer,
        last_error text,
        delivered_at timestamptz,
        replay_of uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_pk PRIMARY KEY (id),
        CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id),
        CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (event_id) REFERENCES events (id),
        CONSTRAINT webhook_deliveries_state_ck CHECK (state IN ('pending', 'delivered', 'parked'))
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, subject_id, event_seq)
        WHERE state = 'pending'`,
    );
    await q.query(`CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, created_at DESC, id)`);
    await q.query(`
      CREATE TABLE webhook_attempts (
        delivery_id uuid NOT NULL,
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status integer,
        error text,
        duration_ms integer NOT NULL,
        CONSTRAINT webhook_attempts_pk PRIMARY KEY (delivery_id, attempt),
        CONSTRAINT webhook_attempts_delivery_fk FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id)
      )`);
    for (const table of ['events', 'webhook_attempts']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
                     FOR EACH ROW EXECUTE FUNCTION leeway_refuse_change()`);
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
                     FOR EACH STATEMENT EXECUTE FUNCTION leeway_refuse_change()`);
    }

    await q.query(`
      CREATE FUNCTION leeway_events_off() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('leeway.no_events', true), '') = 'on'
      $$`);
    await q.query(EVENT_CREDIT_V1);
    await q.query(`
      CREATE FUNCTION leeway_event_reversal() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF leeway_events_off() THEN RETURN NULL; END IF;
        INSERT INTO events (type, subject_id, agent_id, data)
        SELECT 'credit.reversed', c.id, c.agent_id, jsonb_build_object(
                 'creditId', c.id, 'reversalId', NEW.id, 'amount', c.amount, 'currency', rtrim(c.currency),
                 'kind', c.kind, 'caseRef', c.case_ref, 'customerRef', c.customer_ref, 'reason', NEW.reason,
                 'recordedAt', NEW.recorded_at)
          FROM credits c WHERE c.id = NEW.credit_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION leeway_event_limits() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF leeway_events_off() THEN RETURN NULL; END IF;
        INSERT INTO events (type, subject_id, data)
        SELECT 'limits.changed', NEW.role_id, jsonb_build_object(
                 'roleId', NEW.role_id, 'version', NEW.version, 'setAt', NEW.set_at,
                 'limits', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'currency', rtrim(l.currency), 'perCredit', l.per_credit, 'perCase', l.per_case,
                     'perAgentDay', l.per_agent_day, 'perAgentMonth', l.per_agent_month) ORDER BY l.currency)
                   FROM role_limits l WHERE l.role_id = NEW.role_id AND l.version = NEW.version), '[]'::jsonb));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION leeway_event_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq, subject_id)
        SELECT w.id, NEW.id, NEW.seq, NEW.subject_id FROM webhook_endpoints w
         WHERE w.active AND w.deleted_at IS NULL AND NEW.type = ANY (w.event_types);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER credits_event AFTER INSERT ON credits
                   FOR EACH ROW EXECUTE FUNCTION leeway_event_credit()`);
    await q.query(`CREATE TRIGGER credit_reversals_event AFTER INSERT ON credit_reversals
                   FOR EACH ROW EXECUTE FUNCTION leeway_event_reversal()`);
    await q.query(`CREATE CONSTRAINT TRIGGER role_limit_versions_event AFTER INSERT ON role_limit_versions
                   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION leeway_event_limits()`);
    await q.query(`CREATE TRIGGER events_fan_out AFTER INSERT ON events
                   FOR EACH ROW EXECUTE FUNCTION leeway_event_fan_out()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER events_fan_out ON events`);
    await q.query(`DROP TRIGGER role_limit_versions_event ON role_limit_versions`);
    await q.query(`DROP TRIGGER credit_reversals_event ON credit_reversals`);
    await q.query(`DROP TRIGGER credits_event ON credits`);
    await q.query(`DROP FUNCTION leeway_event_fan_out()`);
    await q.query(`DROP FUNCTION leeway_event_limits()`);
    await q.query(`DROP FUNCTION leeway_event_reversal()`);
    await q.query(`DROP FUNCTION leeway_event_credit()`);
    await q.query(`DROP FUNCTION leeway_events_off()`);
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_endpoints`);
    await q.query(`DROP TABLE events`);
  }
}
