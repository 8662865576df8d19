-- Payments compliance notices (issue 15, item 7; ADR 33): the figures count days from the day an invoice was
-- received to the day its last payable sum was paid, and sums from the day each line was approved. The view kept an
-- invoice's recorded time and its decisions' recorded times; it now keeps the day each took effect. The paid day is
-- what the domain decides from the facts (a line approved after a payment reopens the invoice). The worker rebuilds
-- the payments view from the log.
UPDATE projection_positions SET position = 0 WHERE view_name = 'payments';
TRUNCATE finance_invoice_decisions, finance_payments, finance_invoices, finance_charges, finance_refused_charges,
    finance_postings, finance_rollup, finance_accounts, finance_budget_lines;

ALTER TABLE finance_invoices ADD COLUMN received_on date NOT NULL;
ALTER TABLE finance_invoice_decisions ADD COLUMN effective_on date NOT NULL;

CREATE INDEX finance_invoice_decisions_effective_idx ON finance_invoice_decisions (effective_on)
    WHERE kind = 'approved';
CREATE INDEX finance_payments_invoice_idx ON finance_payments (invoice_id);
CREATE INDEX finance_payments_paid_on_idx ON finance_payments (paid_on);

