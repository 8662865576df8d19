"""Payments compliance over the payments view: the facts of each invoice (the day it was received, its lines'
decisions on the days they took effect, its payments) for the domain's rules (`ledger.payments.compliance`), the
figures per commissioner for a reporting period, a commissioner's notice, and every period's figures as CSV."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from ledger.payments import compliance
from ledger.payments.compliance import InvoiceFacts, LineDecided, Payment, ReportingPeriod
from projections.export import csv_text
from projections.payments.models import (
    AuthorityInformation,
    NoticeApproval,
    NoticePayments,
    PaymentsCompliance,
    PaymentsComplianceLine,
    PaymentsComplianceNotice,
)
from projections.payments.queries import COMMISSIONER_NAME
from projections.sql import Where

_FACTS = (
    "SELECT i.invoice_id, i.commissioner_id, i.received_on, jsonb_array_length(i.lines) AS lines,"
    " d.lines AS decided_lines, d.kinds, d.amounts, d.days, p.amounts AS paid_amounts, p.days AS paid_days"
    " FROM finance_invoices i"
    " LEFT JOIN LATERAL (SELECT array_agg(x.line ORDER BY x.position) AS lines,"
    "   array_agg(x.kind ORDER BY x.position) AS kinds, array_agg(x.amount ORDER BY x.position) AS amounts,"
    "   array_agg(x.effective_on ORDER BY x.position) AS days"
    "   FROM finance_invoice_decisions x WHERE x.invoice_id = i.invoice_id) d ON true"
    " LEFT JOIN LATERAL (SELECT array_agg(y.amount ORDER BY y.paid_on, y.recorded_at) AS amounts,"
    "   array_agg(y.paid_on ORDER BY y.paid_on, y.recorded_at) AS days"
    "   FROM finance_payments y WHERE y.invoice_id = i.invoice_id AND NOT y.reversed) p ON true"
)


def invoice_facts(conn: psycopg.Connection[Any], where: Where) -> list[InvoiceFacts]:
    """The facts of the invoices `where` (over `i`, the invoice) selects, read on a cursor of its own."""
    rows = conn.cursor(row_factory=dict_row).execute(f"{_FACTS} WHERE {where.sql}", where.params).fetchall()
    return [
        InvoiceFacts(
            invoice_id=r["invoice_id"],
            commissioner_id=r["commissioner_id"],
            received_on=r["received_on"],
            lines=r["lines"],
            decisions=tuple(
                LineDecided(line=line, kind=kind, amount=amount, on=on)
                for line, kind, amount, on in zip(
                    r["decided_lines"] or (), r["kinds"] or (), r["amounts"] or (), r["days"] or (), strict=True
                )
            ),
            payments=tuple(
                Payment(amount=amount, paid_on=on)
                for amount, on in zip(r["paid_amounts"] or (), r["paid_days"] or (), strict=True)
            ),
        )
        for r in rows
    ]


def _touching(period: ReportingPeriod) -> Where:
    """Invoices with a sum approved or a payment made in the period: every one the period's figures count."""
    return Where().add(
        "(EXISTS (SELECT 1 FROM finance_invoice_decisions a WHERE a.invoice_id = i.invoice_id AND a.kind = 'approved'"
        " AND a.effective_on BETWEEN %s AND %s) OR EXISTS (SELECT 1 FROM finance_payments b"
        " WHERE b.invoice_id = i.invoice_id AND NOT b.reversed AND b.paid_on BETWEEN %s AND %s))",
        period.first_day,
        period.last_day,
        period.first_day,
        period.last_day,
    )


def _names(conn: psycopg.Connection[Any], ids: Iterable[UUID]) -> dict[UUID, str | None]:
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT id, {COMMISSIONER_NAME.format('id')} AS name FROM unnest(%s::uuid[]) AS id", (list(set(ids)),)
        )
        .fetchall()
    )
    return {r["id"]: r["name"] for r in rows}


