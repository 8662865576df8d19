"""Invoices: the list with where each stands, its match flags, disputes and age; one invoice's three-way match line
by line (invoice line, the charges it names, the decision on it and the payments), and for finance officers the
decisions themselves: approve or dispute a line, issue a credit note, record a payment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import falcon

from api.operations import Operations
from api.web import format as fmt
from api.web import tables
from api.web.calls import FieldProblem, PageCalls, Refused
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table

STATUSES = {
    "submitted": "Submitted",
    "approved": "Approved",
    "part_paid": "Part paid",
    "paid": "Paid",
    "disputed": "Disputed",
}
MATCHES = {"true": "With a flagged line", "false": "Every line matched"}
DECISIONS = {"approved": "Approved", "disputed": "Disputed", "credit_note": "Credit note"}
DONE = {  # what a decision's redirect says it did
    "approved": "The line was approved",
    "disputed": "The line was disputed",
    "credited": "The credit note was issued",
    "paid": "The payment was recorded",
}


class Invoices:
    """GET /app/invoices: invoices, the latest first, filtered by supplier, commissioner, standing and match."""

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
            "status": form.text(req, "status", STATUSES),
            "flagged": form.text(req, "flagged", MATCHES),
        }
        answer = common.ask(calls, form, "accounts.list_invoices", query=query)
        table = tables.offer(req, invoices_table(answer.items if answer is not None else []))[0]
        if tables.respond(req, resp, [table]):
            return
        render(
            req,
            resp,
            "pages/finance/invoices.html",
            **form.page(),
            suppliers=suppliers,
            commissioners=commissioners,
            statuses=list(STATUSES.items()),
            matches=list(MATCHES.items()),
            table=table,
            capped=answer is not None and len(answer.items) >= 500,
        )


def invoices_table(items: list[Any]) -> Table:
    return Table(
        name="invoices",
        caption="Invoices",
        columns=(
            Column("Invoice"),
            Column("Supplier"),
            Column("Contract"),
            Column("Submitted"),
            Column("Claimed", numeric=True),
            Column("Status"),
            Column("Match"),
            Column("Disputed lines", numeric=True),
            Column("Age in days", numeric=True),
        ),
        rows=[
            [
                tables.text(i.invoice_number, href=f"/app/invoices/{i.invoice_id}"),
                tables.text(i.supplier_name or str(i.supplier_id), title=str(i.supplier_id)),
                tables.text(i.contract_title or str(i.contract_id), href=f"/app/contracts/{i.contract_id}/account"),
                tables.day(_submitted(i).date()),
                tables.money(i.claimed),
                tables.tag(i.status, STATUSES[i.status]),
                match_cell(i.unmatched_lines, i.over_claimed_lines),
                tables.number(i.disputed_lines),
                tables.number(i.age_days),
            ]
            for i in items
        ],
    )


def _submitted(invoice: Any) -> datetime:
    return datetime.fromisoformat(invoice.submitted_at)


def match_cell(unmatched: int, over_claimed: int) -> tables.Cell:
    """The three-way match's flags, as a tag: red when a line is unmatched or over-claimed."""
    flags = [f"{n} {what}" for n, what in ((unmatched, "unmatched"), (over_claimed, "over-claimed")) if n]
    if not flags:
        return tables.tag("matched", "Matched")
    return tables.tag("unmatched" if unmatched else "over_claimed", ", ".join(flags).capitalize())


# -- one invoice ---------------------------------------------------------------------------------------------------


def line_decisions(invoice: Any) -> dict[int, str]:
    """Each line's decision (approved or disputed) as the invoice records it; a line with none awaits one."""
    decided = {d.line: str(d.kind) for d in invoice.decisions if d.kind in ("approved", "disputed")}
    return {line["line"]: decided.get(line["line"], "awaiting") for line in invoice.lines}


def match_table(invoice: Any) -> Table:
    decided = line_decisions(invoice)
    return Table(
        name="match",
        caption="Three-way match: each line, the charges it names and the decision on it",
        columns=(
            Column("Line", numeric=True),
            Column("Description"),
            Column("Claimed", numeric=True),
            Column("Charges named", numeric=True),
            Column("Charged", numeric=True),
            Column("Match"),
            Column("Why"),
            Column("Decision"),
        ),
        rows=[
            [
                tables.number(line["line"]),
                tables.text(line["description"]),
                tables.money(line["claimed"]),
                tables.number(len(line["charge_ids"])),
                tables.money(line["charged"]),
                tables.tag(line["flag"].replace("-", "_"), line["flag"].capitalize())
                if line["flag"]
                else tables.tag("matched", "Matched"),
                tables.text(line.get("detail") or ""),
                tables.tag(decided[line["line"]], "Awaiting a decision")
                if decided[line["line"]] == "awaiting"
                else tables.tag(decided[line["line"]]),
            ]
            for line in invoice.lines
        ],
        total=[
            tables.text("Total"),
            tables.text(""),
            tables.money(invoice.claimed),
            tables.number(sum(len(line["charge_ids"]) for line in invoice.lines)),
            tables.money(sum(Decimal(str(line["charged"])) for line in invoice.lines)),
            tables.text(""),
            tables.text(""),
            tables.text(""),
        ],
    )


