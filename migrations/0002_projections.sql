-- Where each projection has read up to, written in the same transaction as its rows.
CREATE TABLE projection_positions (
    view_name    text PRIMARY KEY,
    position     bigint      NOT NULL DEFAULT 0,
    code_version text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Reference data, projected from the seed events.
CREATE TABLE ref_service_categories (
    code              text PRIMARY KEY,
    name              text    NOT NULL,
    kind              text    NOT NULL CHECK (kind IN ('need', 'cohort')),
    complexity_levels text[]  NOT NULL,
    position          bigint  NOT NULL
);

CREATE TABLE ref_complexity_levels (
    code        text PRIMARY KEY,
    name        text   NOT NULL,
    rank        int    NOT NULL,
    description text   NOT NULL,
    position    bigint NOT NULL
);

CREATE TABLE ref_areas (
    code        text PRIMARY KEY,
    name        text   NOT NULL,
    kind        text   NOT NULL,
    parent_code text REFERENCES ref_areas (code),
    attributes  jsonb  NOT NULL DEFAULT '{}',
    position    bigint NOT NULL
);

-- "covers" = contains: every area covers itself and everything below it.
CREATE TABLE ref_area_covers (
    ancestor   text NOT NULL REFERENCES ref_areas (code),
    descendant text NOT NULL REFERENCES ref_areas (code),
    PRIMARY KEY (ancestor, descendant)
);
CREATE INDEX ref_area_covers_descendant_idx ON ref_area_covers (descendant);

CREATE TABLE ref_commissioner_types (
    code     text PRIMARY KEY,
    name     text   NOT NULL,
    position bigint NOT NULL
);

-- The catalogue: supplier organisations as the market sees them now.
CREATE TABLE catalogue_suppliers (
    supplier_id       uuid PRIMARY KEY,
    name              text        NOT NULL,
    legal_identifier  text        NOT NULL UNIQUE,
    organisation_type text        NOT NULL,
    is_small          boolean     NOT NULL,
    registered_at     timestamptz NOT NULL,
    version           bigint      NOT NULL,
    position          bigint      NOT NULL
);
CREATE INDEX catalogue_suppliers_name_idx ON catalogue_suppliers (lower(name));
