"""Finance's exports: every finance table of the payments view as CSV, every column of every row; and the payments
compliance figures of every reporting period, per commissioner."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from projections.export import csv_text
from projections.payments import compliance

EXPORTS = {
    "postings": "SELECT * FROM finance_postings ORDER BY position, seq",
    "charges": "SELECT * FROM finance_charges ORDER BY earned_on, charge_id",
    "refused-charges": "SELECT * FROM finance_refused_charges ORDER BY position",
    "invoices": "SELECT invoice_id, contract_id, supplier_id, commissioner_id, invoice_number, period_start,"
    " period_end, submitted_at, received_on, claimed, approved, credited, paid, flagged_lines, disputed_lines,"
    " fully_paid_on"
    " FROM finance_invoices ORDER BY submitted_at",
    "payments": "SELECT * FROM finance_payments ORDER BY paid_on, payment_id",
    "budget-lines": "SELECT * FROM finance_budget_lines ORDER BY commissioner_id, financial_year, code",
}


COMPLIANCE = "payments-compliance"


def export_csv(conn: psycopg.Connection[Any], table: str, today: date) -> str | None:
    """One finance table as CSV, every column of every row (None: no such export)."""
    if table == COMPLIANCE:
        return compliance.export_csv(conn, today)
    sql = EXPORTS.get(table)
    if sql is None:
        return None
    cur = conn.cursor(row_factory=dict_row).execute(sql)
    return csv_text([c.name for c in cur.description or ()], cur.fetchall())
