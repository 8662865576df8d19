"""Who may do what: the role matrix and organisation scoping for every operation, in one place.

Closed by default: an operation without a rule here is refused (403) for everyone, and the matrix test
fails. Roles that are not scoped to an organisation (Authority, finance, audit, FOI, administrators)
see across the framework; suppliers, commissioners and practitioners see only their own. A single
resource outside the caller's scope is answered 404, so its existence does not leak; lists are
filtered to the caller's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.errors import ProblemError
from ledger.envelope import Actor
from ledger.errors import NotFound
from ledger.framework.commissioners import commissioner_id_for
from ledger.roles import Role
from ledger.store import Ledger
from projections.caseload.models import CaseloadList

PERSONAL_DATA = "personal_data"  # the privilege an auditor needs to read people's personal data

R = Role
EVERYONE = frozenset(Role)
GLOBAL_READ = frozenset({R.AUTHORITY, R.AUDITOR, R.FOI_OFFICER, R.ADMINISTRATOR, R.FINANCE_OFFICER})
SUPPLIER_ROLES = frozenset({R.SUPPLIER_BID_MANAGER, R.PROVIDER_CASEWORKER})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    scope: str = "none"  # which resource the path (or body) names; see SCOPES
    personal_data: bool = False  # reads are logged with their purpose; auditors need the privilege


def rule(*roles: Role | frozenset[Role], scope: str = "none", personal_data: bool = False) -> Rule:
    flat: set[Role] = set()
    for r in roles:
        flat |= set(r) if isinstance(r, frozenset) else {r}
    return Rule(frozenset(flat), scope, personal_data)


# -- the matrix ------------------------------------------------------------------------------------

_SUPPLIER_SELF = (R.SUPPLIER_BID_MANAGER,)
_CO = "/call-offs/{call_off_id}"
_REF = "/referrals/{referral_id}"
_K = "/contracts/{contract_id}"
_INV = "/contracts/{contract_id}/invoices/{invoice_id}"
_FOI = "/foi/requests/{request_id}"
_QUESTIONNAIRE = ("GET", "/suppliers/{supplier_id}/questionnaires/{questionnaire_id}")

RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/suppliers"): rule(R.AUTHORITY, R.ADMINISTRATOR, R.SUPPLIER_BID_MANAGER),
    ("GET", "/suppliers"): rule(EVERYONE),
    ("GET", "/suppliers/{supplier_id}"): rule(EVERYONE),
    ("PATCH", "/suppliers/{supplier_id}"): rule(R.AUTHORITY, R.ADMINISTRATOR, *_SUPPLIER_SELF, scope="supplier"),
    ("POST", "/suppliers/{supplier_id}/questionnaires"): rule(*_SUPPLIER_SELF, scope="supplier"),
    ("POST", "/suppliers/{supplier_id}/questionnaires/{questionnaire_id}/assessments"): rule(R.AUTHORITY),
    # A supplier's questionnaires: the supplier itself, the Authority that assesses them, auditors.
    _QUESTIONNAIRE: rule(R.AUTHORITY, R.AUDITOR, *_SUPPLIER_SELF, scope="supplier"),
    ("GET", "/questionnaires"): rule(R.AUTHORITY, R.AUDITOR),
    ("POST", "/suppliers/{supplier_id}/terms-acceptances"): rule(*_SUPPLIER_SELF, scope="supplier"),
    ("POST", "/suppliers/{supplier_id}/lot-withdrawals"): rule(R.AUTHORITY, *_SUPPLIER_SELF, scope="supplier"),
    ("PUT", "/suppliers/{supplier_id}/declared-areas"): rule(*_SUPPLIER_SELF, scope="supplier"),
    ("POST", "/suppliers/{supplier_id}/suspensions"): rule(R.AUTHORITY),
    ("POST", "/suppliers/{supplier_id}/exclusions"): rule(R.AUTHORITY),
    ("POST", "/suppliers/{supplier_id}/reinstatements"): rule(R.AUTHORITY),
    ("POST", "/commissioners"): rule(R.AUTHORITY, R.ADMINISTRATOR),
    ("GET", "/commissioners"): rule(EVERYONE),
    ("GET", "/commissioners/{commissioner_id}"): rule(EVERYONE),
    ("POST", "/commissioners/{commissioner_id}/user-agreement"): rule(R.COMMISSIONER, scope="commissioner"),
    ("POST", "/call-offs"): rule(R.COMMISSIONER, scope="lead"),
    ("GET", "/call-offs"): rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ),
    ("GET", _CO): rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ, scope="call_off"),
    # Invitation is the domain's rule (409 "supplier not invited to this call-off"); the policy checks
    # that the body's supplier is the caller's own.
    ("POST", f"{_CO}/clarification-requests"): rule(R.SUPPLIER_BID_MANAGER),
    ("POST", f"{_CO}/tenders"): rule(R.SUPPLIER_BID_MANAGER),
    ("GET", f"{_CO}/tenders"): rule(R.COMMISSIONER, R.AUDITOR, R.FOI_OFFICER, scope="call_off"),
    **{
        ("POST", f"{_CO}/{step}"): rule(R.COMMISSIONER, scope="call_off")
        for step in (
            "publication",
            "clarifications",
            "tender-opening",
            "bafo",
            "scores",
            "moderations",
            "evaluation",
            "award",
            "cancellation",
            "contract",
        )
    },
    ("GET", "/contracts"): rule(EVERYONE),
    ("GET", _K): rule(EVERYONE, scope="contract"),
    ("POST", f"{_K}/variations"): rule(R.COMMISSIONER, scope="contract"),
    ("POST", f"{_K}/extensions"): rule(R.COMMISSIONER, scope="contract"),
    ("POST", f"{_K}/termination"): rule(R.COMMISSIONER, scope="contract"),
    ("GET", "/catalogue/eligibility"): rule(EVERYONE),
    ("GET", "/catalogue/contracts"): rule(EVERYONE),
    ("GET", "/catalogue/pipeline"): rule(R.COMMISSIONER, GLOBAL_READ),
    ("POST", "/referrals"): rule(R.PROBATION_PRACTITIONER),
    ("GET", "/referrals"): rule(R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, R.AUDITOR, personal_data=True),
    ("GET", _REF): rule(
        R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, R.AUDITOR, scope="referral", personal_data=True
    ),
    **{
        ("POST", f"{_REF}/{step}"): rule(R.PROVIDER_CASEWORKER, scope="referral")
        for step in (
            "acknowledgement",
            "caseworker",
            "appointments",
            "appointment-changes",
            "appointment-cancellations",
            "attendance",
            "attendance-corrections",
            "action-plan",
            "end-of-service-report",
        )
    },
    **{
        ("POST", f"{_REF}/{step}"): rule(R.PROBATION_PRACTITIONER, scope="referral")
        for step in ("action-plan-approval", "amendments", "notification-acknowledgements", "withdrawal")
    },
    ("POST", f"{_REF}/case-notes"): rule(R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, scope="referral"),
    ("POST", "/unpaid-work"): rule(R.PROBATION_PRACTITIONER),
    ("GET", "/unpaid-work"): rule(R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, R.AUDITOR, personal_data=True),
    ("GET", "/unpaid-work/{order_id}"): rule(R.PROVIDER_CASEWORKER, R.AUDITOR, scope="order", personal_data=True),
    **{
        ("POST", f"/unpaid-work/{{order_id}}/{step}"): rule(R.PROVIDER_CASEWORKER, scope="order")
        for step in ("induction", "sessions", "stand-downs")
    },
    ("POST", "/programmes"): rule(R.PROVIDER_CASEWORKER, scope="body_contract"),
    ("POST", "/programmes/{group_id}/participants"): rule(R.PROVIDER_CASEWORKER, scope="group"),
    **{
        ("POST", f"/programmes/{{group_id}}/{step}"): rule(R.PROVIDER_CASEWORKER, scope="group")
        for step in ("sessions", "attendance", "withdrawals")
    },
    ("GET", "/programmes/{group_id}"): rule(R.PROVIDER_CASEWORKER, R.AUDITOR, scope="group", personal_data=True),
    **{
        ("GET", path): rule(R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, R.AUDITOR, personal_data=True)
        for path in ("/caseload", *(f"/caseload/{name}" for name in CaseloadList))
    },
    ("GET", "/caseload/report.csv"): rule(
        R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER, R.AUDITOR, personal_data=True
    ),
    ("GET", f"{_K}/account"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER, SUPPLIER_ROLES, scope="contract"),
    ("POST", f"{_K}/price-schedules"): rule(R.FINANCE_OFFICER),
    ("POST", f"{_K}/period-closures"): rule(R.FINANCE_OFFICER),
    ("POST", f"{_K}/milestones"): rule(R.FINANCE_OFFICER, R.COMMISSIONER, scope="contract"),
    ("POST", f"{_K}/invoices"): rule(R.SUPPLIER_BID_MANAGER, scope="contract"),
    ("POST", f"{_K}/payment-reversals"): rule(R.FINANCE_OFFICER),
    **{
        ("POST", f"{_INV}/{step}"): rule(R.FINANCE_OFFICER)
        for step in ("approvals", "disputes", "credit-notes", "payments")
    },
    ("GET", "/invoices"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER, R.SUPPLIER_BID_MANAGER),
    # Scoped in the query itself (the caller's forced filters), after the read-your-writes wait.
    ("GET", "/invoices/{invoice_id}"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER, R.SUPPLIER_BID_MANAGER),
    ("GET", "/payments"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER, R.SUPPLIER_BID_MANAGER),
    ("POST", "/budgets"): rule(R.FINANCE_OFFICER),
    ("GET", "/budgets"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER),
    ("POST", "/budgets/{line_id}/overruns"): rule(R.FINANCE_OFFICER),
    ("GET", "/finance/spend"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER),
    ("GET", "/finance/aged-payables"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER),
    ("GET", "/finance/prompt-payment"): rule(R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER),
    ("GET", "/finance/export/{table}"): rule(R.FINANCE_OFFICER, R.AUDITOR),
    ("GET", "/audit/personal-data-reads"): rule(R.AUDITOR),
    ("GET", "/audit/events"): rule(R.AUDITOR, R.FOI_OFFICER),
    ("GET", "/audit/aggregates/{aggregate_id}"): rule(R.AUDITOR, R.FOI_OFFICER),
    ("GET", "/audit/aggregates/{aggregate_id}/events"): rule(R.AUDITOR, R.FOI_OFFICER),
    ("GET", "/audit/checkpoints"): rule(GLOBAL_READ),
    ("POST", "/audit/checkpoints"): rule(R.AUDITOR, R.ADMINISTRATOR),
    ("GET", "/audit/events/{position}/inclusion-proof"): rule(GLOBAL_READ),
    ("GET", "/audit/consistency-proof"): rule(GLOBAL_READ),
    ("POST", "/personal-data/erasures"): rule(R.DATA_PROTECTION_OFFICER),
    ("GET", "/personal-data/erasures"): rule(R.DATA_PROTECTION_OFFICER, R.AUDITOR),
    # Decision records: FOI officers, auditors and the Authority; commissioners for their own call-offs.
    **{
        ("GET", f"/foi/call-offs/{{call_off_id}}/decision-record{suffix}"): rule(
            R.FOI_OFFICER, R.AUDITOR, R.AUTHORITY, R.COMMISSIONER, scope="call_off"
        )
        for suffix in ("", ".html")
    },
    **{
        ("GET", f"/foi/suppliers/{{supplier_id}}/qualification-record{suffix}"): rule(
            R.FOI_OFFICER, R.AUDITOR, R.AUTHORITY
        )
        for suffix in ("", ".html")
    },
    # FOI requests: FOI officers handle them, auditors read them. Requesters' names are personal data.
    ("POST", "/foi/requests"): rule(R.FOI_OFFICER),
    ("GET", "/foi/requests"): rule(R.FOI_OFFICER, R.AUDITOR, personal_data=True),
    ("GET", _FOI): rule(R.FOI_OFFICER, R.AUDITOR, personal_data=True),
    **{
        ("POST", f"{_FOI}/{step}"): rule(R.FOI_OFFICER)
        for step in (
            "clarification-requests",
            "clarifications",
            "extensions",
            "disclosure",
            "redactions",
            "redactions/{redaction_id}/withdrawal",
            "response",
        )
    },
    **{
        ("GET", f"{_FOI}/{document}"): rule(R.FOI_OFFICER, R.AUDITOR)
        for document in ("disclosure", "disclosure.html", "suggested-redactions")
    },
}


# -- scope ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owners:
    """Who a resource belongs to: its supplier, its commissioners, its region and practitioner."""

    suppliers: frozenset[str] = frozenset()
    commissioners: frozenset[str] = frozenset()
    region: str | None = None
    practitioner: str | None = None


def _ids(values: Any) -> frozenset[str]:
    return frozenset(str(v) for v in values)


def _call_off(ledger: Ledger, call_off_id: UUID) -> Owners:
    from ledger.procurement.call_offs import CallOff

    c = ledger.load(CallOff, call_off_id)
    return Owners(
        suppliers=_ids(c.invited),
        commissioners=_ids((c.draft.lead_commissioner_id, *c.draft.partner_commissioner_ids)),
    )


def _contract(ledger: Ledger, contract_id: UUID) -> Owners:
    from ledger.procurement.contracts import Contract

    k = ledger.load(Contract, contract_id)
    return Owners(suppliers=_ids((k.supplier_id,)), commissioners=_ids(k.commissioner_ids))


def _referral(ledger: Ledger, referral_id: UUID) -> Owners:
    from ledger.cases.referrals import Referral

    r = ledger.load(Referral, referral_id)
    return Owners(suppliers=_ids((r.supplier_id,)), region=r.region, practitioner=r.practitioner_id)


def _order(ledger: Ledger, order_id: UUID) -> Owners:
    from ledger.cases.unpaid_work import UnpaidWorkOrder

    return Owners(suppliers=_ids((ledger.load(UnpaidWorkOrder, order_id).supplier_id,)))


def _group(ledger: Ledger, group_id: UUID) -> Owners:
    from ledger.cases.programmes import ProgrammeGroup

    return Owners(suppliers=_ids((ledger.load(ProgrammeGroup, group_id).supplier_id,)))


def commissioner_of(actor: Actor) -> str | None:
    return str(commissioner_id_for(actor.organisation_id)) if actor.organisation_id else None


def in_scope(actor: Actor, owners: Owners, *, write: bool) -> bool:
    role = actor.role
    if role in (R.SUPPLIER_BID_MANAGER, R.PROVIDER_CASEWORKER):
        return actor.organisation_id in owners.suppliers
    if role == R.COMMISSIONER:
        return commissioner_of(actor) in owners.commissioners
    if role == R.PROBATION_PRACTITIONER:
        if write:  # practitioners act on the referrals they made (or were handed by an amendment)
            return owners.practitioner == actor.id
        # Practitioners read within their region; resources without one (contracts) are not scoped by it.
        return owners.region is None or owners.region == actor.organisation_id
    return True  # roles that are not scoped to an organisation


def not_found() -> ProblemError:
    return ProblemError(404, "Not found", detail="no such resource in your scope", slug="not-found")


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "Forbidden", detail=detail, slug="forbidden")


_PATH_SCOPES: dict[str, tuple[str, Callable[..., Owners]]] = {
    "call_off": ("call_off_id", _call_off),
    "contract": ("contract_id", _contract),
    "referral": ("referral_id", _referral),
    "order": ("order_id", _order),
    "group": ("group_id", _group),
}


def check_scope(
    ledger: Ledger,
    actor: Actor,
    rule_: Rule,
    params: dict[str, Any],
    body: Any,
    *,
    write: bool,
) -> None:
    """Refuse a request outside the caller's scope: 404 for a resource named in the path, 403 for a body
    that would act for another organisation."""
    scope = rule_.scope
    org = actor.organisation_id
    if body is not None:
        _check_body(ledger, actor, scope, body)
        return
    if scope == "supplier":
        if actor.role in SUPPLIER_ROLES and str(params["supplier_id"]) != org:
            raise not_found()
    elif scope == "commissioner":
        if actor.role == R.COMMISSIONER and str(params["commissioner_id"]) != commissioner_of(actor):
            raise not_found()
    elif scope in _PATH_SCOPES:
        name, owners_of = _PATH_SCOPES[scope]
        try:
            owners = owners_of(ledger, params[name])
        except NotFound:
            return  # the command or query itself answers 404
        if not in_scope(actor, owners, write=write):
            raise not_found()


def _check_body(ledger: Ledger, actor: Actor, scope: str, body: Any) -> None:
    """No request acts for someone else: what a body names must be the caller's own (403)."""
    org = actor.organisation_id
    if scope == "lead" and actor.role == R.COMMISSIONER and str(body.lead_commissioner_id) != commissioner_of(actor):
        raise forbidden("a call-off is drafted by its lead commissioner: lead_commissioner_id is not yours")
    if scope == "body_contract" and actor.role in SUPPLIER_ROLES:
        try:
            owners = _contract(ledger, body.contract_id)
        except NotFound:
            return  # the command itself answers 404
        if org not in owners.suppliers:
            raise forbidden("the contract is not your organisation's")
    named = getattr(body, "supplier_id", None)
    if actor.role in SUPPLIER_ROLES and named is not None and str(named) != org:
        raise forbidden("the request names another supplier than the one your token acts for")


def reads_questionnaires(actor: Actor, supplier_id: UUID) -> bool:
    """Whether the caller may read this supplier's questionnaires (wherever they are shown: the rule of the
    questionnaire's own route decides)."""
    rule_ = RULES[_QUESTIONNAIRE]
    return actor.role in rule_.roles and (actor.role not in SUPPLIER_ROLES or actor.organisation_id == str(supplier_id))


def forced_filters(actor: Actor) -> dict[str, Any]:
    """The filters a list is always narrowed by for this caller (empty for unscoped roles)."""
    nobody = UUID(int=0)  # a token without a usable organisation sees nothing, never everything
    if actor.role in SUPPLIER_ROLES:
        return {"supplier_id": UUID(actor.organisation_id) if _is_uuid(actor.organisation_id) else nobody}
    if actor.role == R.COMMISSIONER:
        return {"commissioner_id": UUID(commissioner_of(actor)) if actor.organisation_id else nobody}
    if actor.role == R.PROBATION_PRACTITIONER:
        return {"region": actor.organisation_id or "-"}
    return {}


def _is_uuid(value: str | None) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True
