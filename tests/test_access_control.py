"""Access control: every operation x every role x own/other organisation gives the expected status.

The table below is the specification, written independently of `api/policy.py`: a new operation without an
entry here fails `test_every_operation_has_an_expectation`, and a policy that drifts from it fails the matrix.
Each operation is found by its name: its method and path come from the app's registry.
"""

from __future__ import annotations

import json

import jwt
import psycopg
import pytest

from api.auth import Verifier
from ledger.roles import Role
from tests.market import Market

ALL = frozenset(r.value for r in Role)
GLOBAL = frozenset({"authority", "auditor", "foi_officer", "administrator", "finance_officer"})
BID, CASE, PO, COM = "supplier_bid_manager", "provider_caseworker", "probation_practitioner", "commissioner"
AUTH, ADMIN, FIN, AUD, FOI = "authority", "administrator", "finance_officer", "auditor", "foi_officer"


def allow(*roles: str | frozenset[str], scoped: tuple[str, ...] = ()) -> tuple[frozenset[str], frozenset[str]]:
    flat: set[str] = set()
    for r in roles:
        flat |= set(r) if isinstance(r, frozenset) else {r}
    return frozenset(flat), frozenset(scoped)


# operation -> (roles that may run it, roles for which it is scoped to their own organisation)
EXPECTED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "suppliers.register": allow(AUTH, ADMIN, BID),
    "framework.get": allow(ALL),
    "innovation_partners.designate": allow(AUTH),
    "innovation_partners.list": allow(ALL),
    "framework.extend": allow(AUTH),
    "suppliers.list": allow(ALL),
    "suppliers.get": allow(ALL),
    "suppliers.change_details": allow(AUTH, ADMIN, BID, scoped=(BID,)),
    "suppliers.accept_terms": allow(BID, scoped=(BID,)),
    "suppliers.withdraw_from_lot": allow(AUTH, BID, scoped=(BID,)),
    "suppliers.change_declared_areas": allow(BID, scoped=(BID,)),
    "suppliers.suspend": allow(AUTH),
    "suppliers.exclude": allow(AUTH),
    "suppliers.reinstate": allow(AUTH),
    "questionnaires.submit": allow(BID, scoped=(BID,)),
    "questionnaires.assess_lot": allow(AUTH),
    "questionnaires.get": allow(AUTH, AUD, BID, scoped=(BID,)),
    "questionnaires.worklist": allow(AUTH, AUD),
    "commissioners.register": allow(AUTH, ADMIN),
    "commissioners.list": allow(ALL),
    "commissioners.get": allow(ALL),
    "commissioners.sign_user_agreement": allow(COM, scoped=(COM,)),
    "call_offs.draft": allow(COM),
    "call_offs.list": allow(COM, BID, GLOBAL),
    "call_offs.get": allow(COM, BID, GLOBAL, scoped=(COM, BID)),
    "call_offs.ask_clarification": allow(BID),
    **{
        f"call_offs.{step}": allow(COM, scoped=(COM,))
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
    "tenders.submit": allow(BID),
    "tenders.opened": allow(COM, AUD, FOI, scoped=(COM,)),
    "contracts.list": allow(ALL),
    "contracts.get": allow(ALL, scoped=(COM, BID, CASE)),
    "contracts.vary": allow(COM, scoped=(COM,)),
    "contracts.extend": allow(COM, scoped=(COM,)),
    "contracts.terminate": allow(COM, scoped=(COM,)),
    "contracts.define_kpi": allow(COM, scoped=(COM,)),
    "contracts.measure_kpi": allow(COM, scoped=(COM,)),
    "contracts.plan_milestone": allow(COM, scoped=(COM,)),
    "contracts.achieve_milestone": allow(COM, scoped=(COM,)),
    "contracts.performance": allow(COM, BID, GLOBAL, scoped=(COM, BID)),
    "catalogue.eligibility": allow(ALL),
    "catalogue.contracts": allow(ALL),
    "catalogue.pipeline": allow(COM, GLOBAL),
    "catalogue.forward_pipeline": allow(COM, BID, GLOBAL),  # a supplier's is narrowed to its lots and areas
    "planning.plan": allow(COM),  # the body names the lead: another's is 403 (test_a_commissioner_plans_only...)
    "planning.get": allow(COM, BID, GLOBAL),
    "planning.revise": allow(COM, scoped=(COM,)),
    "planning.withdraw": allow(COM, scoped=(COM,)),
    "planning.fulfil": allow(COM, scoped=(COM,)),
    "catalogue.market_health": allow(COM, GLOBAL),
    "catalogue.market_health_csv": allow(COM, GLOBAL),
    "referrals.make": allow(PO),
    "referrals.list": allow(PO, CASE, AUD),
    "referrals.get": allow(PO, CASE, AUD, scoped=(PO, CASE)),
    **{
        f"referrals.{step}": allow(CASE, scoped=(CASE,))
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
        f"referrals.{step}": allow(PO, scoped=(PO,))
        for step in ("approve_action_plan", "amend", "acknowledge_notification", "withdraw")
    },
    "referrals.add_case_note": allow(PO, CASE, scoped=(PO, CASE)),
    "unpaid_work.allocate": allow(PO),
    "unpaid_work.list": allow(PO, CASE, AUD),
    "unpaid_work.get": allow(CASE, AUD, scoped=(CASE,)),
    **{
        f"unpaid_work.{step}": allow(CASE, scoped=(CASE,))
        for step in ("complete_induction", "record_work", "record_stand_down")
    },
    "programmes.form_group": allow(CASE),
    "programmes.join_group": allow(CASE, scoped=(CASE,)),
    "programmes.schedule_session": allow(CASE, scoped=(CASE,)),
    "programmes.record_attendance": allow(CASE, scoped=(CASE,)),
    "programmes.withdraw_participant": allow(CASE, scoped=(CASE,)),
    "programmes.get": allow(CASE, AUD, scoped=(CASE,)),
    "caseload.get": allow(PO, CASE, AUD),
    **{
        f"caseload.{name}": allow(PO, CASE, AUD)
        for name in (
            "unassigned",
            "waiting_for_first_appointment",
            "notifications_pending",
            "unpaid_work_at_risk",
            "unpaid_work_started_late",
        )
    },
    "caseload.report": allow(PO, CASE, AUD),
    "accounts.get": allow(FIN, AUD, COM, BID, CASE, scoped=(COM, BID, CASE)),
    "accounts.set_price_schedule": allow(FIN),
    "accounts.close_period": allow(FIN),
    "accounts.record_milestone": allow(FIN, COM, scoped=(COM,)),
    "accounts.submit_invoice": allow(BID, scoped=(BID,)),
    "accounts.reverse_payment": allow(FIN),
    **{
        f"accounts.{step}": allow(FIN)
        for step in ("approve_invoice_line", "dispute_invoice_line", "issue_credit_note", "make_payment")
    },
    "accounts.list_invoices": allow(FIN, AUD, COM, BID),
    "accounts.get_invoice": allow(FIN, AUD, COM, BID, scoped=(COM, BID)),
    "accounts.list_payments": allow(FIN, AUD, COM, BID),
    "finance.set_budget_line": allow(FIN),
    "finance.list_budget_lines": allow(FIN, AUD, COM),
    "finance.approve_overrun": allow(FIN, AUTH),
    "finance.budget_burn": allow(FIN, AUD, COM, scoped=(COM,)),
    "finance.spend": allow(FIN, AUD, COM),
    "finance.aged_payables": allow(FIN, AUD, COM),
    "finance.payments_compliance": allow(FIN, AUD, COM),
    "finance.payments_compliance_notice": allow(FIN, AUD, COM),
    "finance.export": allow(FIN, AUD),
    # The OCDS publication is public data: every role, and no token at all (PUBLIC).
    "ocds.release_packages": allow(ALL),
    "ocds.record_package": allow(ALL),
    "audit.personal_data_reads": allow(AUD),
    "audit.events": allow(AUD, FOI),
    "audit.aggregate": allow(AUD, FOI),
    "audit.aggregate_events": allow(AUD, FOI),
    "audit.aggregate_changes": allow(AUD, FOI),
    "audit.event_types": allow(AUD, FOI),
    "audit.checkpoints": allow(GLOBAL),
    "audit.checkpoint_note": allow(ALL),
    "audit.checkpoint_key": allow(ALL),
    "audit.sign_checkpoint": allow(AUD, ADMIN),
    "audit.verify": allow(AUD),
    "events.feed": allow("subscriber", AUD, ADMIN),
    "audit.verifications": allow(GLOBAL),
    "audit.inclusion_proof": allow(GLOBAL),
    "audit.consistency_proof": allow(GLOBAL),
    "personal_data.erase": allow("data_protection_officer"),
    "personal_data.erasures": allow("data_protection_officer", AUD),
    "foi.decision_record": allow(FOI, AUD, AUTH, COM, scoped=(COM,)),
    "foi.decision_record_html": allow(FOI, AUD, AUTH, COM, scoped=(COM,)),
    "foi.decision_record_values": allow(FOI, AUD, AUTH, COM, scoped=(COM,)),
    "foi.qualification_record": allow(FOI, AUD, AUTH),
    "foi.qualification_record_html": allow(FOI, AUD, AUTH),
    "foi.qualification_record_values": allow(FOI, AUD, AUTH),
    "foi.requests.receive": allow(FOI),
    "foi.requests.list": allow(FOI, AUD),
    "foi.requests.get": allow(FOI, AUD),
    **{
        f"foi.requests.{step}": allow(FOI)
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
        f"foi.requests.{d}": allow(FOI, AUD)
        for d in ("disclosure", "disclosure_html", "disclosure_values", "suggested_redactions")
    },
}


