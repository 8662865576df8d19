"""Who may do what: the role matrix and organisation scoping for every operation, in one place.

Each operation is named here by its one name (`suppliers.register`, see `api/routes`); paths are the routes'
business. Closed by default: the app is not built while an operation has no rule here or a rule names no
operation, and an operation without a rule would be refused (403) to everyone. Roles that are not scoped to an
organisation (Authority, finance, audit, FOI, administrators) see across the framework; suppliers,
commissioners and practitioners see only their own. A single resource outside the caller's scope is answered
404, so its existence does not leak; lists are filtered to the caller's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.errors import ProblemError
from ledger.envelope import Actor
from ledger.errors import NotFound
from ledger.framework.commissioners import commissioner_id_for
from ledger.roles import Role
from ledger.store import Ledger

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
    public: bool = False  # needs no token: it reveals nothing (a checkpoint and its key, for other systems)


# Who runs a public operation without a token (with one, the token is not read: the answer is the same).
ANONYMOUS = Actor(id="anonymous", role="anonymous")
PUBLIC = Rule(frozenset(Role), public=True)


def rule(*roles: Role | frozenset[Role], scope: str = "none", personal_data: bool = False) -> Rule:
    flat: set[Role] = set()
    for r in roles:
        flat |= set(r) if isinstance(r, frozenset) else {r}
    return Rule(frozenset(flat), scope, personal_data)


# -- the matrix ------------------------------------------------------------------------------------

_SUPPLIER_SELF = (R.SUPPLIER_BID_MANAGER,)
_PRACTITIONERS_AND_PROVIDERS = (R.PROBATION_PRACTITIONER, R.PROVIDER_CASEWORKER)
_FINANCE_READERS = (R.FINANCE_OFFICER, R.AUDITOR, R.COMMISSIONER)

RULES: dict[str, Rule] = {
    "suppliers.register": rule(R.AUTHORITY, R.ADMINISTRATOR, R.SUPPLIER_BID_MANAGER),
    "framework.get": rule(EVERYONE),
    "innovation_partners.designate": rule(R.AUTHORITY),
    "innovation_partners.list": rule(EVERYONE),
    "framework.extend": rule(R.AUTHORITY),
    "suppliers.list": rule(EVERYONE),
    "suppliers.get": rule(EVERYONE),
    "suppliers.change_details": rule(R.AUTHORITY, R.ADMINISTRATOR, *_SUPPLIER_SELF, scope="supplier"),
    "suppliers.accept_terms": rule(*_SUPPLIER_SELF, scope="supplier"),
    "suppliers.withdraw_from_lot": rule(R.AUTHORITY, *_SUPPLIER_SELF, scope="supplier"),
    "suppliers.change_declared_areas": rule(*_SUPPLIER_SELF, scope="supplier"),
    **{f"suppliers.{sanction}": rule(R.AUTHORITY) for sanction in ("suspend", "exclude", "reinstate")},
    "questionnaires.submit": rule(*_SUPPLIER_SELF, scope="supplier"),
    # A supplier's questionnaires: the supplier itself, the Authority that assesses them, auditors.
    "questionnaires.get": rule(R.AUTHORITY, R.AUDITOR, *_SUPPLIER_SELF, scope="supplier"),
    "questionnaires.worklist": rule(R.AUTHORITY, R.AUDITOR),
    "questionnaires.assess_lot": rule(R.AUTHORITY),
    "commissioners.register": rule(R.AUTHORITY, R.ADMINISTRATOR),
    "commissioners.list": rule(EVERYONE),
    "commissioners.get": rule(EVERYONE),
    "commissioners.sign_user_agreement": rule(R.COMMISSIONER, scope="commissioner"),
    "call_offs.draft": rule(R.COMMISSIONER, scope="lead"),
    "call_offs.list": rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ),
    "call_offs.get": rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ, scope="call_off"),
    # Invitation is the domain's rule (409 "supplier not invited to this call-off"); the policy checks
    # that the body's supplier is the caller's own.
    "call_offs.ask_clarification": rule(R.SUPPLIER_BID_MANAGER),
    **{
        f"call_offs.{step}": rule(R.COMMISSIONER, scope="call_off")
        for step in (
            "publish",
            "publish_clarification",
            "open_tenders",
            "invite_bafo",
            "record_scores",
            "moderate_scores",
            "complete_evaluation",
            "decide_award",
            "cancel",
            "conclude_contract",
            "set_funding",
        )
    },
    "tenders.submit": rule(R.SUPPLIER_BID_MANAGER),
    "tenders.opened": rule(R.COMMISSIONER, R.AUDITOR, R.FOI_OFFICER, scope="call_off"),
    "contracts.list": rule(EVERYONE),
    "contracts.get": rule(EVERYONE, scope="contract"),
    **{
        f"contracts.{change}": rule(R.COMMISSIONER, scope="contract")
        for change in (
            "vary",
            "extend",
            "terminate",
            "define_kpi",
            "measure_kpi",
            "plan_milestone",
            "achieve_milestone",
        )
    },
    "contracts.performance": rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ, scope="contract"),
    "catalogue.eligibility": rule(EVERYONE),
    "catalogue.contracts": rule(EVERYONE),
    "catalogue.pipeline": rule(R.COMMISSIONER, GLOBAL_READ),
    "catalogue.forward_pipeline": rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ),
    "planning.plan": rule(R.COMMISSIONER, scope="lead"),
    "planning.get": rule(R.COMMISSIONER, R.SUPPLIER_BID_MANAGER, GLOBAL_READ),
    **{f"planning.{step}": rule(R.COMMISSIONER, scope="plan") for step in ("revise", "withdraw", "fulfil")},
    **{f"catalogue.{name}": rule(R.COMMISSIONER, GLOBAL_READ) for name in ("market_health", "market_health_csv")},
    "referrals.make": rule(R.PROBATION_PRACTITIONER),
    "referrals.list": rule(*_PRACTITIONERS_AND_PROVIDERS, R.AUDITOR, personal_data=True),
    "referrals.get": rule(*_PRACTITIONERS_AND_PROVIDERS, R.AUDITOR, scope="referral", personal_data=True),
    **{
        f"referrals.{step}": rule(R.PROVIDER_CASEWORKER, scope="referral")
        for step in (
            "acknowledge",
            "assign_caseworker",
            "schedule_appointment",
            "reschedule_appointment",
            "cancel_appointment",
            "record_attendance",
            "correct_attendance",
            "submit_action_plan",
            "report_end_of_service",
        )
    },
    **{
        f"referrals.{step}": rule(R.PROBATION_PRACTITIONER, scope="referral")
        for step in ("approve_action_plan", "amend", "acknowledge_notification", "withdraw")
    },
    "referrals.add_case_note": rule(*_PRACTITIONERS_AND_PROVIDERS, scope="referral"),
    "unpaid_work.allocate": rule(R.PROBATION_PRACTITIONER),
    "unpaid_work.list": rule(*_PRACTITIONERS_AND_PROVIDERS, R.AUDITOR, personal_data=True),
    "unpaid_work.get": rule(R.PROVIDER_CASEWORKER, R.AUDITOR, scope="order", personal_data=True),
    **{
        f"unpaid_work.{step}": rule(R.PROVIDER_CASEWORKER, scope="order")
        for step in ("complete_induction", "record_work", "record_stand_down")
    },
    "programmes.form_group": rule(R.PROVIDER_CASEWORKER, scope="body_contract"),
    **{
        f"programmes.{step}": rule(R.PROVIDER_CASEWORKER, scope="group")
        for step in ("join_group", "schedule_session", "record_attendance", "withdraw_participant")
    },
    "programmes.get": rule(R.PROVIDER_CASEWORKER, R.AUDITOR, scope="group", personal_data=True),
    **{
        f"caseload.{view}": rule(*_PRACTITIONERS_AND_PROVIDERS, R.AUDITOR, personal_data=True)
        for view in (
            "get",
            "unassigned",
            "waiting_for_first_appointment",
            "notifications_pending",
            "unpaid_work_at_risk",
            "unpaid_work_started_late",
            "report",
        )
    },
    "accounts.get": rule(*_FINANCE_READERS, SUPPLIER_ROLES, scope="contract"),
    "accounts.set_price_schedule": rule(R.FINANCE_OFFICER),
    "accounts.close_period": rule(R.FINANCE_OFFICER),
    "accounts.record_milestone": rule(R.FINANCE_OFFICER, R.COMMISSIONER, scope="contract"),
    "accounts.submit_invoice": rule(R.SUPPLIER_BID_MANAGER, scope="contract"),
    **{
        f"accounts.{step}": rule(R.FINANCE_OFFICER)
        for step in (
            "approve_invoice_line",
            "dispute_invoice_line",
            "issue_credit_note",
            "make_payment",
            "reverse_payment",
        )
    },
    "accounts.list_invoices": rule(*_FINANCE_READERS, R.SUPPLIER_BID_MANAGER),
    # Scoped in the query itself (the caller's forced filters), after the read-your-writes wait.
    "accounts.get_invoice": rule(*_FINANCE_READERS, R.SUPPLIER_BID_MANAGER),
    "accounts.list_payments": rule(*_FINANCE_READERS, R.SUPPLIER_BID_MANAGER),
    "finance.set_budget_line": rule(R.FINANCE_OFFICER),
    "finance.list_budget_lines": rule(*_FINANCE_READERS),
    "finance.approve_overrun": rule(R.FINANCE_OFFICER, R.AUTHORITY),  # the Authority: ring-fenced funds (ADR 37)
    # Scoped in the query itself: another commissioner's line is not found.
    "finance.budget_burn": rule(*_FINANCE_READERS),
    **{
        f"finance.{view}": rule(*_FINANCE_READERS)
        for view in ("spend", "aged_payables", "payments_compliance", "payments_compliance_notice")
    },
    "finance.export": rule(R.FINANCE_OFFICER, R.AUDITOR),
    "personal_data.erase": rule(R.DATA_PROTECTION_OFFICER),
    "personal_data.erasures": rule(R.DATA_PROTECTION_OFFICER, R.AUDITOR),
    "audit.personal_data_reads": rule(R.AUDITOR),
    **{
        f"audit.{view}": rule(R.AUDITOR, R.FOI_OFFICER)
        for view in ("events", "event_types", "aggregate", "aggregate_events", "aggregate_changes")
    },
    # The log's integrity is everyone's to check; running the full verification is the auditors' work.
    **{
        f"audit.{view}": rule(GLOBAL_READ)
        for view in ("checkpoints", "inclusion_proof", "consistency_proof", "verifications")
    },
    # The latest checkpoint as a signed note and the key that verifies it: for anyone to keep (ADR 35).
    "audit.checkpoint_note": PUBLIC,
    "audit.checkpoint_key": PUBLIC,
    "audit.sign_checkpoint": rule(R.AUDITOR, R.ADMINISTRATOR),
    "audit.verify": rule(R.AUDITOR),
    # Other systems read the published events with their own token; auditors and administrators may look too.
    "events.feed": rule(R.SUBSCRIBER, R.AUDITOR, R.ADMINISTRATOR),
    # Decision records: FOI officers, auditors and the Authority; commissioners for their own call-offs.
    **{
        f"foi.{record}": rule(R.FOI_OFFICER, R.AUDITOR, R.AUTHORITY, R.COMMISSIONER, scope="call_off")
        for record in ("decision_record", "decision_record_html", "decision_record_values")
    },
    **{
        f"foi.{record}": rule(R.FOI_OFFICER, R.AUDITOR, R.AUTHORITY)
        for record in ("qualification_record", "qualification_record_html", "qualification_record_values")
    },
    # FOI requests: FOI officers handle them, auditors read them. Requesters' names are personal data.
    "foi.requests.receive": rule(R.FOI_OFFICER),
    "foi.requests.list": rule(R.FOI_OFFICER, R.AUDITOR, personal_data=True),
    "foi.requests.get": rule(R.FOI_OFFICER, R.AUDITOR, personal_data=True),
    **{
        f"foi.requests.{step}": rule(R.FOI_OFFICER)
        for step in (
            "seek_clarification",
            "receive_clarification",
            "extend_deadline",
            "prepare_disclosure",
            "apply_redaction",
            "withdraw_redaction",
            "respond",
        )
    },
    **{
        f"foi.requests.{document}": rule(R.FOI_OFFICER, R.AUDITOR)
        for document in ("disclosure", "disclosure_html", "disclosure_values", "suggested_redactions")
    },
    # The OCDS publication is public data: anyone, without a token (ADR 32).
    "ocds.release_packages": PUBLIC,
    "ocds.record_package": PUBLIC,
}


def refusal(name: str, actor: Actor, operation: str) -> str | None:
    """Why the actor's role may not run the operation at all (None: it may, subject to scope)."""
    rule_ = RULES.get(name)
    if rule_ is None:
        return "no access rule covers this operation"
    if rule_.public:
        return None
    if actor.role not in rule_.roles:
        return f"the {actor.role} role may not {operation}"
    if rule_.personal_data and actor.role == R.AUDITOR and PERSONAL_DATA not in actor.privileges:
        return "reading personal data needs the personal_data privilege"
    return None


def is_public(name: str) -> bool:
    """Whether the operation is served without a token."""
    rule_ = RULES.get(name)
    return rule_ is not None and rule_.public


def check_rules(operations: Iterable[str]) -> None:
    """Every operation has a rule and every rule names an operation (checked when the app is built)."""
    names = set(operations)
    missing, stale = sorted(names - set(RULES)), sorted(set(RULES) - names)
    if missing or stale:
        raise ValueError(f"operations without an access rule: {missing}; rules naming no operation: {stale}")


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


def _plan(ledger: Ledger, plan_id: UUID) -> Owners:
    from ledger.procurement.planning import PlannedCallOff

    return Owners(
        suppliers=frozenset(), commissioners=_ids((ledger.load(PlannedCallOff, plan_id).lead_commissioner_id,))
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
    "plan": ("plan_id", _plan),
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
        raise forbidden("a call-off (or a plan of one) is its lead commissioner's: lead_commissioner_id is not yours")
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
    rule_ = RULES["questionnaires.get"]
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
