"""What is owed and how promptly it is paid: aged payables (approved, unpaid invoices by age) as at any day, and
payments compliance per commissioner for a six-month reporting period, with a commissioner's notice (Procurement Act
2023 s.69, Procurement Regulations 2024 reg. 38)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import falcon

from api.operations import Operations
from api.web import format as fmt
from api.web import tables
from api.web.calls import PageCalls
from api.web.charts import bar_chart
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table
from ledger.payments import compliance
from ledger.roles import Role

BUCKETS = {"0-30": "Up to 30 days", "31-60": "31 to 60 days", "61-90": "61 to 90 days", "over 90": "Over 90 days"}


class AgedPayables:
    """GET /app/finance/aged-payables: approved invoices not yet paid, by age, as at a day (today unless given)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        suppliers = common.supplier_options(calls)
        commissioners = common.commissioner_options(calls)
        query = {
            "supplier_id": form.text(req, "supplier_id", dict(suppliers)),
            "commissioner_id": form.text(req, "commissioner_id", dict(commissioners)),
        }
        as_at = form.day(req, "as_at", "The date")
        query["as_of"] = as_at.isoformat() if as_at else None
        answer = common.ask(calls, form, "finance.aged_payables", query=query, fields={"as_of": ("as_at", "As at")})
        found = tables.offer(req, *payables_tables(answer)) if answer is not None else []
        if tables.respond(req, resp, found):
            return
        render(
            req,
            resp,
            "pages/finance/aged_payables.html",
            **form.page(),
            suppliers=suppliers,
            commissioners=commissioners,
            answer=answer,
            buckets=found[0] if found else None,
            items=found[1] if found else None,
            chart=bar_chart(list(BUCKETS.values()), {"Outstanding": [answer.buckets[b] for b in BUCKETS]})
            if answer is not None and answer.items
            else None,
        )


def payables_tables(answer: Any) -> list[Table]:
    buckets = Table(
        name="by-age",
        caption="Outstanding by age",
        columns=(Column("Age since submitted"), Column("Outstanding", numeric=True)),
        rows=[[tables.text(words), tables.money(answer.buckets[key])] for key, words in BUCKETS.items()],
        total=[tables.text("Total"), tables.money(sum(answer.buckets.values()))],
    )
    items = Table(
        name="aged-payables",
        caption="Approved invoices not yet paid",
        columns=(
            Column("Invoice"),
            Column("Supplier"),
            Column("Commissioner"),
            Column("Contract"),
            Column("Submitted"),
            Column("Age in days", numeric=True),
            Column("Outstanding", numeric=True),
        ),
        rows=[
            [
                tables.text(i.invoice_number, href=f"/app/invoices/{i.invoice_id}"),
                tables.text(i.supplier_name or str(i.supplier_id), title=str(i.supplier_id)),
                tables.text(i.commissioner_name or str(i.commissioner_id), title=str(i.commissioner_id)),
                tables.text(i.contract_title or str(i.contract_id), href=f"/app/contracts/{i.contract_id}/account"),
                tables.day(i.submitted_on),
                tables.number(i.age_days),
                tables.money(i.outstanding),
            ]
            for i in answer.items
        ],
    )
    return [buckets, items]


