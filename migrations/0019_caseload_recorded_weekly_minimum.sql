-- One rule (issue 17): an Unpaid Work order's weekly minimum is the domain's, recorded when the order is
-- allocated (UnpaidWorkOrderAllocated version 2; older events are upcast with the minimums they were allocated
-- under), and the caseload stores it. The at-risk day is computed from that stored minimum instead of from
-- 7 and 28 written in this schema (migration 0017): the first day the hours left, worked at the order's own
-- minimum, no longer fit before its deadline (ledger.cases.unpaid_work.at_risk_from; the caseload tests hold
-- the two together). The day a start becomes late is likewise the one the allocation recorded.
-- The worker rebuilds the caseload from the log.
UPDATE projection_positions SET position = 0 WHERE view_name = 'caseload';
TRUNCATE caseload_people, caseload_assignments, caseload_appointments, caseload_unpaid_work_sessions,
    caseload_referrals, caseload_totals, caseload_unpaid_work, caseload_unpaid_work_totals, caseload_programme_groups;

ALTER TABLE caseload_unpaid_work DROP COLUMN at_risk_from;
ALTER TABLE caseload_unpaid_work ADD COLUMN weekly_minimum_hours numeric(5, 2) NOT NULL;
ALTER TABLE caseload_unpaid_work ADD COLUMN at_risk_from date GENERATED ALWAYS AS (
    CASE WHEN hours_worked < hours_ordered THEN
        complete_by - (ceil((hours_ordered - hours_worked) * 7 / weekly_minimum_hours)::int - 1)
    END
) STORED;
