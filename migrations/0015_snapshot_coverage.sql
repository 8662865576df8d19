-- What each snapshot covers (the latest recorded time, effective time and log position of the events it
-- folds in), so that an as-of reconstruction finds a usable snapshot by index instead of re-reading the
-- events beneath it. Snapshots are a cache: the ones without coverage are dropped and taken again.
DELETE FROM ledger_snapshots;
ALTER TABLE ledger_snapshots
    ADD COLUMN covers_recorded_at  timestamptz NOT NULL,
    ADD COLUMN covers_effective_at timestamptz NOT NULL,
    ADD COLUMN covers_position     bigint      NOT NULL;
