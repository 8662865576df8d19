-- Tamper evidence: the Merkle log's leaves (one per event, in log order) and signed checkpoints.
CREATE TABLE merkle_leaves (
    leaf_index   bigint PRIMARY KEY,
    position     bigint NOT NULL UNIQUE,
    leaf_hash    bytea  NOT NULL,
    content_hash bytea  NOT NULL  -- the same row without its position: tells a reorder from an edit
);

CREATE TABLE checkpoints (
    tree_size bigint PRIMARY KEY,
    root      bytea       NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id    text        NOT NULL,
    signature bytea       NOT NULL
);

CREATE TRIGGER merkle_leaves_append_only BEFORE UPDATE OR DELETE ON merkle_leaves
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION append_only();