@pytest.fixture(scope="module")
def world(make_database, settings):
    """Resources owned by organisation A, and the tokens of A's and B's people."""
    m = Market(make_database(), settings)
    lead = m.commissioner()
    contract, supplier = m.contract(lead=lead)
    m.post("/innovation-partners", {"region": "region-a", "contract_id": contract}, role="authority")
    other_lead = m.commissioner("region-b", "region-b")
    other_supplier = m.supplier("Other Supplier", areas=("region-b",))
    call_off = m.get(f"/contracts/{contract}")["call_off_id"]  # published: supplier A was invited
    referral = m.referral(contract)
    order = m.post(
        "/unpaid-work",
        {
            "contract_id": contract,
            "crn": "U000001",
            "person": {"given_name": "A", "family_name": "B", "date_of_birth": "1980-01-01", "gender": "male"},
            "hours_ordered": 60,
            "employed": True,
            "made_on": m.clock.now.date().isoformat(),
        },
        expect=201,
    ).json["id"]
    group = m.post(
        "/programmes",
        {"programme": "thinking_skills_programme", "contract_id": contract, "name": "G", "facilitator_id": "f"},
        expect=201,
    ).json["id"]
    m.post(
        f"/contracts/{contract}/price-schedules",
        {"effective_from": m.clock.now.date().isoformat(), "session_fee": "10.00"},
    )
    m.post(f"/referrals/{referral}/acknowledgement")
    invoice = m.post(
        f"/contracts/{contract}/invoices",
        {
            "invoice_number": "W-1",
            "period_start": "2020-01-01",
            "period_end": "2030-01-01",
            "lines": [{"description": "x", "amount": "1.00"}],
        },
        expect=201,
    ).json["id"]
    (questionnaire,) = [q["id"] for q in m.get(f"/suppliers/{supplier}", role="authority")["questionnaires"]]
    line = m.post(
        "/budgets", {"commissioner_id": lead, "financial_year": "2030-31", "name": "L", "amount": "1.00"}, expect=201
    ).json["id"]
    plan = m.post(
        "/planned-call-offs",
        {
            "lead_commissioner_id": lead,
            "plan": {
                "title": "Accommodation, North East",
                "description": "Help to find and keep a home.",
                "need": "accommodation",
                "geography": "region-a",
                "estimated_value": "900000.00",
                "expected_publication": f"{m.clock.now.year + 1}-01",
            },
        },
        expect=201,
    ).json["id"]
    foi_request = m.post(
        "/foi/requests",
        {
            "reference": "FOI-MATRIX-1",
            "requester_name": "A Journalist",
            "information_requested": "The decision record of the call-off",
            "received_on": m.clock.now.date().isoformat(),
        },
        expect=201,
    ).json["id"]
    m.post(f"/foi/requests/{foi_request}/disclosure", {"kind": "call_off_record", "source_id": call_off})
    m.post(
        f"/foi/requests/{foi_request}/redactions",
        {"pointer": "/award/rationale", "ground": "s41", "reason": "Given in confidence by the commissioner"},
    )
    redaction = m.get(f"/foi/requests/{foi_request}")["redactions"][0]["redaction_id"]
    ids = {
        "supplier_id": supplier,
        "questionnaire_id": questionnaire,
        "commissioner_id": lead,
        "call_off_id": call_off,
        "contract_id": contract,
        "invoice_id": invoice,
        "referral_id": referral,
        "order_id": order,
        "group_id": group,
        "line_id": line,
        "plan_id": plan,
        "table": "postings",
        "aggregate_id": supplier,
        "position": "1",
        "request_id": foi_request,
        "redaction_id": redaction,
        "ocid": f"{m.settings.ocds_ocid_prefix}-{call_off}",
    }
    orgs = {
        "own": {BID: supplier, CASE: supplier, COM: m.orgs[lead], PO: ("region-a", "po-jones")},
        "other": {BID: other_supplier, CASE: other_supplier, COM: m.orgs[other_lead], PO: ("region-b", "po-other")},
    }
    m.get(f"/referrals/{referral}")  # the views have caught up with everything above
    m.client.simulate_post("/audit/checkpoints", headers=m.headers(AUD))  # a checkpoint note to serve
    yield m, ids, orgs
    m.close()


