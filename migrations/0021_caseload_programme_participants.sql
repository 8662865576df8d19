-- Accredited programme groups as their users read them (ADR 24): who is in a group now and who has left it
-- (completed the programme, or withdrawn with a coded reason), each session numbered as the group's record
-- numbers it, and each participant's attendance at it. A group's size counts its current participants only.
-- The worker rebuilds the caseload from the log.
UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_people, caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions,
    caseload_referrals, caseload_totals, caseload_unpaid_work, caseload_unpaid_work_totals, caseload_programme_groups;

ALTER TABLE caseload_programme_groups
    ADD COLUMN facilitator_id text NOT NULL,
    ADD COLUMN completed      int  NOT NULL DEFAULT 0,
    ADD COLUMN withdrawn      int  NOT NULL DEFAULT 0;
COMMENT ON COLUMN caseload_programme_groups.participants IS 'current participants: those who left are not counted';

CREATE TABLE caseload_programme_participants (
    group_id   uuid        NOT NULL,
    subject_id uuid        NOT NULL,
    position   bigint      NOT NULL,  -- the log position of the joining: the order they joined in
    joined_at  timestamptz NOT NULL,
    status     text        NOT NULL,  -- current, completed, withdrawn
    left_on    date,
    end_reason text,
    personal   bytea,                 -- sealed (CRN and details); NULL once erased
    PRIMARY KEY (group_id, subject_id)
);
CREATE INDEX caseload_programme_participants_subject_idx ON caseload_programme_participants (subject_id);

CREATE TABLE caseload_programme_sessions (
    group_id uuid NOT NULL,
    number   int  NOT NULL,
    kind     text NOT NULL,
    held_on  date NOT NULL,
    PRIMARY KEY (group_id, number)
);

CREATE TABLE caseload_programme_attendance (
    group_id    uuid NOT NULL,
    number      int  NOT NULL,
    subject_id  uuid NOT NULL,
    attendance  text,         -- attended, late, did_not_attend; NULL until recorded
    absence     text,
    recorded_at timestamptz,
    PRIMARY KEY (group_id, number, subject_id)
);
