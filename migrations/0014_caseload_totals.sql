-- A provider's, a contract's or a region's caseload counts read from running totals, not by summing every
-- referral it ever had; the open referrals (the ones that need attention) found without the closed ones.
-- The worker rebuilds the caseload from the log.
CREATE TABLE caseload_totals (
    supplier_id uuid   NOT NULL,
    contract_id uuid   NOT NULL,
    region      text,
    status      text   NOT NULL,
    referrals   int    NOT NULL,
    attended    bigint NOT NULL,
    recorded    bigint NOT NULL,
    completed   int    NOT NULL,
    ended_early int    NOT NULL,
    cancelled   int    NOT NULL,
    achieved    bigint NOT NULL,
    rated       bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (supplier_id, contract_id, region, status)
);
CREATE INDEX caseload_referrals_open_idx ON caseload_referrals (supplier_id, received_at)
    WHERE status <> 'concluded';
CREATE INDEX caseload_unpaid_work_open_idx ON caseload_unpaid_work (supplier_id) WHERE completed_on IS NULL;

UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_people, caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions,
    caseload_referrals, caseload_unpaid_work, caseload_programme_groups;