def token_for(m: Market, role: str, which: str, orgs: dict) -> dict[str, str]:
    org: str | None = "hmpps"
    sub = None
    scoped = orgs[which].get(role)
    if isinstance(scoped, tuple):
        org, sub = scoped
    elif scoped is not None:
        org = scoped
    return m.headers(role, org, sub, privileges=("personal_data",) if role == AUD else ())


# Operations anyone may run without a token: they reveal nothing (written independently of the policy's PUBLIC).
PUBLIC = frozenset({"audit.checkpoint_note", "audit.checkpoint_key", "ocds.release_packages", "ocds.record_package"})


def operations(m: Market) -> list[tuple[str, str, str]]:
    """Every operation with its method and path, from the app's registry."""
    registry = m.app.operations
    return [(name, *registry.route(name)) for name in registry.names()]


def test_every_operation_has_an_expectation(world) -> None:
    m, _, _ = world
    names = set(m.app.operations.names())
    assert names == set(EXPECTED), f"missing: {sorted(names - set(EXPECTED))}; stale: {sorted(set(EXPECTED) - names)}"
    spec = json.loads(m.client.simulate_get("/openapi.json").text)
    documented = {
        op["operationId"] for methods in spec["paths"].values() for op in methods.values() if op.get("security") != []
    }
    open_ones = {
        op["operationId"] for methods in spec["paths"].values() for op in methods.values() if op.get("security") == []
    }
    # Every secured operation of the document is one of the registry, by its name; the registry's public ones are
    # documented as needing no token.
    assert documented == names - PUBLIC and open_ones >= PUBLIC


