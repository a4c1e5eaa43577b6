import { MigrationInterface, QueryRunner } from 'typeorm';
import { LEEWAY_POST_V1, LOG_CREDIT_V1 } from './1765100000000-log-credit-function';
import { EVENT_CREDIT_V1 } from './1765200000000-events-and-webhooks';

/**
 * Credits from other systems. An `integration` user is a program (a helpdesk, a shop) and holds no
 * other access. It logs credits on behalf of an agent it names by `externalRef`; its Idempotency-Key
 * is the credit's id in its own system, recorded on the credit as its source. The credit is split
 * exactly as if the agent had logged it, by the same function: `leeway_log_credit` now takes the
 * caller (who owns the key) apart from the agent. An unknown or inactive agent is SQLSTATE LWAGT.
 *
 * Posting lines get one home, `leeway_posting_lines` (an inlinable SQL function): `leeway_post`
 * writes them for one credit or reversal, and an import writes them for thousands of credits in one
 * statement.
 */
export class Integrations1765300000000 implements MigrationInterface {
  name = 'Integrations1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_access_ck`);
    await q.query(
      `ALTER TABLE users ADD CONSTRAINT users_access_ck CHECK (
         cardinality(access) >= 1
         AND access <@ ARRAY['agent','leader','finance','auditor','admin','integration']::text[]
         AND (NOT 'integration' = ANY (access) OR cardinality(access) = 1))`,
    );
    await q.query(
      `ALTER TABLE credits ADD COLUMN source_system text, ADD COLUMN source_external_id text,
         ADD CONSTRAINT credits_source_ck CHECK ((source_system IS NULL) = (source_external_id IS NULL))`,
    );
    await q.query(
      `DROP FUNCTION leeway_log_credit(uuid, text, bytea, uuid, uuid, uuid, bigint, text, text, text, text, text, text, text, timestamptz, text)`,
    );
    await q.query(
      `CREATE FUNCTION leeway_log_credit(
           p_caller uuid, p_agent_ref text, p_source text, p_key text, p_hash bytea,
           p_id uuid, p_amount bigint, p_currency text, p_kind text, p_reason text, p_case text, p_customer text,
           p_channel text, p_note text, p_occurred_at timestamptz, p_tz text)
         RETURNS TABLE (
           replayed boolean, stored_status integer, stored_response text,
           id uuid, agent_id uuid, role_id uuid, team_id uuid, limits_version integer, amount bigint, currency text,
           kind text, reason_code text, case_ref text, customer_ref text, channel text, note text,
           occurred_at timestamptz, recorded_at timestamptz, within_discretion bigint, overrun bigint,
           unbudgeted boolean, binding_limit text,
           per_credit bigint, per_case bigint, per_agent_day bigint, per_agent_month bigint,
           used_case bigint, used_day bigint, used_month bigint, source_system text, source_external_id text)
         LANGUAGE plpgsql AS $$
         #variable_conflict use_column
         DECLARE
           p_agent uuid := p_caller;
           p_role uuid;
           p_team uuid;
           v_source_id text;
           who record;
           k record;
           reason_active boolean;
           v_version integer;
           lim record;
           v_has_limits boolean;
           u record;
           s record;
           v_recorded timestamptz;
           v_today date;
           v_day_now bigint;
           v_month_now bigint;
         BEGIN
           -- 1. Claim the key. A concurrent claim of the same key waits here until the first commits;
           --    past 5 s it gives up (55P03: still in progress).
           PERFORM set_config('lock_timeout', '5s', true);
           --    The key names its credit from the start: both commit together or neither does.
           INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, credit_id)
           VALUES (p_caller, p_key, p_hash, 201, p_id)
             ON CONFLICT ON CONSTRAINT idempotency_keys_pk DO NOTHING;
           IF NOT FOUND THEN
             SELECT request_hash, status_code, response, credit_id, used_case, used_day, used_month INTO k
               FROM idempotency_keys WHERE user_id = p_caller AND key = p_key;
             IF k.request_hash <> p_hash THEN
               RAISE EXCEPTION 'this Idempotency-Key was already used with a different request body'
                 USING ERRCODE = 'LW409';
             END IF;
             RETURN QUERY
               SELECT true, k.status_code, k.response, c.id, c.agent_id, c.role_id, c.team_id, c.limits_version,
                      c.amount, c.currency::text, c.kind, c.reason_code, c.case_ref, c.customer_ref, c.channel, c.note,
                      c.occurred_at, c.recorded_at, c.within_discretion, c.overrun, c.unbudgeted, c.binding_limit,
                      l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month, k.used_case, k.used_day, k.used_month,
                      c.source_system, c.source_external_id
                 FROM credits c
                 LEFT JOIN role_limits l
                   ON l.role_id = c.role_id AND l.version = c.limits_version AND l.currency = c.currency
                WHERE c.id = k.credit_id;
             RETURN;
           END IF;
           PERFORM set_config('lock_timeout', '10s', true);

           -- 2. Checked only for a new key, so a retry of a credit logged near the edge of the window
           --    still replays. A refusal rolls the claim back: the key stays usable.
           IF p_occurred_at < now() - interval '7 days' THEN
             RAISE EXCEPTION 'must be within the last 7 days' USING ERRCODE = 'LW422', COLUMN = 'occurredAt';
           END IF;
           IF p_occurred_at > now() + interval '5 minutes' THEN
             RAISE EXCEPTION 'must not be more than 5 minutes in the future' USING ERRCODE = 'LW422', COLUMN = 'occurredAt';
           END IF;
           -- The agent: the caller, or (for an integration) the active agent it names by externalRef.
           IF p_agent_ref IS NOT NULL THEN
             SELECT u.id, u.role_id, u.team_id INTO who FROM users u
              WHERE u.external_ref = p_agent_ref AND u.active AND 'agent' = ANY (u.access);
             IF NOT FOUND THEN
               RAISE EXCEPTION 'no active agent has this externalRef' USING ERRCODE = 'LWAGT', COLUMN = 'agentRef';
             END IF;
             p_agent := who.id;
             v_source_id := p_key;
           ELSE
             SELECT u.role_id, u.team_id INTO who FROM users u WHERE u.id = p_agent;
           END IF;
           p_role := who.role_id;
           p_team := who.team_id;
           SELECT active INTO reason_active FROM reasons WHERE code = p_reason;
           IF reason_active IS NULL THEN
             RAISE EXCEPTION 'no reason has this code' USING ERRCODE = 'LW422', COLUMN = 'reasonCode';
           ELSIF NOT reason_active THEN
             RAISE EXCEPTION 'this reason is retired' USING ERRCODE = 'LW422', COLUMN = 'reasonCode';
           END IF;

           -- 3. What the agent may spend, as of now: the role's current limits in this currency.
           SELECT r.current_limits_version INTO v_version FROM roles r WHERE r.id = p_role;
           SELECT l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month INTO lim
             FROM role_limits l WHERE l.role_id = p_role AND l.version = v_version AND l.currency = p_currency;
           v_has_limits := FOUND;

           -- 4. Take the usage rows in one fixed order (case, agent-day, agent-month) and add this
           --    amount; the row locks serialise credits that share a window and nothing else.
           WITH c AS (
             INSERT INTO usage_case AS x (case_ref, currency, used) VALUES (p_case, p_currency, p_amount)
             ON CONFLICT (case_ref, currency) DO UPDATE SET used = x.used + EXCLUDED.used RETURNING used
           ), d AS (
             INSERT INTO usage_agent_day AS x (agent_id, currency, day, used)
             SELECT p_agent, p_currency, (p_occurred_at AT TIME ZONE p_tz)::date, p_amount FROM c
             ON CONFLICT (agent_id, currency, day) DO UPDATE SET used = x.used + EXCLUDED.used RETURNING used, day
           ), mo AS (
             INSERT INTO usage_agent_month AS x (agent_id, currency, month, used)
             SELECT p_agent, p_currency, date_trunc('month', d.day)::date, p_amount FROM d
             ON CONFLICT (agent_id, currency, month) DO UPDATE SET used = x.used + EXCLUDED.used RETURNING used
           )
           SELECT c.used AS case_used, d.used AS day_used, d.day, mo.used AS month_used INTO u FROM c, d, mo;

           -- 5. Split (on the usage before this credit), record, post.
           SELECT * INTO s FROM leeway_split(p_amount, v_has_limits, lim.per_credit, lim.per_case, lim.per_agent_day,
                                             lim.per_agent_month, u.case_used - p_amount, u.day_used - p_amount,
                                             u.month_used - p_amount);
           INSERT INTO credits (id, agent_id, role_id, team_id, limits_version, amount, currency, kind, reason_code,
                                case_ref, customer_ref, channel, note, occurred_at, local_day, within_discretion,
                                overrun, unbudgeted, binding_limit, source_system, source_external_id)
           VALUES (p_id, p_agent, p_role, p_team, CASE WHEN p_role IS NULL THEN NULL ELSE v_version END, p_amount,
                   p_currency, p_kind, p_reason, p_case, p_customer, p_channel, p_note, p_occurred_at, u.day,
                   s.within, s.overrun, s.unbudgeted, s.binding_limit, CASE WHEN v_source_id IS NULL THEN NULL ELSE p_source END,
                   v_source_id)
           RETURNING recorded_at INTO v_recorded;
           PERFORM leeway_post(p_id, 'credit', p_currency, s.within, s.overrun, p_tz);

           -- 6. The headroom shown with an agent's answer is what they can still give now: for a
           --    back-dated credit, today's windows, not the credit's own day and month. An
           --    integration's answer shows no headroom, so nothing more is kept for it.
           IF p_agent_ref IS NULL THEN
             v_today := (now() AT TIME ZONE p_tz)::date;
             IF v_today = u.day THEN
               v_day_now := u.day_used;
               v_month_now := u.month_used;
             ELSE
               SELECT coalesce((SELECT used FROM usage_agent_day
                                 WHERE agent_id = p_agent AND currency = p_currency AND day = v_today), 0),
                      coalesce((SELECT used FROM usage_agent_month
                                 WHERE agent_id = p_agent AND currency = p_currency
                                   AND month = date_trunc('month', v_today)::date), 0)
                 INTO v_day_now, v_month_now;
             END IF;
             UPDATE idempotency_keys SET used_case = u.case_used, used_day = v_day_now, used_month = v_month_now
              WHERE user_id = p_caller AND key = p_key;
           END IF;

           RETURN QUERY SELECT false, 201, NULL::text, p_id, p_agent, p_role, p_team,
                  CASE WHEN p_role IS NULL THEN NULL ELSE v_version END, p_amount, p_currency, p_kind, p_reason, p_case,
                  p_customer, p_channel, p_note, p_occurred_at, v_recorded, s.within, s.overrun, s.unbudgeted,
                  s.binding_limit, lim.per_credit, lim.per_case, lim.per_agent_day, lim.per_agent_month,
                  CASE WHEN p_agent_ref IS NULL THEN u.case_used END, v_day_now, v_month_now, CASE WHEN v_source_id IS NULL THEN NULL ELSE p_source END, v_source_id;
         END $$`,
    );
    await q.query(
      `CREATE FUNCTION leeway_posting_lines(
         p_entry uuid, p_kind text, p_currency text, p_within bigint, p_overrun bigint, p_tz text)
       RETURNS TABLE (entry_id uuid, entry_kind text, currency text, debit_account text, credit_account text,
                      amount bigint, local_day date)
       LANGUAGE sql STABLE AS $$
       -- A credit debits goodwill (within discretion, and the cost of doing business for the overrun)
       -- against what is owed to customers; its reversal posts the same lines with the accounts
       -- swapped. Lines belong to the local day they are written.
       SELECT p_entry, p_kind, p_currency,
              CASE WHEN p_kind = 'credit' THEN l.goodwill ELSE 'remedies:owed' END,
              CASE WHEN p_kind = 'credit' THEN 'remedies:owed' ELSE l.goodwill END,
              l.amount, (now() AT TIME ZONE p_tz)::date
         FROM (VALUES (1, 'goodwill:within-discretion', p_within),
                      (2, 'goodwill:cost-of-doing-business', p_overrun)) AS l(n, goodwill, amount)
        WHERE l.amount > 0
        ORDER BY l.n
       $$`,
    );
    // As PL/pgSQL, so that its plan is kept for the session (a LANGUAGE sql function called for its
    // effect is planned afresh on every call, about 0.1 ms a credit).
    await q.query(
      `CREATE OR REPLACE FUNCTION leeway_post(
         p_entry uuid, p_kind text, p_currency text, p_within bigint, p_overrun bigint, p_tz text)
       RETURNS void LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO postings (entry_id, entry_kind, currency, debit_account, credit_account, amount, local_day)
         SELECT * FROM leeway_posting_lines(p_entry, p_kind, p_currency, p_within, p_overrun, p_tz);
       END $$`,
    );
    await q.query(`
      CREATE OR REPLACE FUNCTION leeway_event_credit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF leeway_events_off() THEN RETURN NULL; END IF;
        INSERT INTO events (type, subject_id, agent_id, data)
        VALUES ('credit.logged', NEW.id, NEW.agent_id, jsonb_build_object(
          'creditId', NEW.id, 'amount', NEW.amount, 'currency', rtrim(NEW.currency), 'kind', NEW.kind,
          'reasonCode', NEW.reason_code, 'caseRef', NEW.case_ref, 'customerRef', NEW.customer_ref,
          'channel', NEW.channel, 'occurredAt', NEW.occurred_at, 'recordedAt', NEW.recorded_at,
          'source', CASE WHEN NEW.source_system IS NULL THEN NULL
                         ELSE jsonb_build_object('system', NEW.source_system, 'externalId', NEW.source_external_id) END));
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(EVENT_CREDIT_V1);
    await q.query(
      `DROP FUNCTION leeway_log_credit(uuid, text, text, text, bytea, uuid, bigint, text, text, text, text, text, text, text, timestamptz, text)`,
    );
    await q.query(LOG_CREDIT_V1);
    await q.query(`DROP FUNCTION leeway_post(uuid, text, text, bigint, bigint, text)`);
    await q.query(`DROP FUNCTION leeway_posting_lines(uuid, text, text, bigint, bigint, text)`);
    await q.query(LEEWAY_POST_V1);
    await q.query(`ALTER TABLE credits DROP COLUMN source_system, DROP COLUMN source_external_id`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_access_ck`);
    await q.query(
      `ALTER TABLE users ADD CONSTRAINT users_access_ck CHECK (
         cardinality(access) >= 1 AND access <@ ARRAY['agent','leader','finance','auditor','admin']::text[])`,
    );
  }
}
