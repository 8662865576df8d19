"""A contract's account: what it was charged (and why), refused by its cap, invoiced and paid, and the balance of each
of its ledger accounts, now or as at any date on either clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon

from api.operations import Operations
from api.web import format as fmt
from api.web import tables
from api.web.calls import PageCalls
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table

# The contract's ledger accounts by their kind (the part of the name before the colon), in words.
ACCOUNTS = {
    "commitment": "Committed against budget lines",
    "budget": "Budget line",
    "spend": "Spend: charged to the contract",
    "accrued": "Accrued: earned, not yet approved",
    "payable": "Payable: approved, not yet paid",
    "cash": "Cash: paid",
}
FIELDS = {"as_effective": ("as_at", "As at"), "as_recorded": ("as_at", "As at")}


class ContractAccount:
    """GET /app/contracts/{contract_id}/account: the account now, or as at the end of a day."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, contract_id: str) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        as_at = form.day(req, "as_at", "The date")
        axis = form.text(req, "axis", dict(common.CLOCKS)) or "effective"
        form.values["axis"] = axis
        horizon = {f"as_{axis}": as_at.isoformat()} if as_at else {}
        account = common.ask(
            calls, form, "accounts.get", path={"contract_id": contract_id}, query=horizon, fields=FIELDS
        )
        found = tables.offer(req, *account_tables(account, _line_names(calls, account))) if account is not None else []
        if tables.respond(req, resp, found):
            return
        render(
            req,
            resp,
            "pages/finance/account.html",
            **form.page(),
            contract_id=contract_id,
            account=account,
            clocks=common.CLOCKS,
            as_at=as_at,
            axis=axis,
            tables=dict(zip(("balances", "charges", "invoices", "refused", "unfunded"), found, strict=True))
            if found
            else {},
        )


def _line_names(calls: PageCalls, account: Any) -> dict[str, str]:
    """The budget lines the contract is committed against, by their ledger account's name ("budget:<line id>")."""
    if not calls.allowed("finance.list_budget_lines"):
        return {}
    lines = calls.query("finance.list_budget_lines", query={"commissioner_id": account.commissioner_id}).items
    return {f"budget:{b.line_id}": f"Budget line: {b.name}, {common.year_name(b.financial_year)}" for b in lines}


def account_tables(account: Any, line_names: dict[str, str]) -> list[Table]:
    return [
        balances_table(account, line_names),
        charges_table(account),
        invoices_table(account),
        refused_table(account),
        unfunded_table(account),
    ]


def balances_table(account: Any, line_names: dict[str, str]) -> Table:
    return Table(
        name="balances",
        caption="Balances of the contract's ledger accounts",
        columns=(Column("Account"), Column("Balance", numeric=True)),
        rows=[
            [
                tables.text(line_names.get(name) or ACCOUNTS.get(name.split(":")[0], name), title=name),
                tables.money(balance),
            ]
            for name, balance in sorted(account.balances.items(), key=lambda item: (_order(item[0]), item[0]))
        ],
        total=[tables.text("Total (every movement balances)"), tables.money(sum(account.balances.values()))],
    )


def _order(name: str) -> int:
    kinds = list(ACCOUNTS)
    kind = name.split(":")[0]
    return kinds.index(kind) if kind in kinds else len(kinds)


def charges_table(account: Any) -> Table:
    return Table(
        name="charges",
        caption="Charges",
        columns=(
            Column("Earned on"),
            Column("For"),
            Column("Basis"),
            Column("Amount", numeric=True),
            Column("Status"),
        ),
        rows=[
            [
                tables.day(c.earned_on),
                tables.text(fmt.humanise(c.clause), title=str(c.charge_id)),
                tables.text(common.basis(c.basis)),
                tables.money(c.amount),
                _charge_status(c),
            ]
            for c in account.charges
        ],
        total=[
            tables.text("Total charged (less reversals)"),
            tables.text(""),
            tables.text(""),
            tables.money(account.charged),
            tables.text(""),
        ],
    )


def _charge_status(charge: Any) -> tables.Cell:
    if charge.reversed:
        return tables.tag("reversed", f"Reversed: {charge.reversal_reason}")
    if charge.invoice_id is not None:
        cell = tables.tag("approved", "Invoiced and approved")
        return tables.Cell(cell.text, cell.value, tag=cell.tag, href=f"/app/invoices/{charge.invoice_id}")
    return tables.tag("pending", "Not yet invoiced")


def invoices_table(account: Any) -> Table:
    return Table(
        name="invoices",
        caption="Invoices",
        columns=(
            Column("Invoice"),
            Column("Submitted"),
            *(Column(c, numeric=True) for c in ("Claimed", "Approved", "Credited", "Paid", "Flagged lines")),
            Column("Disputed lines", numeric=True),
        ),
        rows=[
            [
                tables.text(i["invoice_number"], href=f"/app/invoices/{i['invoice_id']}"),
                tables.day(datetime.fromisoformat(i["submitted_at"]).date()),
                *(tables.money(i[k]) for k in ("claimed", "approved", "credited", "paid")),
                tables.number(i["flagged_lines"]),
                tables.number(i["disputed_lines"]),
            ]
            for i in account.invoices
        ],
    )


def refused_table(account: Any) -> Table:
    return Table(
        name="refused-charges",
        caption="Charges refused by the contract's cap",
        columns=(
            Column("Recorded"),
            Column("For"),
            Column("Basis"),
            Column("Amount", numeric=True),
            Column("Cap", numeric=True),
            Column("Already charged", numeric=True),
        ),
        rows=[
            [
                tables.moment(r.recorded_at),
                tables.text(fmt.humanise(r.clause)),
                tables.text(common.basis(r.basis)),
                tables.money(r.amount),
                tables.money(r.cap),
                tables.money(r.charged),
            ]
            for r in account.refused_charges
        ],
    )


def unfunded_table(account: Any) -> Table:
    return Table(
        name="unfunded",
        caption="Years of the contract with no budget line to commit against",
        columns=(Column("Financial year"), Column("Value not committed", numeric=True)),
        rows=[[tables.Cell(common.year_name(year), year), tables.money(amount)] for year, amount in account.unfunded],
    )