def test_permission_matrix(world) -> None:
    m, ids, orgs = world
    failures = []
    for name, method, path in operations(m):
        allowed, scoped = EXPECTED[name]
        concrete = path.format(**ids)
        for role in sorted(ALL):
            for which in ("own", "other"):
                headers = token_for(m, role, which, orgs)
                body = None if method == "GET" else "{}"
                result = m.client.simulate_request(method, concrete, body=body, headers=headers)
                status = result.status_code
                if role not in allowed:
                    expected = "403"
                    ok = status == 403
                elif role in scoped and which == "other":
                    expected = "404"
                    ok = status == 404
                else:
                    expected = "not 401/403/404"
                    ok = status not in (401, 403, 404, 500)
                if not ok:
                    failures.append(f"{name} ({method} {path}) as {role} ({which}): {status}, expected {expected}")
    assert not failures, "\n".join(failures[:40])


def test_a_supplier_cannot_act_for_another(world) -> None:
    m, ids, orgs = world
    other = orgs["other"][BID]
    tender = {"supplier_id": ids["supplier_id"], "content": {"price": "1.00", "method_statement": "x"}}
    refused = m.client.simulate_post(
        f"/call-offs/{ids['call_off_id']}/tenders", json=tender, headers=m.headers(BID, other)
    )
    assert refused.status_code == 403
    draft = m.client.simulate_post(
        "/call-offs",
        json={
            "lead_commissioner_id": ids["commissioner_id"],
            "title": "t",
            "specification": "s",
            "need": "accommodation",
            "geography": "region-a",
            "award_type": "contract",
            "estimated_value": "1.00",
            "initial_term_months": 12,
            "criteria": [{"name": "q", "kind": "quality", "weight": 100}],
            "response_deadline": "2030-01-01T00:00:00Z",
        },
        headers=m.headers(COM, orgs["other"][COM]),
    )
    assert draft.status_code == 403


