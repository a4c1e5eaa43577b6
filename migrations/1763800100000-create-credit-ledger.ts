import { MigrationInterface, QueryRunner } from 'typeorm';

const APPEND_ONLY = ['role_limit_versions', 'role_limits', 'credits', 'credit_reversals', 'postings'];

export class CreateCreditLedger1763800100000 implements MigrationInterface {
  name = 'CreateCreditLedger1763800100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE roles ADD COLUMN current_limits_version integer NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE role_limit_versions (
        role_id uuid NOT NULL,
        version integer NOT NULL,
        set_by uuid,
        set_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT role_limit_versions_pk PRIMARY KEY (role_id, version),
        CONSTRAINT role_limit_versions_role_fk FOREIGN KEY (role_id) REFERENCES roles (id),
        CONSTRAINT role_limit_versions_set_by_fk FOREIGN KEY (set_by) REFERENCES users (id)
      )`);
    await q.query(`
      CREATE TABLE role_limits (
        role_id uuid NOT NULL,
        version integer NOT NULL,
        currency char(3) NOT NULL,
        per_credit bigint,
        per_case bigint,
        per_agent_day bigint,
        per_agent_month bigint,
        CONSTRAINT role_limits_pk PRIMARY KEY (role_id, version, currency),
        CONSTRAINT role_limits_version_fk FOREIGN KEY (role_id, version) REFERENCES role_limit_versions (role_id, version),
        CONSTRAINT role_limits_non_negative_ck CHECK (
          coalesce(per_credit, 0) >= 0 AND coalesce(per_case, 0) >= 0
          AND coalesce(per_agent_day, 0) >= 0 AND coalesce(per_agent_month, 0) >= 0)
      )`);
    await q.query(`
      CREATE TABLE reasons (
        code text NOT NULL,
        label text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reasons_pk PRIMARY KEY (code),
        CONSTRAINT reasons_code_ck CHECK (code ~ '^[a-z][a-z0-9_]{1,49}$')
      )`);
    await q.query(`
      INSERT INTO reasons (code, label) VALUES
        ('late_delivery', 'Late delivery'),
        ('damaged_item', 'Damaged item'),
        ('wrong_item', 'Wrong item sent'),
        ('billing_error', 'Billing error'),
        ('service_failure', 'Service failure'),
        ('product_defect', 'Product defect'),
        ('long_wait', 'Long wait'),
        ('repeat_contact', 'Customer had to contact us again'),
        ('goodwill_gesture', 'Goodwill gesture'),
        ('other', 'Other')`);
    await q.query(`
      CREATE TABLE credits (
        id uuid NOT NULL,
        agent_id uuid NOT NULL,
        role_id uuid,
        team_id uuid,
        limits_version integer,
        amount bigint NOT NULL,
        currency char(3) NOT NULL,
        kind text NOT NULL,
        reason_code text NOT NULL,
        case_ref text NOT NULL,
        customer_ref text,
        channel text,
        note text,
        occurred_at timestamptz NOT NULL,
        local_day date NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        within_discretion bigint NOT NULL,
        overrun bigint NOT NULL,
        unbudgeted boolean NOT NULL,
        binding_limit text,
        CONSTRAINT credits_pk PRIMARY KEY (id),
        CONSTRAINT credits_agent_fk FOREIGN KEY (agent_id) REFERENCES users (id),
        CONSTRAINT credits_role_fk FOREIGN KEY (role_id) REFERENCES roles (id),
        CONSTRAINT credits_team_fk FOREIGN KEY (team_id) REFERENCES teams (id),
        CONSTRAINT credits_reason_fk FOREIGN KEY (reason_code) REFERENCES reasons (code),
        CONSTRAINT credits_amount_ck CHECK (amount > 0 AND amount <= 1000000000000),
        CONSTRAINT credits_split_ck CHECK (within_discretion >= 0 AND overrun >= 0 AND within_discretion + overrun = amount),
        CONSTRAINT credits_kind_ck CHECK (kind IN ('refund','store_credit','voucher','waived_fee','replacement','upgrade','gift','other')),
        CONSTRAINT credits_channel_ck CHECK (channel IN ('phone','chat','email','in_person','social','other')),
        CONSTRAINT credits_binding_limit_ck CHECK (binding_limit IN ('perCredit','perCase','perAgentDay','perAgentMonth','none'))
      )`);
    await q.query(`CREATE INDEX credits_agent_idx ON credits (agent_id, recorded_at DESC, id DESC)`);
    await q.query(`CREATE INDEX credits_recorded_idx ON credits (recorded_at DESC, id DESC)`);
    await q.query(`CREATE INDEX credits_case_idx ON credits (case_ref, currency)`);
    await q.query(`
      CREATE TABLE credit_reversals (
        id uuid NOT NULL,
        credit_id uuid NOT NULL,
        reversed_by uuid NOT NULL,
        reason text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_reversals_pk PRIMARY KEY (id),
        CONSTRAINT credit_reversals_credit_uq UNIQUE (credit_id),
        CONSTRAINT credit_reversals_credit_fk FOREIGN KEY (credit_id) REFERENCES credits (id),
        CONSTRAINT credit_reversals_by_fk FOREIGN KEY (reversed_by) REFERENCES users (id)
      )`);
    await q.query(`
      CREATE TABLE postings (
        id bigint GENERATED ALWAYS AS IDENTITY,
        entry_id uuid NOT NULL,
        entry_kind text NOT NULL,
        currency char(3) NOT NULL,
        debit_account text NOT NULL,
        credit_account text NOT NULL,
        amount bigint NOT NULL,
        posted_at timestamptz NOT NULL DEFAULT now(),
        local_day date NOT NULL,
        CONSTRAINT postings_pk PRIMARY KEY (id),
        CONSTRAINT postings_amount_ck CHECK (amount > 0),
        CONSTRAINT postings_accounts_ck CHECK (debit_account <> credit_account),
        CONSTRAINT postings_entry_kind_ck CHECK (entry_kind IN ('credit','reversal'))
      )`);
    await q.query(`CREATE INDEX postings_day_idx ON postings (local_day)`);
    await q.query(`CREATE INDEX postings_entry_idx ON postings (entry_id)`);
    // Usage counters are derived state: they can always be recomputed from credits and reversals.
    await q.query(`
      CREATE TABLE usage_case (
        case_ref text NOT NULL,
        currency char(3) NOT NULL,
        used bigint NOT NULL,
        CONSTRAINT usage_case_pk PRIMARY KEY (case_ref, currency),
        CONSTRAINT usage_case_used_ck CHECK (used >= 0)
      )`);
    await q.query(`
      CREATE TABLE usage_agent_day (
        agent_id uuid NOT NULL,
        currency char(3) NOT NULL,
        day date NOT NULL,
        used bigint NOT NULL,
        CONSTRAINT usage_agent_day_pk PRIMARY KEY (agent_id, currency, day),
        CONSTRAINT usage_agent_day_used_ck CHECK (used >= 0)
      )`);
    await q.query(`
      CREATE TABLE usage_agent_month (
        agent_id uuid NOT NULL,
        currency char(3) NOT NULL,
        month date NOT NULL,
        used bigint NOT NULL,
        CONSTRAINT usage_agent_month_pk PRIMARY KEY (agent_id, currency, month),
        CONSTRAINT usage_agent_month_used_ck CHECK (used >= 0)
      )`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        key text NOT NULL,
        request_hash bytea NOT NULL,
        status_code integer,
        response text,
        credit_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pk PRIMARY KEY (user_id, key),
        CONSTRAINT idempotency_keys_key_ck CHECK (length(key) BETWEEN 1 AND 255)
      )`);
    for (const table of APPEND_ONLY) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION leeway_refuse_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION leeway_refuse_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_keys',
      'usage_agent_month',
      'usage_agent_day',
      'usage_case',
      'postings',
      'credit_reversals',
      'credits',
      'reasons',
      'role_limits',
      'role_limit_versions',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`ALTER TABLE roles DROP COLUMN current_limits_version`);
  }
}
