-- The public OCDS publication (issue 15, ADR 32): one release per public event, in log order, never changed
-- once written. `position` is the event's log position: the publication's sequence and its paging key (a view
-- commits in log order, so a page read after a release never misses one before it). A release's body is kept
-- without its ocid and id, which are the configured prefix's and are added when it is read.
CREATE TABLE publication_releases (
    position    bigint      PRIMARY KEY,
    process     text        NOT NULL,  -- 'dynamic-market', or the call-off's id
    recorded_at timestamptz NOT NULL,
    tags        text[]      NOT NULL,
    notice_type text        NOT NULL,
    release     jsonb       NOT NULL
);
CREATE INDEX publication_releases_process_idx ON publication_releases (process, position);
CREATE INDEX publication_releases_recorded_idx ON publication_releases (recorded_at, position);

-- What the view needs to remember to write a release: parties' names and registry identifiers, call-offs
-- (published or not: a draft is remembered, never published), contracts and their accounts, lot membership.
CREATE TABLE publication_parties (
    party_id          uuid PRIMARY KEY,  -- a supplier's or a commissioner's id
    name              text    NOT NULL,
    legal_identifier  text,
    organisation_type text,
    is_small          boolean,
    organisation_id   text
);

CREATE TABLE publication_call_offs (
    call_off_id uuid PRIMARY KEY,
    draft       jsonb   NOT NULL,
    published   boolean NOT NULL DEFAULT false
);

CREATE TABLE publication_contracts (
    contract_id uuid PRIMARY KEY,
    call_off_id uuid NOT NULL,
    account_id  uuid,
    supplier_id uuid NOT NULL,
    payer_id    uuid
);
CREATE INDEX publication_contracts_account_idx ON publication_contracts (account_id);

-- Every role each party has had in each process: a release names them all (roles merge as a whole list).
CREATE TABLE publication_roles (
    process  text   NOT NULL,
    party    text   NOT NULL,  -- the party's OCDS id
    roles    text[] NOT NULL,
    PRIMARY KEY (process, party)
);

CREATE TABLE publication_members (
    supplier_id uuid NOT NULL,
    lot         text NOT NULL,
    active      boolean NOT NULL,
    PRIMARY KEY (supplier_id, lot)
);