def charges_table(invoice: Any) -> Table:
    line_of = {charge_id: line["line"] for line in invoice.lines for charge_id in line["charge_ids"]}
    return Table(
        name="charges",
        caption="Charges the lines name",
        columns=(
            Column("Earned on"),
            Column("For"),
            Column("Basis"),
            Column("Line", numeric=True),
            Column("Amount", numeric=True),
            Column("Status"),
        ),
        rows=[
            [
                tables.day(c.earned_on),
                tables.text(fmt.humanise(c.clause), title=str(c.charge_id)),
                tables.text(common.basis(c.basis)),
                tables.number(line_of.get(str(c.charge_id))),
                tables.money(c.amount),
                tables.tag("reversed", "Reversed")
                if c.reversed
                else tables.tag("approved", "Approved")
                if c.invoice_id == invoice.invoice_id
                else tables.tag("pending", "Not yet approved"),
            ]
            for c in invoice.charges
        ],
    )


def decisions_table(invoice: Any) -> Table:
    return Table(
        name="decisions",
        caption="Decisions: approvals, disputes and credit notes",
        columns=(
            Column("Line", numeric=True),
            Column("Decision"),
            Column("Amount", numeric=True),
            Column("Reason"),
            Column("By"),
            Column("When"),
        ),
        rows=[
            [
                tables.number(d.line),
                tables.tag(str(d.kind), DECISIONS[str(d.kind)]),
                tables.money(d.amount),
                tables.text(d.reason or ""),
                tables.text(d.decided_by),
                tables.moment(d.recorded_at),
            ]
            for d in invoice.decisions
        ],
    )


def payments_table(invoice: Any) -> Table:
    return Table(
        name="payments",
        caption="Payments",
        columns=(Column("Paid on"), Column("Amount", numeric=True), Column("Remittance"), Column("Status")),
        rows=[
            [
                tables.day(p.paid_on),
                tables.money(p.amount),
                tables.text(p.remittance),
                tables.tag("reversed", f"Reversed: {p.reversal_reason}") if p.reversed else tables.tag("paid"),
            ]
            for p in invoice.payments
        ],
    )


class Invoice:
    """GET /app/invoices/{invoice_id}: one invoice's three-way match, decisions and payments."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, invoice_id: str) -> None:
        calls = PageCalls(self.operations, req)
        show_invoice(req, resp, calls, invoice_id, done=DONE.get(req.get_param("done") or ""))


def show_invoice(
    req: falcon.Request,
    resp: falcon.Response,
    calls: PageCalls,
    invoice_id: str,
    *,
    errors: list[FieldProblem] | None = None,
    values: dict[str, Any] | None = None,
    done: str | None = None,
) -> None:
    """The invoice page: as it stands, or again with a refused form's problems and what was typed in it."""
    invoice = calls.query(
        "accounts.get_invoice", path={"invoice_id": invoice_id}, query={"min_position": req.get_param("min_position")}
    )
    found = tables.offer(
        req,
        match_table(invoice),
        charges_table(invoice),
        decisions_table(invoice),
        payments_table(invoice),
        path=f"/app/invoices/{invoice_id}",
    )
    if tables.respond(req, resp, found):
        return
    decided = line_decisions(invoice)
    outstanding = invoice.approved - invoice.credited - invoice.paid
    render(
        req,
        resp,
        "pages/finance/invoice.html",
        status=422 if errors else 200,
        invoice=invoice,
        submitted=_submitted(invoice),
        status_name=STATUSES[invoice.status],
        match=match_cell(invoice.unmatched_lines, invoice.over_claimed_lines),
        outstanding=outstanding,
        match_table=found[0],
        charges=found[1],
        decisions=found[2],
        payments=found[3],
        done=done,
        errors=errors or [],
        error_summary=errors or None,
        form={**{name: "" for d in (DECIDE, CREDIT, PAY) for name in d.fields}, **(values or {})},
        awaiting=[(str(n), f"Line {n}") for n, d in decided.items() if d == "awaiting"],
        approved=[(str(n), f"Line {n}") for n, d in decided.items() if d == "approved"],
        may_decide=calls.allowed("accounts.approve_invoice_line"),
        may_credit=calls.allowed("accounts.issue_credit_note"),
        may_pay=calls.allowed("accounts.make_payment") and outstanding > 0,
        idempotency_key=str(uuid4()),
    )


# -- finance's decisions (the operations judge each; a role that may not take them is not offered them) ----------


