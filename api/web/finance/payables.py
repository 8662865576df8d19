"""What is owed and how promptly it is paid: aged payables (approved, unpaid invoices by age) as at any day, and the
share of valid invoices paid within 30 days per commissioner over a period (Procurement Act 2023 s.69)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import falcon

from api.operations import Operations
from api.web import tables
from api.web.calls import PageCalls
from api.web.charts import bar_chart
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table

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
            status=422 if form.errors else 200,
            form=form.values,
            errors=form.errors,
            error_summary=form.errors or None,
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


class PromptPayment:
    """GET /app/finance/prompt-payment: per commissioner, valid invoices received in a period and the share paid
    within 30 days (the last six months unless a period is given)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        today = common.today(self.operations)
        start = form.day(req, "from", "The start date") or _months_before(today, 6)
        end = form.day(req, "to", "The end date") or today
        for name, value in (("from", start), ("to", end)):
            if not any(form.values[name].values()):
                form.values[name] = {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        answer = common.ask(
            calls,
            form,
            "finance.prompt_payment",
            query={"from": start.isoformat(), "to": end.isoformat()},
            fields={"from": ("from", "From"), "to": ("to", "To")},
            messages={"to": "The end date must be the same as or after the start date"},
        )
        found = tables.offer(req, prompt_table(answer)) if answer is not None else []
        if tables.respond(req, resp, found):
            return
        render(
            req,
            resp,
            "pages/finance/prompt_payment.html",
            status=422 if form.errors else 200,
            form=form.values,
            errors=form.errors,
            error_summary=form.errors or None,
            start=start,
            end=end,
            table=found[0] if found else None,
        )


def _months_before(day: date, months: int) -> date:
    """The first day of the month `months` before `day`'s."""
    first = day.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def prompt_table(answer: Any) -> Table:
    return Table(
        name="prompt-payment",
        caption="Valid invoices paid within 30 days, by commissioner",
        columns=(
            Column("Commissioner"),
            Column("Valid invoices", numeric=True),
            Column("Paid within 30 days", numeric=True),
            Column("Share paid within 30 days", numeric=True),
        ),
        rows=[
            [
                tables.text(p.commissioner_name or str(p.commissioner_id), title=str(p.commissioner_id)),
                tables.number(p.valid_invoices),
                tables.number(p.paid_within_30_days),
                tables.percent(p.share),
            ]
            for p in answer.lines
        ],
    )
