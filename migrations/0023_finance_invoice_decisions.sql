-- The finance pages (issue 14) show an invoice's three-way match line by line: each line's decision (approved or
-- disputed, with the reason and who decided) and the credit notes issued against it, where the view kept only a
-- count of disputed lines and a total credited; and a budget line's burn, month by month, from the rollup of the
-- contracts committed against it. The worker rebuilds the payments view from the log.
CREATE TABLE finance_invoice_decisions (
    position    bigint PRIMARY KEY,  -- the deciding event's: decisions in the order made
    invoice_id  uuid           NOT NULL REFERENCES finance_invoices (invoice_id),
    line        int            NOT NULL,
    kind        text           NOT NULL CHECK (kind IN ('approved', 'disputed', 'credit_note')),
    amount      numeric(14, 2),
    reason      text,
    decided_by  text           NOT NULL,
    recorded_at timestamptz    NOT NULL
);
CREATE INDEX finance_invoice_decisions_invoice_idx ON finance_invoice_decisions (invoice_id, position);

CREATE INDEX finance_rollup_contract_idx ON finance_rollup (contract_id, financial_year);

UPDATE projection_positions SET position = 0 WHERE view_name = 'payments';
TRUNCATE finance_invoice_decisions, finance_payments, finance_invoices, finance_charges, finance_refused_charges,
    finance_postings, finance_rollup, finance_accounts, finance_budget_lines;
