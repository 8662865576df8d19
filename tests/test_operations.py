"""The operation registry used directly, as the web pages use it: each operation by its one name, run for an actor
with the rules HTTP applies (roles, scope, purpose and the read log, idempotency keys), no request in between."""

from __future__ import annotations

from types import ModuleType
from uuid import uuid4

import msgspec
import pytest

from api import policy
from api.errors import ProblemError
from api.operations import Call, Operations
from api.routes import FAMILIES, every_route
from api.specs import CommandAccepted, Query, route
from ledger.envelope import Actor
from projections.catalogue.models import SupplierRecord
from tests.market import Market
from tests.support import count_events, unique_legal_id
from tests.test_payments import approved_invoice

AUTHORITY = Actor(id="ops-authority", role="authority", organisation_id="hmpps-commercial")
COMMISSIONER = Actor(id="ops-commissioner", role="commissioner", organisation_id="region-a")
AUDITOR = Actor(id="ops-auditor", role="auditor", organisation_id="hmpps-audit", privileges=(policy.PERSONAL_DATA,))
FINANCE = Actor(id="ops-finance", role="finance_officer", organisation_id="hmpps-finance")


def body(value: object) -> bytes:
    return msgspec.json.encode(value)


def refused(operations: Operations, name: str, call: Call) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        operations.run(name, call)
    return caught.value


def test_an_operation_is_found_by_its_name_with_its_method_and_path(market: Market) -> None:
    operations = market.app.operations
    assert operations.route("suppliers.register") == ("POST", "/suppliers")
    assert operations.route("accounts.make_payment") == (
        "POST",
        "/contracts/{contract_id}/invoices/{invoice_id}/payments",
    )
    assert "foi.requests.receive" in set(operations.names())
    with pytest.raises(KeyError, match=r"no operation named 'suppliers\.regster'"):
        operations.route("suppliers.regster")


def test_a_command_and_a_query_run_for_an_actor_without_http(market: Market) -> None:
    operations = market.app.operations
    registration = {"name": "Direct Call CIC", "legal_identifier": unique_legal_id(), "organisation_type": "voluntary"}
    accepted = operations.run(
        "suppliers.register", Call(actor=AUTHORITY, path={}, body=body({**registration, "is_small": True}))
    )
    assert isinstance(accepted, CommandAccepted) and accepted.events == 1 and accepted.command_id.startswith("cmd-")
    record = operations.run(
        "suppliers.get",
        Call(actor=AUTHORITY, path={"supplier_id": str(accepted.id)}, query={"min_position": str(accepted.position)}),
    )
    assert isinstance(record, SupplierRecord) and record.name == "Direct Call CIC"
    invalid = refused(operations, "suppliers.register", Call(actor=AUTHORITY, path={}, body=body(registration)))
    assert invalid.status_code == 422 and [e.path for e in invalid.field_errors or []] == ["$.is_small"]


def test_a_role_not_allowed_is_refused_and_pages_can_ask_first(market: Market) -> None:
    operations = market.app.operations
    assert operations.allowed("suppliers.register", AUTHORITY)
    assert not operations.allowed("suppliers.register", COMMISSIONER)
    assert operations.allowed("referrals.list", AUDITOR)
    assert not operations.allowed("referrals.list", Actor(id="a", role="auditor"))  # without the privilege
    registration = body({"name": "X", "legal_identifier": unique_legal_id(), "organisation_type": "voluntary"})
    refusal = refused(operations, "suppliers.register", Call(actor=COMMISSIONER, path={}, body=registration))
    assert refusal.status_code == 403 and refusal.description == "the commissioner role may not POST /suppliers"


def test_what_http_refuses_a_direct_call_refuses(market: Market) -> None:
    operations = market.app.operations
    unknown = refused(operations, "suppliers.list", Call(actor=AUTHORITY, path={}, query={"nmae": "x"}))
    assert unknown.status_code == 422 and [e.path for e in unknown.field_errors or []] == ["nmae"]
    no_body = refused(operations, "audit.sign_checkpoint", Call(actor=AUDITOR, path={}, body=b"{}"))
    assert no_body.status_code == 422 and [e.path for e in no_body.field_errors or []] == ["$"]
    not_allowed = refused(operations, "audit.sign_checkpoint", Call(actor=AUTHORITY, path={}, body=b"{}"))
    assert not_allowed.status_code == 403  # the role is judged first, as over HTTP
    nowhere = refused(operations, "suppliers.get", Call(actor=AUTHORITY, path={"supplier_id": "not-an-id"}))
    assert nowhere.status_code == 404


