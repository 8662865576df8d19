-- Which code built each view, and which code is applying events to it now. They differ after a
-- deployment that changed a view's code until `ledger rebuild --switch` rebuilds it from position 0.
ALTER TABLE projection_positions
    ADD COLUMN applied_by text,
    ADD COLUMN rebuilt_at timestamptz;
UPDATE projection_positions SET applied_by = code_version;
