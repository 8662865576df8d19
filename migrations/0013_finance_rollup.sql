-- Finance's spend by any cut, as at any date, without summing every posting each time: a monthly rollup
-- per contract (by the month a movement took effect and the month it was recorded), and indexes that find
-- the current month's postings, which are added to the rollup's complete months. The worker rebuilds the
-- payments view from the log.
CREATE TABLE finance_rollup (
    month           date           NOT NULL,  -- first day of the month the movements took effect
    recorded_month  date           NOT NULL,  -- first day of the month they were recorded
    kind            text           NOT NULL CHECK (kind IN ('committed', 'charged', 'invoiced', 'paid')),
    contract_id     uuid,
    supplier_id     uuid,
    commissioner_id uuid,
    category        text,
    regions         text[],
    financial_year  text           NOT NULL,
    amount          numeric(16, 2) NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, recorded_month, kind, contract_id, supplier_id, commissioner_id, category,
                               regions, financial_year)
);
CREATE INDEX finance_postings_effective_idx ON finance_postings (effective_on);
CREATE INDEX finance_postings_recorded_idx ON finance_postings (recorded_at);

UPDATE projection_positions SET position = 0 WHERE view_name = 'payments';
TRUNCATE finance_payments, finance_invoices, finance_charges, finance_refused_charges, finance_postings,
    finance_accounts, finance_budget_lines;
