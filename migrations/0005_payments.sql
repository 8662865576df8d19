-- Payments: the journal of postings, charges, invoices, payments, budget lines; and idempotency keys.

CREATE TABLE finance_accounts (
    contract_id     uuid PRIMARY KEY,
    account_id      uuid   NOT NULL UNIQUE,
    supplier_id     uuid   NOT NULL,
    commissioner_id uuid   NOT NULL,
    category        text   NOT NULL,
    regions         text[] NOT NULL,
    unfunded        jsonb  NOT NULL DEFAULT '[]',
    schedules       jsonb  NOT NULL DEFAULT '[]',
    version         bigint NOT NULL
);

-- Every posting of every money movement: debits positive, credits negative; each event sums to zero.
CREATE TABLE finance_postings (
    position        bigint         NOT NULL,
    seq             int            NOT NULL,
    event_type      text           NOT NULL,
    account         text           NOT NULL,
    amount          numeric(14, 2) NOT NULL,
    contract_id     uuid,
    supplier_id     uuid,
    commissioner_id uuid,
    category        text,
    regions         text[],
    recorded_at     timestamptz    NOT NULL,
    effective_on    date           NOT NULL,
    financial_year  text           NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX finance_postings_account_idx ON finance_postings (account);
CREATE INDEX finance_postings_contract_idx ON finance_postings (contract_id);

CREATE TABLE finance_charges (
    charge_id        uuid PRIMARY KEY,
    contract_id      uuid           NOT NULL,
    supplier_id      uuid           NOT NULL,
    commissioner_id  uuid           NOT NULL,
    clause           text           NOT NULL,
    schedule_version int            NOT NULL,
    basis            jsonb          NOT NULL,
    amount           numeric(14, 2) NOT NULL,
    earned_on        date           NOT NULL,
    recorded_at      timestamptz    NOT NULL,
    reversed         boolean        NOT NULL DEFAULT false,
    reversal_reason  text,
    invoice_id       uuid
);
CREATE INDEX finance_charges_contract_idx ON finance_charges (contract_id, earned_on);

-- Charges the cap refused: visible to finance, never silently dropped.
CREATE TABLE finance_refused_charges (
    position         bigint PRIMARY KEY,
    contract_id      uuid           NOT NULL,
    clause           text           NOT NULL,
    basis            jsonb          NOT NULL,
    amount           numeric(14, 2) NOT NULL,
    cap              numeric(14, 2) NOT NULL,
    charged          numeric(14, 2) NOT NULL,
    recorded_at      timestamptz    NOT NULL
);

CREATE TABLE finance_invoices (
    invoice_id      uuid PRIMARY KEY,
    contract_id     uuid           NOT NULL,
    supplier_id     uuid           NOT NULL,
    commissioner_id uuid           NOT NULL,
    invoice_number  text           NOT NULL,
    period_start    date           NOT NULL,
    period_end      date           NOT NULL,
    submitted_at    timestamptz    NOT NULL,
    claimed         numeric(14, 2) NOT NULL,
    approved        numeric(14, 2) NOT NULL DEFAULT 0,
    credited        numeric(14, 2) NOT NULL DEFAULT 0,
    paid            numeric(14, 2) NOT NULL DEFAULT 0,
    flagged_lines   int            NOT NULL,
    disputed_lines  int            NOT NULL DEFAULT 0,
    lines           jsonb          NOT NULL,
    fully_paid_on   date
);
CREATE INDEX finance_invoices_contract_idx ON finance_invoices (contract_id);
CREATE INDEX finance_invoices_commissioner_idx ON finance_invoices (commissioner_id, submitted_at);

CREATE TABLE finance_payments (
    payment_id      uuid PRIMARY KEY,
    invoice_id      uuid           NOT NULL REFERENCES finance_invoices (invoice_id),
    contract_id     uuid           NOT NULL,
    amount          numeric(14, 2) NOT NULL,
    paid_on         date           NOT NULL,
    remittance      text           NOT NULL,
    reversed        boolean        NOT NULL DEFAULT false,
    reversal_reason text,
    recorded_at     timestamptz    NOT NULL
);

CREATE TABLE finance_budget_lines (
    line_id         uuid PRIMARY KEY,
    commissioner_id uuid           NOT NULL,
    financial_year  text           NOT NULL,
    code            text           NOT NULL,
    name            text           NOT NULL,
    amount          numeric(14, 2) NOT NULL,
    ring_fenced     boolean        NOT NULL,
    overrun         numeric(14, 2) NOT NULL DEFAULT 0,
    committed       numeric(14, 2) NOT NULL DEFAULT 0,
    version         bigint         NOT NULL
);

-- Money-moving commands answer a retry with the first response (Idempotency-Key header).
CREATE TABLE idempotency_keys (
    actor_id     text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       int,
    body         bytea,
    headers      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);
