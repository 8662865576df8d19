"""Access control: every route x every role x own/other organisation gives the expected status.

The table below is the specification, written independently of `api/policy.py`: a new route without an
entry here fails `test_every_route_has_an_expectation`, and a policy that drifts from it fails the matrix.
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


CO, REF, K = "/call-offs/{call_off_id}", "/referrals/{referral_id}", "/contracts/{contract_id}"
INV = "/contracts/{contract_id}/invoices/{invoice_id}"
FOIR = "/foi/requests/{request_id}"

# route -> (roles that may call it, roles for which it is scoped to their own organisation)
EXPECTED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "POST /suppliers": allow(AUTH, ADMIN, BID),
    "GET /suppliers": allow(ALL),
    "GET /suppliers/{supplier_id}": allow(ALL),
    "PATCH /suppliers/{supplier_id}": allow(AUTH, ADMIN, BID, scoped=(BID,)),
    "POST /suppliers/{supplier_id}/questionnaires": allow(BID, scoped=(BID,)),
    "POST /suppliers/{supplier_id}/questionnaires/{questionnaire_id}/assessments": allow(AUTH),
    "GET /suppliers/{supplier_id}/questionnaires/{questionnaire_id}": allow(AUTH, AUD, BID, scoped=(BID,)),
    "GET /questionnaires": allow(AUTH, AUD),
    "POST /suppliers/{supplier_id}/terms-acceptances": allow(BID, scoped=(BID,)),
    "POST /suppliers/{supplier_id}/lot-withdrawals": allow(AUTH, BID, scoped=(BID,)),
    "PUT /suppliers/{supplier_id}/declared-areas": allow(BID, scoped=(BID,)),
    "POST /suppliers/{supplier_id}/suspensions": allow(AUTH),
    "POST /suppliers/{supplier_id}/exclusions": allow(AUTH),
    "POST /suppliers/{supplier_id}/reinstatements": allow(AUTH),
    "POST /commissioners": allow(AUTH, ADMIN),
    "GET /commissioners": allow(ALL),
    "GET /commissioners/{commissioner_id}": allow(ALL),
    "POST /commissioners/{commissioner_id}/user-agreement": allow(COM, scoped=(COM,)),
    "POST /call-offs": allow(COM),
    "GET /call-offs": allow(COM, BID, GLOBAL),
    f"GET {CO}": allow(COM, BID, GLOBAL, scoped=(COM, BID)),
    f"POST {CO}/clarification-requests": allow(BID),
    f"POST {CO}/tenders": allow(BID),
    f"GET {CO}/tenders": allow(COM, AUD, FOI, scoped=(COM,)),
    **{
        f"POST {CO}/{step}": allow(COM, scoped=(COM,))
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
    "GET /contracts": allow(ALL),
    f"GET {K}": allow(ALL, scoped=(COM, BID, CASE)),
    f"POST {K}/variations": allow(COM, scoped=(COM,)),
    f"POST {K}/extensions": allow(COM, scoped=(COM,)),
    f"POST {K}/termination": allow(COM, scoped=(COM,)),
    "GET /catalogue/eligibility": allow(ALL),
    "GET /catalogue/contracts": allow(ALL),
    "GET /catalogue/pipeline": allow(COM, GLOBAL),
    "POST /referrals": allow(PO),
    "GET /referrals": allow(PO, CASE, AUD),
    f"GET {REF}": allow(PO, CASE, AUD, scoped=(PO, CASE)),
    **{
        f"POST {REF}/{step}": allow(CASE, scoped=(CASE,))
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
        f"POST {REF}/{step}": allow(PO, scoped=(PO,))
        for step in ("action-plan-approval", "amendments", "notification-acknowledgements", "withdrawal")
    },
    f"POST {REF}/case-notes": allow(PO, CASE, scoped=(PO, CASE)),
    "POST /unpaid-work": allow(PO),
    "GET /unpaid-work": allow(PO, CASE, AUD),
    "GET /unpaid-work/{order_id}": allow(CASE, AUD, scoped=(CASE,)),
    **{
        f"POST /unpaid-work/{{order_id}}/{s}": allow(CASE, scoped=(CASE,))
        for s in ("induction", "sessions", "stand-downs")
    },
    "POST /programmes": allow(CASE),
    "POST /programmes/{group_id}/participants": allow(CASE, scoped=(CASE,)),
    "POST /programmes/{group_id}/sessions": allow(CASE, scoped=(CASE,)),
    "POST /programmes/{group_id}/attendance": allow(CASE, scoped=(CASE,)),
    "POST /programmes/{group_id}/withdrawals": allow(CASE, scoped=(CASE,)),
    "GET /programmes/{group_id}": allow(CASE, AUD, scoped=(CASE,)),
    "GET /caseload": allow(PO, CASE, AUD),
    **{
        f"GET /caseload/{name}": allow(PO, CASE, AUD)
        for name in (
            "unassigned",
            "waiting-for-first-appointment",
            "notifications-pending",
            "unpaid-work-at-risk",
            "unpaid-work-started-late",
        )
    },
    "GET /caseload/report.csv": allow(PO, CASE, AUD),
    f"GET {K}/account": allow(FIN, AUD, COM, BID, CASE, scoped=(COM, BID, CASE)),
    f"POST {K}/price-schedules": allow(FIN),
    f"POST {K}/period-closures": allow(FIN),
    f"POST {K}/milestones": allow(FIN, COM, scoped=(COM,)),
    f"POST {K}/invoices": allow(BID, scoped=(BID,)),
    f"POST {K}/payment-reversals": allow(FIN),
    **{f"POST {INV}/{s}": allow(FIN) for s in ("approvals", "disputes", "credit-notes", "payments")},
    "GET /invoices": allow(FIN, AUD, COM, BID),
    "GET /invoices/{invoice_id}": allow(FIN, AUD, COM, BID, scoped=(COM, BID)),
    "GET /payments": allow(FIN, AUD, COM, BID),
    "POST /budgets": allow(FIN),
    "GET /budgets": allow(FIN, AUD, COM),
    "POST /budgets/{line_id}/overruns": allow(FIN),
    "GET /finance/spend": allow(FIN, AUD, COM),
    "GET /finance/aged-payables": allow(FIN, AUD, COM),
    "GET /finance/prompt-payment": allow(FIN, AUD, COM),
    "GET /finance/export/{table}": allow(FIN, AUD),
    "GET /audit/personal-data-reads": allow(AUD),
    "GET /audit/events": allow(AUD, FOI),
    "GET /audit/aggregates/{aggregate_id}": allow(AUD, FOI),
    "GET /audit/aggregates/{aggregate_id}/events": allow(AUD, FOI),
    "GET /audit/checkpoints": allow(GLOBAL),
    "POST /audit/checkpoints": allow(AUD, ADMIN),
    "GET /audit/events/{position}/inclusion-proof": allow(GLOBAL),
    "GET /audit/consistency-proof": allow(GLOBAL),
    "POST /personal-data/erasures": allow("data_protection_officer"),
    "GET /personal-data/erasures": allow("data_protection_officer", AUD),
    "GET /foi/call-offs/{call_off_id}/decision-record": allow(FOI, AUD, AUTH, COM, scoped=(COM,)),
    "GET /foi/call-offs/{call_off_id}/decision-record.html": allow(FOI, AUD, AUTH, COM, scoped=(COM,)),
    "GET /foi/suppliers/{supplier_id}/qualification-record": allow(FOI, AUD, AUTH),
    "GET /foi/suppliers/{supplier_id}/qualification-record.html": allow(FOI, AUD, AUTH),
    "POST /foi/requests": allow(FOI),
    "GET /foi/requests": allow(FOI, AUD),
    f"GET {FOIR}": allow(FOI, AUD),
    **{
        f"POST {FOIR}/{step}": allow(FOI)
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
    **{f"GET {FOIR}/{d}": allow(FOI, AUD) for d in ("disclosure", "disclosure.html", "suggested-redactions")},
}


@pytest.fixture(scope="module")
def world(make_database, settings):
    """Resources owned by organisation A, and the tokens of A's and B's people."""
    m = Market(make_database(), settings)
    lead = m.commissioner()
    contract, supplier = m.contract(lead=lead)
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
        f"{K.format(contract_id=contract)}/price-schedules",
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
        "table": "postings",
        "aggregate_id": supplier,
        "position": "1",
        "request_id": foi_request,
        "redaction_id": redaction,
    }
    orgs = {
        "own": {BID: supplier, CASE: supplier, COM: m.orgs[lead], PO: ("region-a", "po-jones")},
        "other": {BID: other_supplier, CASE: other_supplier, COM: m.orgs[other_lead], PO: ("region-b", "po-other")},
    }
    m.get(f"/referrals/{referral}")  # the views have caught up with everything above
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


def operations(m: Market) -> list[tuple[str, str]]:
    spec = json.loads(m.client.simulate_get("/openapi.json").text)
    return [
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if op.get("security") != []
    ]


def test_every_route_has_an_expectation(world) -> None:
    m, _, _ = world
    documented = {f"{method} {path}" for method, path in operations(m)}
    assert documented == set(EXPECTED), (
        f"missing: {sorted(documented - set(EXPECTED))}; stale: {sorted(set(EXPECTED) - documented)}"
    )


def test_permission_matrix(world) -> None:
    m, ids, orgs = world
    failures = []
    for method, path in operations(m):
        allowed, scoped = EXPECTED[f"{method} {path}"]
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
                    failures.append(f"{method} {path} as {role} ({which}): {status}, expected {expected}")
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
    for path in ("/health/live", "/openapi.json", "/docs"):
        assert m.client.simulate_get(path).status_code == 200
    for method, path in operations(m):
        assert m.client.simulate_request(method, path.replace("{", "").replace("}", "")).status_code in (401, 404)


def test_an_operation_without_a_rule_is_refused_to_everyone(world, monkeypatch) -> None:
    from api import policy

    m, ids, _ = world
    monkeypatch.delitem(policy.RULES, ("GET", "/suppliers/{supplier_id}"))
    for role in sorted(ALL):
        result = m.client.simulate_get(f"/suppliers/{ids['supplier_id']}", headers=m.headers(role, "hmpps"))
        assert result.status_code == 403, role