@dataclass(frozen=True)
class Decision:
    """A form on the invoice page and the command it runs: its fields (shown again when refused), how it reads them
    (the operation's name and body, or the problems with what was typed), the form field each of the body's fields
    is typed in, kinder words for what the ledger may refuse in them, and what a redirect says it did."""

    fields: tuple[str, ...]
    read: Callable[[dict[str, str], list[FieldProblem]], tuple[str, dict[str, Any], str] | None]
    to_fields: dict[str, str]
    messages: dict[str, str]


def _line(form: dict[str, str], field: str, problems: list[FieldProblem]) -> int | None:
    raw = form.get(field, "")
    if raw.isascii() and raw.isdigit():
        return int(raw)
    problems.append(FieldProblem(field, "Select a line"))
    return None


def _amount(raw: str) -> str:
    """Money as typed ("£1,250.00") as the ledger takes it ("1250.00"); the ledger judges what is left."""
    return raw.strip().removeprefix("£").replace(",", "").strip()


def _decide(form: dict[str, str], problems: list[FieldProblem]) -> tuple[str, dict[str, Any], str] | None:
    line = _line(form, "line", problems)
    decision = form.get("decision")
    if decision not in ("approve", "dispute"):
        problems.append(FieldProblem("decision", "Select whether to approve or dispute the line"))
    if problems:
        return None
    reason = form.get("reason", "").strip()
    if decision == "approve":
        return "accounts.approve_invoice_line", {"line": line}, "approved"
    return "accounts.dispute_invoice_line", {"line": line, **({"reason": reason} if reason else {})}, "disputed"


def _credit(form: dict[str, str], problems: list[FieldProblem]) -> tuple[str, dict[str, Any], str] | None:
    line = _line(form, "credit_line", problems)
    if problems:
        return None
    body = {"line": line, "amount": _amount(form.get("credit_amount", "")), "reason": form.get("credit_reason", "")}
    return "accounts.issue_credit_note", body, "credited"


def _pay(form: dict[str, str], problems: list[FieldProblem]) -> tuple[str, dict[str, Any], str] | None:
    parts = {part: form.get(f"paid_on-{part}", "").strip() for part in ("day", "month", "year")}
    if not any(parts.values()):
        problems.append(FieldProblem("paid_on", "Enter the date paid"))
        return None
    try:
        paid_on = datetime(int(parts["year"]), int(parts["month"]), int(parts["day"])).date().isoformat()
    except ValueError:
        problems.append(FieldProblem("paid_on", "Date paid must be a real date"))
        return None
    body = {
        "amount": _amount(form.get("amount", "")),
        "paid_on": paid_on,
        "remittance_reference": form.get("remittance_reference", "").strip(),
    }
    return "accounts.make_payment", body, "paid"


DECIDE = Decision(
    ("line", "decision", "reason"),
    _decide,
    {"line": "line", "reason": "reason"},
    {"reason": "Enter why you dispute the line"},
)
CREDIT = Decision(
    ("credit_line", "credit_amount", "credit_reason"),
    _credit,
    {"line": "credit_line", "amount": "credit_amount", "reason": "credit_reason"},
    {
        "credit_amount": "Enter the amount to credit in pounds and pence, for example 50.00",
        "credit_reason": "Enter why the credit note is issued",
    },
)
PAY = Decision(
    ("amount", "paid_on-day", "paid_on-month", "paid_on-year", "remittance_reference"),
    _pay,
    {"amount": "amount", "paid_on": "paid_on", "remittance_reference": "remittance_reference"},
    {
        "amount": "Enter the amount paid in pounds and pence, for example 250.00",
        "remittance_reference": "Enter the remittance reference, in 60 characters or fewer",
    },
)


class InvoiceDecision:
    """POST /app/invoices/{invoice_id}/{decision}: run the decision's command as the signed-in person; refused, the
    invoice page again with the problems (nothing written); done, back to the invoice, read after the write."""

    def __init__(self, operations: Operations, decision: Decision) -> None:
        self.operations = operations
        self.decision = decision

    def on_post(self, req: falcon.Request, resp: falcon.Response, invoice_id: str) -> None:
        calls = PageCalls(self.operations, req)
        invoice = calls.query("accounts.get_invoice", path={"invoice_id": invoice_id})
        form = {k: str(v) for k, v in req.context.form.items() if isinstance(v, str)}
        values = {name: form.get(name, "") for name in self.decision.fields}
        problems: list[FieldProblem] = []
        command = self.decision.read(form, problems)
        if command is not None:
            name, body, done = command
            try:
                answer = calls.command(
                    name,
                    body,
                    path={"contract_id": invoice.contract_id, "invoice_id": invoice_id},
                    fields=self.decision.to_fields,
                    idempotency_key=form.get("idempotency_key") if name == "accounts.make_payment" else None,
                )
            except Refused as refused:
                problems = [
                    FieldProblem(p.field, self.decision.messages.get(p.field or "", _sentence(p.message)))
                    for p in refused.problems
                ]
            else:
                raise falcon.HTTPSeeOther(f"/app/invoices/{invoice_id}?done={done}&min_position={answer.position}")
        show_invoice(req, resp, calls, invoice_id, errors=problems, values=values)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]
