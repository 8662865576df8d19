-- The catalogue: the market as commissioners see it (suppliers, lots, areas, commissioners,
-- call-offs and their invitations, tender receipts without content, contracts).

ALTER TABLE catalogue_suppliers
    ADD COLUMN status        text NOT NULL DEFAULT 'active',
    ADD COLUMN terms_version text,
    ADD COLUMN status_grounds text;

CREATE TABLE catalogue_supplier_lots (
    supplier_id      uuid        NOT NULL REFERENCES catalogue_suppliers (supplier_id),
    category         text        NOT NULL,
    status           text        NOT NULL,
    questionnaire_id uuid,
    since            timestamptz NOT NULL,
    reason           text,
    PRIMARY KEY (supplier_id, category)
);
CREATE INDEX catalogue_supplier_lots_category_idx ON catalogue_supplier_lots (category, status);

CREATE TABLE catalogue_supplier_areas (
    supplier_id uuid NOT NULL REFERENCES catalogue_suppliers (supplier_id),
    area_code   text NOT NULL,
    PRIMARY KEY (supplier_id, area_code)
);
CREATE INDEX catalogue_supplier_areas_area_idx ON catalogue_supplier_areas (area_code);

CREATE TABLE catalogue_commissioners (
    commissioner_id     uuid PRIMARY KEY,
    name                text        NOT NULL,
    organisation_id     text        NOT NULL UNIQUE,
    commissioner_type   text        NOT NULL,
    area_code           text        NOT NULL,
    agreement_version   text,
    agreement_signed_at timestamptz,
    registered_at       timestamptz NOT NULL,
    version             bigint      NOT NULL
);

CREATE TABLE catalogue_call_offs (
    call_off_id          uuid PRIMARY KEY,
    title                text        NOT NULL,
    status               text        NOT NULL,
    need                 text,
    cohort               text,
    geography            text        NOT NULL,
    award_type           text        NOT NULL,
    estimated_value      numeric(14, 2) NOT NULL,
    lead_commissioner_id uuid        NOT NULL,
    partner_commissioner_ids uuid[]  NOT NULL DEFAULT '{}',
    drafted_at           timestamptz NOT NULL,
    published_at         timestamptz,
    response_deadline    timestamptz NOT NULL,
    invited_count        int,
    tenders_received     int         NOT NULL DEFAULT 0,
    tenders_opened_at    timestamptz,
    awarded_supplier_id  uuid,
    standstill_ends      timestamptz,
    contract_id          uuid,
    closed_reason        text,
    version              bigint      NOT NULL
);
CREATE INDEX catalogue_call_offs_status_idx ON catalogue_call_offs (status);
CREATE INDEX catalogue_call_offs_commissioner_idx ON catalogue_call_offs (lead_commissioner_id);

CREATE TABLE catalogue_invitations (
    call_off_id uuid    NOT NULL REFERENCES catalogue_call_offs (call_off_id),
    supplier_id uuid    NOT NULL,
    supplier_name text  NOT NULL,
    invited     boolean NOT NULL,
    reasons     text[]  NOT NULL,
    PRIMARY KEY (call_off_id, supplier_id)
);
CREATE INDEX catalogue_invitations_supplier_idx ON catalogue_invitations (supplier_id);

-- Receipts only: tender content is never projected (it is sealed until opened, then read from the log).
CREATE TABLE catalogue_tenders (
    tender_id   uuid PRIMARY KEY,
    call_off_id uuid NOT NULL,
    supplier_id uuid NOT NULL
);
CREATE INDEX catalogue_tenders_call_off_idx ON catalogue_tenders (call_off_id);

CREATE TABLE catalogue_tender_receipts (
    tender_id   uuid        NOT NULL REFERENCES catalogue_tenders (tender_id),
    stage       text        NOT NULL,
    submissions int         NOT NULL,
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (tender_id, stage)
);

CREATE TABLE catalogue_contracts (
    contract_id       uuid PRIMARY KEY,
    call_off_id       uuid           NOT NULL,
    award_type        text           NOT NULL,
    supplier_id       uuid           NOT NULL,
    commissioner_ids  uuid[]         NOT NULL,
    need              text,
    cohort            text,
    areas             text[]         NOT NULL,
    regions           text[]         NOT NULL,
    value             numeric(14, 2) NOT NULL,
    start_date        date           NOT NULL,
    end_date          date           NOT NULL,
    mobilisation_date date,
    extension_options int[]          NOT NULL,
    status            text           NOT NULL,
    terminated_on     date,
    concluded_at      timestamptz    NOT NULL,
    version           bigint         NOT NULL
);
CREATE INDEX catalogue_contracts_supplier_idx ON catalogue_contracts (supplier_id);
CREATE INDEX catalogue_contracts_regions_idx ON catalogue_contracts USING gin (regions);
CREATE INDEX catalogue_contracts_commissioners_idx ON catalogue_contracts USING gin (commissioner_ids);
