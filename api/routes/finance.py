"""Finance: budget lines, their overruns and burn, spend by any cut, aged payables, payments compliance per reporting
period and a commissioner's notice, and the CSV exports of every finance table. Its cut is every finance list's."""

from __future__ import annotations

from uuid import UUID

from api.errors import invalid
from api.openapi import Param
from api.routes.common import day
from api.specs import Command, Query, QueryContext, Route, route
from ledger.payments import budgets, compliance
from projections.payments import compliance as compliance_view
from projections.payments import exports, models, queries

TAGS = ("finance",)
VIEWS = ("payments", "catalogue")  # the catalogue names what the payments view holds by id
CUT = (
    Param("supplier_id", "query", {"type": "string", "format": "uuid"}, "Supplier"),
    Param("contract_id", "query", {"type": "string", "format": "uuid"}, "Contract"),
    Param("commissioner_id", "query", {"type": "string", "format": "uuid"}, "Commissioner"),
    Param("region", "query", {"type": "string"}, "Probation region area code"),
    Param("category", "query", {"type": "string"}, "Service category"),
    Param("financial_year", "query", {"type": "string"}, 'e.g. "2026-27"'),
)
AS_OF = day("as_of", "Answer as at the end of this day")
PERIOD = Param(
    "period",
    "query",
    {"type": "string", "pattern": r"^[0-9]{4}-H[12]$"},
    'Reporting period: "2026-H1" is 1 April to 30 September 2026, "2026-H2" 1 October 2026 to 31 March 2027',
    True,
)
AXIS = Param("axis", "query", {"type": "string", "enum": ["effective", "recorded"]}, "Which clock as_of reads")