def test_lists_are_narrowed_to_the_callers_organisation(world) -> None:
    m, ids, orgs = world
    own = m.client.simulate_get("/contracts", headers=m.headers(BID, orgs["own"][BID])).json
    other = m.client.simulate_get("/contracts", headers=m.headers(BID, orgs["other"][BID])).json
    assert ids["contract_id"] in {c["id"] for c in own["items"]}
    assert other["items"] == []
    mine = m.client.simulate_get("/call-offs", headers=m.headers(COM, orgs["own"][COM])).json
    theirs = m.client.simulate_get("/call-offs", headers=m.headers(COM, orgs["other"][COM])).json
    assert ids["call_off_id"] in {c["id"] for c in mine["items"]} and not theirs["items"]
    referrals = m.client.simulate_get("/referrals", headers={**m.headers(PO, "region-b", "po-other")}).json
    assert referrals["items"] == []
    invoices = m.client.simulate_get("/invoices", headers=m.headers(BID, orgs["other"][BID])).json
    assert invoices["items"] == []


def test_personal_data_reads_need_a_purpose_and_are_recorded_for_the_auditor(world) -> None:
    m, ids, _ = world
    path = f"/referrals/{ids['referral_id']}"
    no_purpose = m.client.simulate_get(
        path, headers={"Authorization": m.headers(CASE, ids["supplier_id"])["Authorization"]}
    )
    assert no_purpose.status_code == 422 and no_purpose.json["errors"][0]["path"] == "X-Purpose"
    headers = {**m.headers(CASE, ids["supplier_id"], "cw-reader"), "X-Purpose": "preparing tomorrow's session"}
    assert m.client.simulate_get(path, headers=headers).status_code == 200
    unprivileged = m.client.simulate_get(path, headers={**m.headers(AUD, "hmpps"), "X-Purpose": "audit"})
    assert unprivileged.status_code == 403
    reads = m.client.simulate_get(
        "/audit/personal-data-reads", params={"actor_id": "cw-reader"}, headers=m.headers(AUD, "hmpps")
    ).json["items"]
    assert [(r["path"], r["purpose"], r["actor_role"]) for r in reads] == [(path, "preparing tomorrow's session", CASE)]
    assert (reads[0]["operation"], reads[0]["subject_id"]) == ("referrals.get", ids["referral_id"])
    of_the_referral = m.client.simulate_get(
        "/audit/personal-data-reads", params={"subject_id": ids["referral_id"]}, headers=m.headers(AUD, "hmpps")
    ).json["items"]
    assert reads[0] in of_the_referral and {r["subject_id"] for r in of_the_referral} == {ids["referral_id"]}
    with psycopg.connect(m.url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM personal_data_reads")


def test_two_signing_keys_are_valid_at_once_during_rotation(settings, tmp_path) -> None:
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric import ec

    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    keys = [
        {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(k.public_key())), "kid": kid, "alg": "ES256"}
        for k, kid in ((old, "2026-10"), (new, "2026-11"))
    ]
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": keys}))
    verifier = Verifier.from_settings(replace(settings, environment="production", jwt_secret=None, jwks_file=jwks))
    import time

    claims = {
        "sub": "s",
        "role": "auditor",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 60,
    }
    for key, kid in ((old, "2026-10"), (new, "2026-11")):
        assert verifier.verify(jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})).id == "s"
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(Exception, match="signature"):
        verifier.verify(jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "2026-11"}))


def test_health_and_the_openapi_document_are_open_and_everything_else_is_closed(world) -> None:
    m, _, _ = world
    for path in ("/health/live", "/openapi.json", "/asyncapi.json", "/docs"):
        assert m.client.simulate_get(path).status_code == 200
    for name, method, path in operations(m):
        status = m.client.simulate_request(method, path.replace("{", "").replace("}", "")).status_code
        if name == "ocds.record_package":  # its path with "ocid" for an ocid: no such process, and no 401
            assert status == 404, name
            continue
        assert status == 200 if name in PUBLIC else status in (401, 404), name
    ocid = f"{m.settings.ocds_ocid_prefix}-dynamic-market"
    assert m.client.simulate_get(f"/ocds/record-packages/{ocid}").status_code == 200  # public data: no token


def test_an_operation_without_a_rule_is_refused_to_everyone(world, monkeypatch) -> None:
    from api import policy

    m, ids, _ = world
    monkeypatch.delitem(policy.RULES, "suppliers.get")
    for role in sorted(ALL):
        result = m.client.simulate_get(f"/suppliers/{ids['supplier_id']}", headers=m.headers(role, "hmpps"))
        assert result.status_code == 403, role
