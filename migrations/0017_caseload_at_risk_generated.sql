-- An open Unpaid Work order's at-risk day is computed by PostgreSQL from the row on every write, instead of
-- being read back and computed by the worker for each session recorded (a round trip per session during
-- catch-up and rebuild). The order is at risk from the first day its hours left no longer fit before its
-- deadline at the weekly minimum: complete_by - (ceil(hours left * 7 / weekly minimum) - 1). The weekly
-- minimums are the framework's (7 hours employed, 28 not: ledger.cases.unpaid_work.WEEKLY_MINIMUM; the
-- caseload tests hold the two together). Existing rows are computed as the column is added.
ALTER TABLE caseload_unpaid_work DROP COLUMN at_risk_from;
ALTER TABLE caseload_unpaid_work ADD COLUMN at_risk_from date GENERATED ALWAYS AS (
    CASE WHEN hours_worked < hours_ordered THEN
        complete_by - (ceil((hours_ordered - hours_worked) * 7 / CASE WHEN employed THEN 7 ELSE 28 END)::int - 1)
    END
) STORED;