def test_a_personal_data_read_needs_a_purpose_and_is_recorded_with_it(market: Market) -> None:
    operations = market.app.operations
    caseworker = Actor(id="ops-caseworker", role="provider_caseworker", organisation_id=str(uuid4()))
    without = refused(operations, "referrals.list", Call(actor=caseworker, path={}))
    assert without.status_code == 422 and [e.path for e in without.field_errors or []] == ["X-Purpose"]
    why = "planning this week's sessions"
    read = Call(actor=caseworker, path={}, query={"limit": "5"}, purpose=why, request_id="ops-read-1")
    assert operations.run("referrals.list", read).items == []
    reads = operations.run("audit.personal_data_reads", Call(actor=AUDITOR, path={}, query={"actor_id": caseworker.id}))
    assert [(r.method, r.path, r.query, r.purpose, r.request_id, r.found) for r in reads.items] == [
        ("GET", "/referrals", "limit=5", why, "ops-read-1", True)
    ]


def test_a_payment_run_twice_with_one_key_is_made_once_and_http_replays_it(market: Market) -> None:
    operations = market.app.operations
    contract, invoice, _ = approved_invoice(market)
    path = {"contract_id": contract, "invoice_id": invoice}
    pay = body({"amount": "10.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": "OPS-1"})
    missing = refused(operations, "accounts.make_payment", Call(actor=FINANCE, path=path, body=pay))
    assert missing.status_code == 422 and [e.path for e in missing.field_errors or []] == ["Idempotency-Key"]
    before = count_events(market.url)
    call = Call(actor=FINANCE, path=path, body=pay, idempotency_key="ops-pay-1")
    first = operations.run("accounts.make_payment", call)
    again = operations.run("accounts.make_payment", call)
    assert again == first and count_events(market.url) == before + 1
    other = refused(operations, "accounts.make_payment", Call(actor=FINANCE, path=path, body=pay[:-1] + b" }"))
    assert other.status_code == 422  # the key stands for the first request only
    headers = {
        **market.headers("finance_officer", "hmpps-finance", sub=FINANCE.id),
        "Idempotency-Key": "ops-pay-1",
        "Content-Type": "application/json",
    }
    http = market.client.simulate_post(f"/contracts/{contract}/invoices/{invoice}/payments", body=pay, headers=headers)
    assert http.status_code == 201 and http.headers["idempotent-replayed"] == "true"
    assert http.json == msgspec.to_builtins(first) and count_events(market.url) == before + 1


def test_the_app_is_not_built_when_an_operation_and_the_policy_disagree(market: Market, monkeypatch) -> None:
    services = market.app.services
    stray = route("/strays", get=Query("strays.list", "Strays", lambda q: [], {"type": "array"}))
    with pytest.raises(ValueError, match=r"without an access rule: \['strays\.list'\]"):
        Operations(services, [*every_route(), stray])
    monkeypatch.setitem(policy.RULES, "suppliers.unregister", policy.rule(policy.R.AUTHORITY))
    with pytest.raises(ValueError, match=r"rules naming no operation: \['suppliers\.unregister'\]"):
        Operations(services, every_route())
    twice = route("/suppliers-again", get=Query("suppliers.list", "Again", lambda q: [], {"type": "array"}))
    with pytest.raises(ValueError, match=r"'suppliers\.list' names two operations"):
        Operations(services, [*every_route(), twice])


@pytest.mark.parametrize("family", FAMILIES, ids=lambda module: module.__name__.rsplit(".", 1)[-1])
def test_each_family_names_its_operations_after_itself(family: ModuleType) -> None:
    prefix = family.__name__.rsplit(".", 1)[-1] + "."
    names = [spec.name for r in family.routes() for spec in r.methods.values()]
    assert names and all(name.startswith(prefix) for name in names), names
