-- Domain events out to other systems (ADR 34): how far each relay has got, and where each signed checkpoint
-- stands among the events, so that the feed and the relay can publish it after the events it covers and a
-- consumer reading in order never passes one by.
CREATE TABLE relay_positions (
    relay      text PRIMARY KEY,              -- the exchange it publishes to
    position   bigint      NOT NULL DEFAULT 0, -- the last event the broker confirmed (or skipped: not published)
    tree_size  bigint      NOT NULL DEFAULT 0, -- the last checkpoint confirmed after that event (0: none yet)
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A checkpoint is placed after the last event committed when it was signed. The trigger takes SHARE on the log
-- (which waits for writers in flight and keeps new ones out until the checkpoint commits), so every event at or
-- below its place is committed before it, and none above is visible before it: a reader in log order who has seen
-- an event above a checkpoint's place can see the checkpoint too.
CREATE TABLE checkpoint_places (
    tree_size      bigint PRIMARY KEY,
    after_position bigint NOT NULL
);
CREATE INDEX checkpoint_places_order_idx ON checkpoint_places (after_position, tree_size);

-- SECURITY DEFINER: the signer needs no lock privilege on the log of its own (a role that may only append events
-- and read them may not take SHARE); the function does nothing else with its owner's rights.
CREATE FUNCTION place_checkpoint() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    LOCK TABLE ledger_events IN SHARE MODE;
    -- A tree size signed again (its checkpoint deleted by someone with the rights to) is placed where it is now:
    -- a consumer already past its old place still reads it.
    INSERT INTO checkpoint_places (tree_size, after_position)
        VALUES (NEW.tree_size, (SELECT coalesce(max(notification_id), 0) FROM ledger_events))
        ON CONFLICT (tree_size) DO UPDATE SET after_position = excluded.after_position;
    RETURN NULL;
END
$$;

CREATE TRIGGER checkpoints_placed AFTER INSERT ON checkpoints FOR EACH ROW EXECUTE FUNCTION place_checkpoint();

-- Checkpoints signed before this migration: after the last event each covers.
INSERT INTO checkpoint_places (tree_size, after_position)
SELECT c.tree_size, coalesce((SELECT l.position FROM merkle_leaves l WHERE l.leaf_index = c.tree_size - 1), 0)
FROM checkpoints c;
