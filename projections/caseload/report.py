"""The caseload's performance report: one CSV row per referral received in a period, with its timeline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg

from ledger.cases.referrals import ReferralPersonalData
from ledger.personal_data import ERASED, KeyRing
from projections.base import fetch_rows
from projections.caseload.models import CaseloadFilter
from projections.caseload.queries import referrals_of, revealed
from projections.export import csv_text

REPORT_COLUMNS = (
    "reference_number",
    "crn",
    "supplier_id",
    "contract_id",
    "region",
    "category",
    "complexity",
    "caseworker_id",
    "received_at",
    "assigned_at",
    "first_appointment_at",
    "action_plan_approved_at",
    "sessions_planned",
    "sessions_attended",
    "outcomes_rated",
    "outcomes_achieved",
    "outcomes_partial",
    "end_state",
    "concluded_at",
)


def performance_report(
    conn: psycopg.Connection[Any], cut: CaseloadFilter, start: date, end: date, keys: KeyRing
) -> str:
    """A provider performance report as CSV: one row per referral received in [start, end], with its timeline.

    The CRN column says "erased" for a person whose personal data has been erased.
    """
    where = referrals_of(cut).add("r.received_at >= %s AND r.received_at < %s", start, end + timedelta(days=1))
    columns = ", ".join("p.personal" if c == "crn" else "r." + c for c in REPORT_COLUMNS)
    rows = fetch_rows(
        conn,
        f"SELECT {columns} FROM caseload_referrals r LEFT JOIN caseload_people p ON p.record_id = r.referral_id"
        f" WHERE {where.sql} ORDER BY r.received_at, r.reference_number",
        where.params,
    )
    sealed, reveal = revealed(rows, keys)
    for row, value in zip(rows, sealed, strict=True):
        personal = reveal(value, ReferralPersonalData)
        row["crn"] = personal.crn if personal else ERASED
    return csv_text(REPORT_COLUMNS, rows)
