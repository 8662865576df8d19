-- The caseload keeps people's sealed data beside its rows, not in them: a referral's row is updated by
-- nearly every event of the referral, and carrying a kilobyte of ciphertext through each update made the
-- table many times larger than its facts. The worker rebuilds the caseload from the log.
UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions, caseload_referrals,
    caseload_unpaid_work, caseload_programme_groups;

CREATE TABLE caseload_people (
    record_id  uuid PRIMARY KEY,  -- the referral or Unpaid Work order the sealed data belongs to
    subject_id uuid NOT NULL,
    personal   bytea              -- sealed (CRN, name, date of birth, ...); NULL once erased
);
CREATE INDEX caseload_people_subject_idx ON caseload_people (subject_id);

ALTER TABLE caseload_referrals DROP COLUMN personal;
ALTER TABLE caseload_unpaid_work DROP COLUMN personal;
