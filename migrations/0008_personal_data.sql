-- Personal data of people on probation is sealed with a key per person (crypto-shredding).
-- A subject is found by a keyed hash of their CRN (never the CRN itself); its data key is stored
-- wrapped under the master key, which lives outside the database. Erasure clears both in the same
-- transaction as the event that records it, leaving a tombstone that says when.
CREATE TABLE personal_data_keys (
    subject_id       uuid PRIMARY KEY,
    crn_index        bytea UNIQUE,          -- HMAC-SHA256 of the CRN; NULL once erased
    wrapped_key      bytea,                 -- AES-GCM(master key, data key); NULL once erased
    created_at       timestamptz NOT NULL,
    erased_at        timestamptz,
    erasure_position bigint,
    CHECK ((erased_at IS NULL) = (wrapped_key IS NOT NULL)),
    CHECK (erased_at IS NULL OR crn_index IS NULL)
);

-- The caseload keeps people's data only as the sealed values the events carry, so erasing a key
-- erases it from the views too. Its tables change shape: the worker rebuilds them from the log.
UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions, caseload_referrals,
    caseload_unpaid_work, caseload_programme_groups;

ALTER TABLE caseload_referrals
    DROP COLUMN crn,
    DROP COLUMN person_name,
    ADD COLUMN subject_id uuid    NOT NULL,
    ADD COLUMN personal   bytea,                        -- sealed: CRN, name, date of birth, address, needs, risk
    ADD COLUMN erased     boolean NOT NULL DEFAULT false;
CREATE INDEX caseload_referrals_subject_idx ON caseload_referrals (subject_id);

ALTER TABLE caseload_appointments
    DROP COLUMN concerns,
    ADD COLUMN notes bytea;                              -- sealed: behaviour and concerns

ALTER TABLE caseload_unpaid_work
    DROP COLUMN crn,
    DROP COLUMN person_name,
    ADD COLUMN subject_id uuid    NOT NULL,
    ADD COLUMN personal   bytea,
    ADD COLUMN erased     boolean NOT NULL DEFAULT false;
CREATE INDEX caseload_unpaid_work_subject_idx ON caseload_unpaid_work (subject_id);