class PaymentsCompliance:
    """GET /app/finance/payments-compliance: each commissioner's payments compliance figures for a reporting period
    (the one today falls in unless chosen), and the notice of the commissioner chosen (a commissioner's own)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        periods = [(p.label, period_name(p)) for p in compliance.periods_until(common.today(self.operations))]
        commissioners = common.commissioner_options(calls)
        period = form.text(req, "period", dict(periods)) or (periods[0][0] if periods else None)
        form.values["period"] = period or ""
        commissioner = form.text(req, "commissioner_id", dict(commissioners))
        own = calls.actor.role == Role.COMMISSIONER  # the operations narrow a commissioner to their own notice
        query = {"period": period, "commissioner_id": commissioner}
        fields = {"period": ("period", "Reporting period"), "commissioner_id": ("commissioner_id", "Commissioner")}
        answer = common.ask(calls, form, "finance.payments_compliance", query=query, fields=fields)
        notice = (
            common.ask(calls, form, "finance.payments_compliance_notice", query=query, fields=fields)
            if answer is not None and (commissioner or own)
            else None
        )
        found = (
            tables.offer(req, compliance_table(answer), *([notice_table(notice)] if notice else [])) if answer else []
        )
        if tables.respond(req, resp, found):
            return
        render(
            req,
            resp,
            "pages/finance/payments_compliance.html",
            **form.page(),
            periods=periods,
            commissioners=commissioners,
            answer=answer,
            notice=notice,
            table=found[0] if found else None,
            notice_rows=found[1] if len(found) > 1 else None,
        )


def period_name(period: compliance.ReportingPeriod) -> str:
    """A reporting period as words: "1 April 2026 to 30 September 2026"."""
    return f"{fmt.gov_date(period.first_day)} to {fmt.gov_date(period.last_day)}"


def _percent(value: Decimal | None) -> tables.Cell:
    """A percentage (87.5) as the page shows it (87.5%) and the CSV holds it (87.5)."""
    return tables.percent(None if value is None else value / 100)


def _days(value: Decimal | None) -> tables.Cell:
    return tables.Cell("" if value is None else f"{value}", "" if value is None else str(value), numeric=True)


def compliance_table(answer: Any) -> Table:
    return Table(
        name="payments-compliance",
        caption="Invoices paid and sums payable in the period, by commissioner",
        columns=(
            Column("Commissioner"),
            Column("Invoices paid", numeric=True),
            Column("Mean days to pay", numeric=True),
            Column("Paid in days 1 to 30", numeric=True),
            Column("Paid in days 31 to 60", numeric=True),
            Column("Paid on day 61 or later", numeric=True),
            Column("Value of sums payable", numeric=True),
            Column("Sums payable not paid in the period", numeric=True),
        ),
        rows=[
            [
                tables.text(p.commissioner_name or str(p.commissioner_id), title=str(p.commissioner_id)),
                tables.number(p.invoices_paid),
                _days(p.mean_days_to_pay),
                _percent(p.percent_paid_in_days_1_to_30),
                _percent(p.percent_paid_in_days_31_to_60),
                _percent(p.percent_paid_on_day_61_or_later),
                tables.money(p.sums_payable_value),
                _percent(p.percent_not_paid_in_period),
            ]
            for p in answer.lines
        ],
    )


def notice_table(notice: Any) -> Table:
    """The notice's content (reg. 38(2)) as rows of what it states."""
    authority = notice.contracting_authority
    approval = notice.approval
    rows = [
        ("Contracting authority", tables.text(authority.name, title=str(authority.id))),
        ("First day of the reporting period", tables.day(notice.first_day)),
        ("Last day of the reporting period", tables.day(notice.last_day)),
        ("Invoices paid in the period", tables.number(notice.payments.invoices_paid)),
        ("Mean days to pay", _days(notice.payments.mean_days_to_pay)),
        ("Paid in days 1 to 30", _percent(notice.payments.percent_paid_in_days_1_to_30)),
        ("Paid in days 31 to 60", _percent(notice.payments.percent_paid_in_days_31_to_60)),
        ("Paid on day 61 or later", _percent(notice.payments.percent_paid_on_day_61_or_later)),
        ("Sums payable in the period not paid in it", _percent(notice.percent_not_paid_in_period)),
        ("Approved by", tables.text(approval.name or "Not yet approved")),
        ("Publish by", tables.day(notice.publish_by)),
    ]
    return Table(
        name="notice",
        caption=f"Payments compliance notice: {authority.name}",
        columns=(Column("What the notice states"), Column("Value")),
        rows=[[tables.text(what), cell] for what, cell in rows],
    )