def cut(q: QueryContext) -> models.FinanceCut:
    """The part of the money asked for, narrowed to the caller's scope."""
    return models.FinanceCut(
        supplier_id=q.scoped_uuid("supplier_id"),
        contract_id=q.uuid_param("contract_id"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        region=q.param("region"),
        category=q.param("category"),
        financial_year=q.param("financial_year"),
    )


def _spend(q: QueryContext) -> models.Spend:
    group_by = q.param("group_by")
    group_by = "contract" if group_by is None else group_by  # given but empty is refused, not the default
    if group_by not in queries.GROUPS:
        raise invalid([("group_by", f"one of {', '.join(queries.GROUPS)}")])
    axis = q.param("axis")
    axis = "effective" if axis is None else axis
    if axis not in ("effective", "recorded"):
        raise invalid([("axis", "effective or recorded")])
    return queries.spend(q.conn, cut(q), group_by, as_of=q.day("as_of"), axis=axis)


def _period(q: QueryContext) -> compliance.ReportingPeriod:
    label = q.param("period")
    if label is None:
        raise invalid([("period", 'required: a reporting period, e.g. "2026-H1"')])
    try:
        return compliance.reporting_period(label)
    except ValueError as exc:
        raise invalid([("period", str(exc))]) from None


def _compliance(q: QueryContext) -> models.PaymentsCompliance:
    period = _period(q)
    return compliance_view.payments_compliance(q.conn, period, commissioner_id=q.scoped_uuid("commissioner_id"))


def _notice(q: QueryContext) -> models.PaymentsComplianceNotice | None:
    """A commissioner's notice (a commissioner's own, whichever they name); one the catalogue does not know is not
    found."""
    period, commissioner_id = _period(q), q.scoped_uuid("commissioner_id")
    if commissioner_id is None:
        raise invalid([("commissioner_id", "required: the contracting authority whose notice this is")])
    return compliance_view.notice(q.conn, period, commissioner_id)


def _budgets(q: QueryContext) -> models.BudgetList:
    return queries.list_budget_lines(
        q.conn, commissioner_id=q.scoped_uuid("commissioner_id"), financial_year=q.param("financial_year")
    )


def _burn(q: QueryContext, line_id: UUID) -> models.BudgetBurn | None:
    """A budget line's burn; another commissioner's line is not found."""
    return queries.budget_burn(q.conn, line_id, commissioner_id=q.forced.get("commissioner_id"))


def _export(q: QueryContext, table: str) -> str | None:
    return exports.export_csv(q.conn, table, q.ledger.now().date())


def routes() -> list[Route]:
    return [*_budgets_routes(), *_views()]


def _budgets_routes() -> list[Route]:
    return [
        route(
            "/budgets",
            post=Command(
                "finance.set_budget_line",
                "Set a budget line for a commissioner and financial year",
                budgets.set_budget_line,
                budgets.SetBudgetLine,
                status=201,
                tags=TAGS,
            ),
            get=Query(
                "finance.list_budget_lines",
                "Budget lines: amount, overrun, committed, available; charged, invoiced and paid by their contracts",
                _budgets,
                models.BudgetList,
                views=VIEWS,
                params=(CUT[2], CUT[5]),
                tags=TAGS,
            ),
        ),
        route(
            "/budgets/{line_id}/burn",
            get=Query(
                "finance.budget_burn",
                "A budget line's year month by month: charged, invoiced and paid by its contracts, and running totals",
                _burn,
                models.BudgetBurn,
                views=VIEWS,
                tags=TAGS,
            ),
        ),
        route(
            "/budgets/{line_id}/overruns",
            post=Command(
                "finance.approve_overrun",
                "Approve an overrun of a budget line, with a reason",
                budgets.approve_overrun,
                budgets.ApproveOverrun,
                tags=TAGS,
            ),
        ),
    ]


def _views() -> list[Route]:
    return [
        route(
            "/finance/spend",
            get=Query(
                "finance.spend",
                "Committed, charged, invoiced, paid and remaining, grouped by supplier, contract, commissioner,"
                " region, category, financial year or month",
                _spend,
                models.Spend,
                views=VIEWS,
                params=(
                    *CUT,
                    Param("group_by", "query", {"type": "string", "enum": list(queries.GROUPS)}, "Grouping (contract)"),
                    AS_OF,
                    AXIS,
                ),
                tags=TAGS,
            ),
        ),
        route(
            "/finance/aged-payables",
            get=Query(
                "finance.aged_payables",
                "Approved, unpaid invoices by age",
                lambda q: queries.aged_payables(q.conn, cut(q), q.day("as_of") or q.ledger.now().date()),
                models.AgedPayables,
                views=VIEWS,
                params=(*CUT[:3], AS_OF),
                tags=TAGS,
            ),
        ),
        route(
            "/finance/payments-compliance",
            get=Query(
                "finance.payments_compliance",
                "Payments compliance per commissioner for a six-month reporting period: mean days to pay, the"
                " share of invoices paid in days 1-30, 31-60 and 61 or later, and of sums payable in the period not"
                " paid in it (Procurement Act 2023 s.69, Procurement Regulations 2024 reg. 38)",
                _compliance,
                models.PaymentsCompliance,
                views=VIEWS,
                params=(PERIOD, CUT[2]),
                tags=TAGS,
            ),
        ),
        route(
            "/finance/payments-compliance/notice",
            get=Query(
                "finance.payments_compliance_notice",
                "A commissioner's payments compliance notice (UK17) for a reporting period, for its finance director"
                " to approve and publish",
                _notice,
                models.PaymentsComplianceNotice,
                views=VIEWS,
                params=(
                    PERIOD,
                    Param("commissioner_id", "query", {"type": "string", "format": "uuid"}, "Commissioner", True),
                ),
                tags=TAGS,
            ),
        ),
        route(
            "/finance/export/{table}",
            get=Query(
                "finance.export",
                "CSV export: postings, charges, refused-charges, invoices, payments, budget-lines or"
                " payments-compliance (every reporting period's figures per commissioner)",
                _export,
                {"type": "string"},
                views=VIEWS,
                content_type="text/csv",
                tags=TAGS,
            ),
        ),
    ]