def _line(
    commissioner_id: UUID, name: str | None, period: ReportingPeriod, f: compliance.Figures
) -> PaymentsComplianceLine:
    return PaymentsComplianceLine(
        period=period.label,
        first_day=period.first_day,
        last_day=period.last_day,
        commissioner_id=commissioner_id,
        commissioner_name=name,
        invoices_paid=f.invoices_paid,
        mean_days_to_pay=f.mean_days_to_pay,
        paid_in_days_1_to_30=f.paid_in_band["1-30"],
        paid_in_days_31_to_60=f.paid_in_band["31-60"],
        paid_on_day_61_or_later=f.paid_in_band["61+"],
        percent_paid_in_days_1_to_30=f.percent_in_band("1-30"),
        percent_paid_in_days_31_to_60=f.percent_in_band("31-60"),
        percent_paid_on_day_61_or_later=f.percent_in_band("61+"),
        sums_payable=f.sums_payable,
        sums_payable_value=f.sums_payable_value,
        sums_not_paid_in_period=f.sums_unpaid,
        sums_not_paid_in_period_value=f.sums_unpaid_value,
        percent_not_paid_in_period=f.percent_unpaid,
    )


def payments_compliance(
    conn: psycopg.Connection[Any], period: ReportingPeriod, *, commissioner_id: UUID | None = None
) -> PaymentsCompliance:
    """The period's figures per commissioner (one commissioner's, when given) with anything to report, by name."""
    where = _touching(period).given(commissioner_id, "i.commissioner_id = %s")
    by_commissioner: dict[UUID, list[InvoiceFacts]] = defaultdict(list)
    for invoice in invoice_facts(conn, where):
        by_commissioner[invoice.commissioner_id].append(invoice)
    names = _names(conn, by_commissioner)
    lines = [
        _line(cid, names.get(cid), period, f)
        for cid, invoices in by_commissioner.items()
        if (f := compliance.figures(invoices, period)).anything_to_report
    ]
    lines.sort(key=lambda line: (line.commissioner_name or "", str(line.commissioner_id)))
    return PaymentsCompliance(
        period=period.label,
        first_day=period.first_day,
        last_day=period.last_day,
        publish_by=period.publish_by,
        lines=lines,
    )


def notice(
    conn: psycopg.Connection[Any], period: ReportingPeriod, commissioner_id: UUID
) -> PaymentsComplianceNotice | None:
    """A commissioner's payments compliance notice for the period (reg. 38), its approval left to their finance
    director; None for a commissioner the catalogue does not know."""
    authority = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT commissioner_id AS id, name, organisation_id, commissioner_type, area_code"
            " FROM catalogue_commissioners WHERE commissioner_id = %s",
            (commissioner_id,),
        )
        .fetchone()
    )
    if authority is None:
        return None
    invoices = invoice_facts(conn, _touching(period).add("i.commissioner_id = %s", commissioner_id))
    f = compliance.figures(invoices, period)
    return PaymentsComplianceNotice(
        contracting_authority=AuthorityInformation(**authority),
        period=period.label,
        first_day=period.first_day,
        last_day=period.last_day,
        publish_by=period.publish_by,
        required=f.anything_to_report,
        payments=NoticePayments(
            invoices_paid=f.invoices_paid,
            mean_days_to_pay=f.mean_days_to_pay,
            percent_paid_in_days_1_to_30=f.percent_in_band("1-30"),
            percent_paid_in_days_31_to_60=f.percent_in_band("31-60"),
            percent_paid_on_day_61_or_later=f.percent_in_band("61+"),
        ),
        sums_payable=f.sums_payable,
        percent_not_paid_in_period=f.percent_unpaid,
        approval=NoticeApproval(),
    )


EXPORT_COLUMNS = PaymentsComplianceLine.__struct_fields__


def export_csv(conn: psycopg.Connection[Any], today: date) -> str:
    """Every reporting period's figures until today's, per commissioner with anything to report, as CSV."""
    by_commissioner: dict[UUID, list[InvoiceFacts]] = defaultdict(list)
    for invoice in invoice_facts(conn, Where()):
        by_commissioner[invoice.commissioner_id].append(invoice)
    names = _names(conn, by_commissioner)
    rows = []
    for period in reversed(compliance.periods_until(today)):
        for cid in sorted(by_commissioner, key=lambda c: (names.get(c) or "", str(c))):
            f = compliance.figures(by_commissioner[cid], period)
            if f.anything_to_report:
                line = _line(cid, names.get(cid), period, f)
                rows.append({c: getattr(line, c) for c in EXPORT_COLUMNS})
    return csv_text(list(EXPORT_COLUMNS), rows)
