-- The caseload's lists are paged (ADR 22): each list is found, counted and cut in SQL, with an index that
-- reads only the open cases, however long the provider's history. So an Unpaid Work order carries the day
-- its start becomes late and the day it becomes at risk of missing its deadline (both computed by the
-- domain's rules when the view is written), and a provider's Unpaid Work totals run beside the orders
-- instead of being summed over every order it was ever allocated. The worker rebuilds the caseload.
UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_people, caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions,
    caseload_referrals, caseload_totals, caseload_unpaid_work, caseload_programme_groups;

ALTER TABLE caseload_unpaid_work
    ADD COLUMN start_late_from date NOT NULL,
    ADD COLUMN at_risk_from    date;

CREATE TABLE caseload_unpaid_work_totals (
    supplier_id   uuid          NOT NULL,
    contract_id   uuid          NOT NULL,
    orders        int           NOT NULL,
    completed     int           NOT NULL,
    hours_ordered bigint        NOT NULL,
    hours_worked  numeric(14, 2) NOT NULL,
    stand_downs   int           NOT NULL,
    PRIMARY KEY (supplier_id, contract_id)
);

-- Open orders by deadline (the at-risk and late-start lists), open referrals by region and contract.
DROP INDEX caseload_unpaid_work_open_idx;
CREATE INDEX caseload_unpaid_work_open_idx ON caseload_unpaid_work (supplier_id, complete_by, order_id)
    WHERE completed_on IS NULL;
CREATE INDEX caseload_unpaid_work_contract_idx ON caseload_unpaid_work (contract_id, allocated_on);
CREATE INDEX caseload_unpaid_work_allocated_idx ON caseload_unpaid_work (supplier_id, allocated_on, order_id);
CREATE INDEX caseload_referrals_open_region_idx ON caseload_referrals (region, received_at)
    WHERE status <> 'concluded';
CREATE INDEX caseload_referrals_open_contract_idx ON caseload_referrals (contract_id, received_at)
    WHERE status <> 'concluded';
CREATE INDEX caseload_referrals_received_idx ON caseload_referrals (supplier_id, received_at, referral_id);
