-- Each run of `verify` (the log recomputed from the raw events against its signed checkpoint): when, by whom and
-- what it found. Facts about the log, kept beside it rather than in it. Append-only.
CREATE TABLE audit_verifications (
    id                 bigserial   PRIMARY KEY,
    ran_at             timestamptz NOT NULL,
    ran_by             text        NOT NULL,
    ran_by_role        text        NOT NULL,
    seconds            double precision NOT NULL,
    ok                 boolean     NOT NULL,
    events             bigint      NOT NULL,
    leaves             bigint      NOT NULL,
    checkpoint_size    bigint,
    root               text        NOT NULL,
    finding_kind       text,        -- altered, removed, inserted, reordered, log-tampered, bad-signature
    first_bad_position bigint,
    detail             text
);

CREATE TRIGGER audit_verifications_append_only BEFORE UPDATE OR DELETE ON audit_verifications
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- The personal-data read log names the operation that read and the record it read (the path's id, when the
-- operation reads one record), so that an auditor can ask who read a given record. Earlier rows have neither.
ALTER TABLE personal_data_reads ADD COLUMN operation text, ADD COLUMN subject_id uuid;
CREATE INDEX personal_data_reads_subject_idx ON personal_data_reads (subject_id, read_at) WHERE subject_id IS NOT NULL;
