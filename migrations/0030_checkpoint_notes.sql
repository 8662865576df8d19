-- Checkpoints outsiders hold (ADR 35): each checkpoint is also signed as a C2SP tlog-checkpoint note under the
-- log's origin (checkpoints signed before this have neither), and each verification records how many events no
-- checkpoint covers yet (earlier runs did not count them).
ALTER TABLE checkpoints ADD COLUMN origin text, ADD COLUMN note_signature bytea;
ALTER TABLE audit_verifications ADD COLUMN uncovered bigint;
