-- Snapshots of aggregates whose streams grow long (a contract's account gains an event for every charge).
-- A snapshot is a cache of what the events already say: loading starts from the latest one and applies
-- the events after it. It is not part of the log or the Merkle tree, and can be deleted at any time.
CREATE TABLE ledger_snapshots (
    originator_id      uuid   NOT NULL,
    originator_version bigint NOT NULL,
    topic              text   NOT NULL,
    state              bytea  NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);
