-- Every read of people's personal data: who, what, when and why. Append-only.
CREATE TABLE personal_data_reads (
    id              bigserial PRIMARY KEY,
    read_at         timestamptz NOT NULL,
    actor_id        text        NOT NULL,
    actor_role      text        NOT NULL,
    organisation_id text,
    method          text        NOT NULL,
    path            text        NOT NULL,
    query           text        NOT NULL,
    purpose         text        NOT NULL,
    request_id      text        NOT NULL,
    found           boolean     NOT NULL
);
CREATE INDEX personal_data_reads_actor_idx ON personal_data_reads (actor_id, read_at);

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER personal_data_reads_append_only BEFORE UPDATE OR DELETE ON personal_data_reads
    FOR EACH ROW EXECUTE FUNCTION append_only();
