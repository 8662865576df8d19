-- The event store: one table, one total order (notification_id), envelope in indexed columns.
-- Shape matches eventsourcing 9.5.6's PostgresApplicationRecorder plus the envelope columns
-- written by ledger.store.LedgerRecorder in the same INSERT.

CREATE TABLE ledger_events (
    originator_id      uuid        NOT NULL,
    originator_version bigint      NOT NULL,
    topic              text        NOT NULL,
    state              bytea       NOT NULL,
    notification_id    bigserial,
    recorded_at        timestamptz NOT NULL,
    effective_at       timestamptz NOT NULL,
    actor_id           text        NOT NULL,
    actor_role         text        NOT NULL,
    organisation_id    text,
    correlation_id     text        NOT NULL,
    causation_id       text,
    reason             text,
    -- The class name of the event (the topic's last part), for filtering by type.
    event_type         text GENERATED ALWAYS AS (regexp_replace(topic, '^.*[.:]', '')) STORED,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX ledger_events_notification_id_idx ON ledger_events (notification_id);
CREATE INDEX ledger_events_topic_idx ON ledger_events (topic, notification_id);
CREATE INDEX ledger_events_type_idx ON ledger_events (event_type, notification_id);
CREATE INDEX ledger_events_actor_idx ON ledger_events (actor_id, notification_id);
CREATE INDEX ledger_events_organisation_idx ON ledger_events (organisation_id, notification_id);
CREATE INDEX ledger_events_correlation_idx ON ledger_events (correlation_id);
CREATE INDEX ledger_events_aggregate_idx ON ledger_events (originator_id, notification_id);
CREATE INDEX ledger_events_recorded_at_idx ON ledger_events (recorded_at);
CREATE INDEX ledger_events_effective_at_idx ON ledger_events (effective_at);

-- Events are immutable: the ledger never updates or deletes a row. Tamper evidence (the Merkle
-- log) detects changes made by anyone bypassing this.
CREATE FUNCTION ledger_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_events_no_update BEFORE UPDATE OR DELETE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_events_immutable();
