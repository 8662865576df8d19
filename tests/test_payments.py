"""Payments through the API: charges earned in the same transaction as delivery, invoices, payments, budgets."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
import pytest

from ledger.envelope import Actor, make_envelope
from ledger.errors import RuleViolation
from ledger.payments import accounts, compliance
from tests.market import Market
from tests.support import count_events

SCHEDULE = {
    "referral_fee": {"LOW": "150.00", "MEDIUM": "250.00", "HIGH": "400.00"},
    "session_fee": "80.00",
    "outcome_payment": "500.00",
    "fixed_fee_per_month": "1000.00",
}


def priced(market: Market, **schedule) -> tuple[str, str]:
    contract, supplier = market.contract()
    market.post(
        f"/contracts/{contract}/price-schedules",
        {"effective_from": market.clock.now.date().isoformat(), **(schedule or SCHEDULE)},
        role="finance_officer",
    )
    return contract, supplier


def attend(market: Market, referral: str, attended: str = "yes") -> str:
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": (market.clock.now + timedelta(hours=1)).isoformat(), "delivery_method": "video"},
    )
    appointment = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    market.clock.advance(hours=2)
    body = {"appointment_id": appointment["appointment_id"], "attended": attended}
    if attended == "no":
        body["absence"] = "acceptable"
    market.post(f"/referrals/{referral}/attendance", body, role="provider_caseworker")
    return appointment["appointment_id"]


def started(market: Market, contract: str, sessions: int = 3) -> str:
    referral = market.referral(contract)
    market.post(f"/referrals/{referral}/acknowledgement", role="provider_caseworker")
    market.post(f"/referrals/{referral}/caseworker", {"caseworker_id": "cw-1"}, role="provider_caseworker")
    market.post(
        f"/referrals/{referral}/appointments",
        {
            "kind": "initial_assessment",
            "delivery_method": "in_person",
            "starts_at": (market.clock.now + timedelta(hours=1)).isoformat(),
        },
    )
    assessment = market.get(f"/referrals/{referral}")["appointments"][-1]["appointment_id"]
    market.clock.advance(hours=2)
    market.post(f"/referrals/{referral}/attendance", {"appointment_id": assessment, "attended": "yes"})
    market.post(f"/referrals/{referral}/action-plan", {"activities": ["Support"], "number_of_sessions": sessions})
    market.post(f"/referrals/{referral}/action-plan-approval", role="probation_practitioner")
    return referral


def events_of(market: Market, contract: str) -> list[tuple]:
    from ledger.payments.accounts import account_id_for

    with psycopg.connect(market.url) as conn:
        return conn.execute(
            "SELECT notification_id, event_type, causation_id, convert_from(state, 'UTF8')::jsonb FROM ledger_events"
            " WHERE originator_id = %s ORDER BY notification_id",
            (account_id_for(contract),),
        ).fetchall()


def account(market: Market, contract: str) -> dict:
    return market.get(f"/contracts/{contract}/account")


def test_a_fact_and_the_charge_it_earns_are_written_in_one_transaction(market: Market) -> None:
    contract, _ = priced(market)
    referral = market.referral(contract, complexity="HIGH")
    ack = market.post(f"/referrals/{referral}/acknowledgement", role="provider_caseworker").json
    assert ack["events"] == 2  # ReferralAcknowledged and ChargeRecorded, one commit
    position, kind, causation, payload = events_of(market, contract)[-1]
    assert kind == "ChargeRecorded" and position == ack["position"]
    assert causation == ack["command_id"]
    assert (payload["clause"], payload["schedule_version"], payload["amount"]) == ("referral_fee", 1, "400.00")
    assert payload["basis"] == {
        "kind": "referral_accepted",
        "referral_id": referral,
        "appointment_id": None,
        "outcome": None,
        "period": None,
        "milestone": None,
    }
    assert sum(Decimal(p["amount"]) for p in payload["postings"]) == 0
    assert account(market, contract)["charged"] == "400.00"


def test_sessions_and_outcomes_are_charged_and_a_correction_reverses_never_edits(market: Market) -> None:
    contract, _ = priced(market)
    referral = started(market, contract, sessions=2)
    first = attend(market, referral)
    attend(market, referral, "late")
    assert account(market, contract)["charged"] == "410.00"  # 250 referral + 2 x 80
    market.post(
        f"/referrals/{referral}/attendance-corrections",
        {
            "appointment_id": first,
            "attended": "no",
            "absence": "acceptable",
            "reason": "Recorded against the wrong person",
        },
        role="provider_caseworker",
    )
    summary = account(market, contract)
    assert summary["charged"] == "330.00"
    kinds = [k for _, k, _, _ in events_of(market, contract)]
    assert kinds.count("ChargeRecorded") == 3 and kinds.count("ChargeReversed") == 1
    market.post(
        f"/referrals/{referral}/attendance-corrections",
        {"appointment_id": first, "attended": "yes", "reason": "Corrected back after checking the register"},
    )
    attend(market, referral)  # a third session: the plan of two is delivered
    market.post(
        f"/referrals/{referral}/end-of-service-report",
        {
            "outcomes": [
                {"outcome": "Obtains or sustains suitable accommodation", "achievement": "achieved"},
                {"outcome": "Homelessness is prevented", "achievement": "partially_achieved"},
            ],
            "summary": "Housed",
        },
    )
    assert account(market, contract)["charged"] == str(Decimal("250") + 3 * Decimal("80") + Decimal("500")) + ".00"


def test_a_charge_beyond_the_cap_is_recorded_as_refused_not_dropped(market: Market) -> None:
    contract, _ = priced(market, session_fee="899000.00", referral_fee={"MEDIUM": "2000.00"})
    referral = started(market, contract)
    attend(market, referral)  # 2000 + 899000 = 901000 > 900000 cap
    summary = account(market, contract)
    assert summary["charged"] == "2000.00" and summary["refused_by_cap"] == "899000.00"
    assert events_of(market, contract)[-1][1] == "ChargeRefusedByCap"


def test_a_month_elapsed_earns_its_fixed_fee_once(market: Market) -> None:
    contract, _ = priced(market)
    month = market.clock.now.strftime("%Y-%m")
    early = market.post(f"/contracts/{contract}/period-closures", {"month": month}, expect=409, role="finance_officer")
    assert early.json["rule"] == "period not yet elapsed"
    market.clock.advance(days=32)
    market.post(f"/contracts/{contract}/period-closures", {"month": month})
    again = market.post(f"/contracts/{contract}/period-closures", {"month": month}, expect=409)
    assert again.json["rule"] == "nothing to charge"
    assert account(market, contract)["charged"] == "1000.00"


def invoice(market: Market, contract: str, lines: list[dict], number: str, *, expect: int = 201):
    today = market.clock.now.date()
    return market.post(
        f"/contracts/{contract}/invoices",
        {
            "invoice_number": number,
            "period_start": (today - timedelta(days=400)).isoformat(),
            "period_end": today.isoformat(),
            "lines": lines,
        },
        expect=expect,
        role="supplier_bid_manager",
    )


def charges(market: Market, contract: str) -> list[dict]:
    """The charges a supplier may still invoice, as the supplier reads them on the contract's account."""
    earned = market.get(f"/contracts/{contract}/account", role="supplier_bid_manager")["charges"]
    return [
        {"id": c["charge_id"], "amount": c["amount"]} for c in earned if not c["reversed"] and c["invoice_id"] is None
    ]


def test_invoices_are_matched_approved_only_as_charged_and_paid_once_per_idempotency_key(market: Market) -> None:
    contract, _ = priced(market)
    referral = started(market, contract)
    attend(market, referral)
    attend(market, referral)
    market.get(f"/contracts/{contract}/account")
    fee, s1, s2 = charges(market, contract)
    inv = invoice(
        market,
        contract,
        [
            {"description": "Referral fee", "amount": fee["amount"], "charge_ids": [fee["id"]]},
            {"description": "Sessions", "amount": "200.00", "charge_ids": [s1["id"], s2["id"]]},
            {"description": "Travel", "amount": "35.00"},
        ],
        "INV-001",
    ).json["id"]
    detail = market.get(f"/invoices/{inv}")
    flags = [line["flag"] for line in detail["lines"]]
    assert flags == [None, "over-claimed", "unmatched"] and detail["flagged_lines"] == 2
    refused = market.post(
        f"/contracts/{contract}/invoices/{inv}/approvals", {"line": 2}, expect=409, role="finance_officer"
    )
    assert refused.json["rule"] == "never approve more than was charged"
    market.post(f"/contracts/{contract}/invoices/{inv}/disputes", {"line": 2, "reason": "Two sessions at 80 each"})
    market.post(f"/contracts/{contract}/invoices/{inv}/disputes", {"line": 3, "reason": "Travel is not chargeable"})
    market.post(f"/contracts/{contract}/invoices/{inv}/approvals", {"line": 1})
    duplicate = invoice(market, contract, [{"description": "x", "amount": "1.00"}], "INV-001", expect=409)
    assert duplicate.json["rule"] == "invoice number already used"

    pay = {"amount": "300.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": "BACS-1"}
    path = f"/contracts/{contract}/invoices/{inv}/payments"
    headers = {**market.headers(role="finance_officer"), "Idempotency-Key": "pay-inv-001-a"}
    too_much = market.client.simulate_post(path, json=pay, headers=headers)
    assert too_much.status_code == 409 and too_much.json["rule"] == "never pay more than was approved"
    missing = market.client.simulate_post(
        path, json={**pay, "amount": "250.00"}, headers=market.headers("finance_officer", "hmpps-finance")
    )
    assert missing.status_code == 422 and missing.json["errors"][0]["path"] == "Idempotency-Key"
    key = {**market.headers(role="finance_officer"), "Idempotency-Key": "pay-inv-001-b"}
    before = count_events(market.url)
    first = market.client.simulate_post(path, json={**pay, "amount": "250.00"}, headers=key)
    assert first.status_code == 201
    retry = market.client.simulate_post(path, json={**pay, "amount": "250.00"}, headers=key)
    assert retry.status_code == 201 and retry.json == first.json and retry.headers["idempotent-replayed"] == "true"
    assert count_events(market.url) == before + 1
    reused = market.client.simulate_post(path, json={**pay, "amount": "1.00"}, headers=key)
    assert reused.status_code == 422
    market.position = max(market.position, first.json["position"])
    assert market.get(f"/invoices/{inv}")["paid"] == "250.00"

    reversal = {"payment_id": first.json["id"], "reason": "Paid to the wrong bank account"}
    market.post(f"/contracts/{contract}/payment-reversals", reversal, role="finance_officer")
    assert market.post(f"/contracts/{contract}/payment-reversals", reversal, expect=409).json["rule"] == (
        "payment already reversed"
    )
    credit = market.post(
        f"/contracts/{contract}/invoices/{inv}/credit-notes",
        {"line": 1, "amount": "300.00", "reason": "Too much"},
        expect=409,
    )
    assert credit.json["rule"] == "credit exceeds the unpaid approved amount"
    market.post(
        f"/contracts/{contract}/invoices/{inv}/credit-notes",
        {"line": 1, "amount": "50.00", "reason": "Referral fee is 200 for this complexity in the tender"},
    )
    balances = account(market, contract)["balances"]
    assert sum(Decimal(v) for v in balances.values()) == 0  # the contract's postings balance
    with psycopg.connect(market.url) as conn:
        unbalanced = conn.execute(
            "SELECT position FROM finance_postings GROUP BY position HAVING sum(amount) <> 0"
        ).fetchall()
    assert unbalanced == []


def approved_invoice(market: Market) -> tuple[str, str, Decimal]:
    """A contract with an invoice for its charges, every line approved: (contract, invoice, approved)."""
    contract, _ = priced(market)
    referral = started(market, contract)
    attend(market, referral)
    attend(market, referral)
    market.get(f"/contracts/{contract}/account")  # waits for the payments view to have the charges
    owed = charges(market, contract)
    lines = [{"description": f"Charge {i}", "amount": c["amount"], "charge_ids": [c["id"]]} for i, c in enumerate(owed)]
    inv = invoice(market, contract, lines, f"INV-{uuid.uuid4().hex[:8]}").json["id"]
    for line in range(1, len(lines) + 1):
        market.post(f"/contracts/{contract}/invoices/{inv}/approvals", {"line": line}, role="finance_officer")
    return contract, inv, sum((Decimal(c["amount"]) for c in owed), Decimal(0))


def test_a_payment_retried_with_its_key_after_its_answer_was_lost_is_answered_as_made(market: Market) -> None:
    """The API stores each key's answer once the command returns; a process that dies between the payment's commit
    and that moment leaves a recorded payment and no answer. The retry runs the command again: the ledger knows the
    payment by its key and says it was made, writing nothing; another amount under that key is still refused."""
    contract, inv, _ = approved_invoice(market)
    ledger = market.app.services.ledger
    finance = make_envelope(
        Actor(id="fo-9", role="finance_officer", organisation_id="hmpps-finance"), recorded_at=market.clock.now
    )
    pay = accounts.MakePayment(amount=Decimal("40.00"), paid_on=market.clock.now.date(), remittance_reference="BACS-40")
    first = accounts.make_payment(ledger, finance, UUID(contract), UUID(inv), pay, request_key="lost-answer")
    head = ledger.head()
    retried = accounts.make_payment(ledger, finance, UUID(contract), UUID(inv), pay, request_key="lost-answer")
    assert (retried.aggregate_id, retried.events) == (first.aggregate_id, 0)
    assert retried.position >= first.position and ledger.head() == head
    other = msgspec.structs.replace(pay, amount=Decimal("41.00"))
    with pytest.raises(RuleViolation) as refused:
        accounts.make_payment(ledger, finance, UUID(contract), UUID(inv), other, request_key="lost-answer")
    assert refused.value.rule == "payment already made" and ledger.head() == head
    # Without a key (the ledger's own callers), a second payment with one remittance reference is refused.
    accounts.make_payment(ledger, finance, UUID(contract), UUID(inv), pay)
    with pytest.raises(RuleViolation) as again:
        accounts.make_payment(ledger, finance, UUID(contract), UUID(inv), pay)
    assert again.value.rule == "payment already made"


def test_an_award_commits_its_value_against_the_budget_and_never_beyond_it(market: Market) -> None:
    from ledger.payments.money import financial_year

    lead = market.commissioner()
    fy = financial_year((market.clock.now + timedelta(days=42)).date())  # the year the contract will start in
    line = market.post(
        "/budgets",
        {"commissioner_id": lead, "financial_year": fy, "name": "Core rehabilitative", "amount": "1000.00"},
        expect=201,
        role="finance_officer",
    ).json["id"]
    with pytest.raises(AssertionError, match="commitment beyond the budget line"):
        market.contract(lead=lead)
    market.post(f"/budgets/{line}/overruns", {"amount": "500000.00", "reason": "Regional reallocation agreed"})
    contract, _ = market.contract(lead=lead)
    lines = {b["financial_year"]: b for b in market.get("/budgets")["items"] if b["commissioner_id"] == lead}
    committed = Decimal(lines[fy]["committed"])
    assert Decimal(0) < committed <= Decimal("501000.00")
    summary = account(market, contract)
    assert summary["unfunded"]  # later years have no budget line yet: visible, not hidden
    assert sum(Decimal(amount) for _, amount in summary["unfunded"]) + committed == Decimal("900000.00")


def test_finance_answers_by_any_cut_at_any_date_and_exports_csv(market: Market) -> None:
    contract, supplier = priced(market)
    referral = started(market, contract)
    attend(market, referral)
    market.get(f"/contracts/{contract}/account")
    fee, session_charge = charges(market, contract)
    inv = invoice(
        market,
        contract,
        [{"description": "All", "amount": "330.00", "charge_ids": [fee["id"], session_charge["id"]]}],
        "INV-F1",
    ).json["id"]
    market.post(f"/contracts/{contract}/invoices/{inv}/approvals", {"line": 1}, role="finance_officer")
    submitted = market.clock.now.date()
    market.clock.advance(days=45)
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{inv}/payments",
        json={"amount": "330.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": "BACS-9"},
        headers={**market.headers(role="finance_officer"), "Idempotency-Key": "late-payment"},
    )
    assert paid.status_code == 201
    market.position = paid.json["position"]
    by_supplier = market.get("/finance/spend", params={"group_by": "supplier", "supplier_id": supplier})
    (line,) = by_supplier["lines"]
    assert (line["charged"], line["invoiced"], line["paid"]) == ("330.00", "330.00", "330.00")
    before_payment = market.get(
        "/finance/spend", params={"group_by": "month", "contract_id": contract, "as_of": submitted.isoformat()}
    )
    assert before_payment["total"]["paid"] == "0" and before_payment["total"]["charged"] == "330.00"
    for group in ("contract", "commissioner", "region", "category", "financial_year", "month"):
        assert market.get("/finance/spend", params={"group_by": group})["lines"]
    period = compliance.period_of(market.clock.now.date())
    assert period is not None
    paid_late = market.get("/finance/payments-compliance", params={"period": period.label})["lines"]
    assert any(p["paid_in_days_31_to_60"] >= 1 for p in paid_late)  # paid on day 45
    aged = market.get(
        "/finance/aged-payables",
        params={"as_of": (submitted + timedelta(days=40)).isoformat(), "contract_id": contract},
    )
    assert aged["items"][0]["bucket"] == "31-60" and aged["buckets"]["31-60"] == "330.00"
    finance = market.headers("finance_officer", "hmpps-finance")
    csv = market.client.simulate_get("/finance/export/postings", headers=finance)
    assert csv.status_code == 200 and csv.text.startswith("position,seq,event_type,account,amount")
    assert market.client.simulate_get("/finance/export/secrets", headers=finance).status_code == 404


def _csv(market: Market, table: str) -> tuple[list[str], list[dict[str, str]]]:
    """An export as finance reads it: its header and its rows, parsed as CSV."""
    reader = csv.DictReader(io.StringIO(market.get(f"/finance/export/{table}", role="finance_officer")))
    return list(reader.fieldnames or ()), list(reader)


def _as_text(value: Any) -> str:
    """A JSON view's value as its CSV cell must read (null empty, booleans as in JSON, documents as JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _same(column: str, cell: str, value: Any) -> bool:
    """A CSV cell equals a JSON view's value (times compared as instants: the views print them as PostgreSQL does,
    the exports in ISO 8601; documents compared as JSON)."""
    if column.endswith("_at") and cell and value:
        return datetime.fromisoformat(cell) == datetime.fromisoformat(value)
    if isinstance(value, dict | list):
        return json.loads(cell) == value
    return cell == _as_text(value)


def _matches(rows: list[dict[str, str]], items: list[dict], key: str, columns: list[str]) -> list[str]:
    """Where the exported rows differ from the view's items (by `key`): missing, extra or different values."""
    by_key = {str(item[key]): item for item in items}
    problems = [f"{key} {k}: in the view, not exported" for k in by_key.keys() - {r[key] for r in rows}]
    for row in rows:
        item = by_key.get(row[key])
        if item is None:
            problems.append(f"{key} {row[key]}: exported, not in the view")
            continue
        problems += [
            f"{key} {row[key]} {c}: exported {row[c]!r}, the view says {item[c]!r}"
            for c in columns
            if not _same(c, row[c], item[c])
        ]
    return problems


def test_every_finance_export_holds_the_rows_and_values_of_the_view_it_exports(market: Market) -> None:
    """Each export is its table row for row: compared with the JSON view of the same rows (count and every value),
    text with commas and quotes included; money as plain decimals, dates in ISO 8601."""
    lead = market.commissioner()
    market.post(
        "/budgets",
        {
            "commissioner_id": lead,
            "financial_year": "2031-32",
            "name": 'Core, "rehabilitative" services',
            "amount": "7.50",
        },
        expect=201,
        role="finance_officer",
    )
    contract, _ = priced(market)
    referral = started(market, contract)
    attend(market, referral)
    capped, _ = priced(market, session_fee="899000.00", referral_fee={"MEDIUM": "2000.00"})
    attend(market, started(market, capped))  # refused by the cap: a refused charge
    fee, session_charge = charges(market, contract)
    inv = invoice(
        market,
        contract,
        [{"description": "Fee, and a session", "amount": "330.00", "charge_ids": [fee["id"], session_charge["id"]]}],
        'INV-"Q1", 2026',
    ).json["id"]
    market.post(f"/contracts/{contract}/invoices/{inv}/approvals", {"line": 1}, role="finance_officer")
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{inv}/payments",
        json={"amount": "330.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": 'BACS, "77"'},
        headers={**market.headers(role="finance_officer"), "Idempotency-Key": "export-payment"},
    )
    assert paid.status_code == 201
    market.position = max(market.position, paid.json["position"])
    reversal = {"payment_id": paid.json["id"], "reason": 'Paid to "the wrong" account, twice'}
    market.post(f"/contracts/{contract}/payment-reversals", reversal, role="finance_officer")

    columns, rows = _csv(market, "payments")
    assert columns == [
        "payment_id",
        "invoice_id",
        "contract_id",
        "amount",
        "paid_on",
        "remittance",
        "reversed",
        "reversal_reason",
        "recorded_at",
    ]
    view = market.get("/payments", role="finance_officer")["items"]
    assert len(rows) == len(view) and _matches(rows, view, "payment_id", columns[:-1]) == []
    mine = next(r for r in rows if r["payment_id"] == paid.json["id"])
    assert (mine["amount"], mine["remittance"], mine["reversed"]) == ("330.00", 'BACS, "77"', "true")
    assert mine["reversal_reason"] == reversal["reason"] and mine["paid_on"] == market.clock.now.date().isoformat()

    columns, rows = _csv(market, "invoices")
    view = market.get("/invoices", role="finance_officer")["items"]
    shared = [c for c in columns if c != "commissioner_id"]  # the list names the supplier, the export both
    assert len(rows) == len(view) and _matches(rows, view, "invoice_id", shared) == []
    assert next(r for r in rows if r["invoice_id"] == inv)["invoice_number"] == 'INV-"Q1", 2026'

    columns, rows = _csv(market, "budget-lines")
    view = market.get("/budgets", role="finance_officer")["items"]
    assert len(rows) == len(view) and _matches(rows, view, "line_id", [c for c in columns if c != "version"]) == []
    assert any(r["name"] == 'Core, "rehabilitative" services' and r["amount"] == "7.50" for r in rows)

    # Charges and refused charges: each contract's account lists its own.
    columns, rows = _csv(market, "charges")
    contracts = {r["contract_id"] for r in rows}
    accounts_ = {c: account(market, c) for c in contracts | {capped}}
    view = [{**c, "contract_id": k} for k, a in accounts_.items() for c in a["charges"]]
    shared = [c for c in columns if c not in ("supplier_id", "commissioner_id")]
    assert len(rows) == len(view) and _matches(rows, view, "charge_id", shared) == []
    assert {r["amount"] for r in rows if r["charge_id"] in (fee["id"], session_charge["id"])} == {"250.00", "80.00"}
    columns, rows = _csv(market, "refused-charges")
    view = [{**c, "contract_id": k} for k, a in accounts_.items() for c in a["refused_charges"]]
    assert rows and len(rows) == len(view) and _matches(rows, view, "position", columns) == []
    assert any(r["contract_id"] == capped and r["amount"] == "899000.00" for r in rows)

    # Postings: every posting of every event in the log, in order; each contract's sum is its account's balance.
    columns, rows = _csv(market, "postings")
    logged, after = [], 0
    while after is not None:
        page = market.get("/audit/events", params={"after": after, "limit": 1000}, role="auditor")
        for event in page["items"]:
            for seq, posting in enumerate(event["payload"].get("postings", ())):
                logged.append((str(event["position"]), str(seq), event["type"], posting["account"], posting["amount"]))
        after = page["next_after"]
    assert [(r["position"], r["seq"], r["event_type"], r["account"], r["amount"]) for r in rows] == logged
    for contract_id in contracts:
        balances: dict[str, Decimal] = {}
        for r in rows:
            if r["contract_id"] == contract_id:
                balances[r["account"]] = balances.get(r["account"], Decimal(0)) + Decimal(r["amount"])
        assert balances == {k: Decimal(v) for k, v in accounts_[contract_id]["balances"].items()}
    assert all(r["effective_on"] == date.fromisoformat(r["effective_on"]).isoformat() for r in rows)
    assert not [r for r in rows if "e" in r["amount"].lower() or r["amount"].count(".") != 1]


def test_a_variation_of_value_adjusts_the_commitment_and_the_cap(market: Market) -> None:
    from ledger.payments.money import financial_year

    lead = market.commissioner()
    for offset in (0, 400):
        fy = financial_year((market.clock.now + timedelta(days=42 + offset)).date())
        market.post(
            "/budgets",
            {"commissioner_id": lead, "financial_year": fy, "name": "Core", "amount": "5000000.00"},
            expect=None,
            role="finance_officer",
        )
    contract, _ = market.contract(lead=lead)
    line = next(
        b
        for b in market.get("/budgets")["items"]
        if b["commissioner_id"] == lead and b["financial_year"] == financial_year(market.clock.now.date())
    )
    before = Decimal(line["committed"])
    market.post(f"/contracts/{contract}/variations", {"new_value": "1000000.00", "reason": "Added a county"})
    after = next(b for b in market.get("/budgets")["items"] if b["line_id"] == line["line_id"])
    assert Decimal(after["committed"]) - before == Decimal("100000.00")
    market.post(f"/contracts/{contract}/variations", {"new_value": "950000.00", "reason": "County withdrawn"})
    released = next(b for b in market.get("/budgets")["items"] if b["line_id"] == line["line_id"])
    assert Decimal(released["committed"]) - before == Decimal("50000.00")


def test_a_contract_account_is_snapshotted_and_loads_from_its_snapshot_exactly(market: Market, monkeypatch) -> None:
    from ledger import history
    from ledger.payments.accounts import ContractAccount, account_id_for

    monkeypatch.setattr(ContractAccount, "snapshot_every", 3)
    contract, _ = priced(market)
    referral = market.referral(contract)
    market.post(f"/referrals/{referral}/acknowledgement", role="provider_caseworker")
    for _ in range(4):
        market.clock.advance(days=31)
        closed = market.clock.now.date().replace(day=1) - timedelta(days=1)
        market.post(f"/contracts/{contract}/period-closures", {"month": f"{closed:%Y-%m}"}, role="finance_officer")
    ledger = market.app.services.ledger
    account_id = account_id_for(contract)
    with psycopg.connect(market.url) as conn:
        versions = [
            r[0]
            for r in conn.execute(
                "SELECT originator_version FROM ledger_snapshots WHERE originator_id = %s ORDER BY 1", (account_id,)
            )
        ]
        assert versions and all(v % 3 == 0 for v in versions)
        replayed = history.reconstruct(ledger, conn, account_id, history.NOW).aggregate
    loaded = ledger.load(ContractAccount, account_id)  # from the latest snapshot and the events after it
    assert loaded.version == replayed.version and history.plain(loaded) == history.plain(replayed)
    assert loaded.charged == replayed.charged and isinstance(loaded.charged, Decimal)
    assert account(market, contract)["charged"] == str(loaded.charged)


def test_an_account_as_of_a_horizon_starts_from_a_snapshot_only_if_the_snapshot_lies_within_it(
    market: Market, monkeypatch
) -> None:
    from ledger.payments.accounts import ContractAccount

    monkeypatch.setattr(ContractAccount, "snapshot_every", 2)
    contract, _ = priced(market)
    first = market.referral(contract)
    market.post(f"/referrals/{first}/acknowledgement", role="provider_caseworker")
    middle = market.clock.now.isoformat()
    market.clock.advance(days=1)
    second = market.referral(contract, crn="Y222222")
    market.post(f"/referrals/{second}/acknowledgement", role="provider_caseworker")
    path = f"/audit/aggregates/{account(market, contract)['account_id']}"
    auditor = market.headers("auditor")
    now = market.client.simulate_get(path, headers=auditor).json
    then = market.client.simulate_get(path, params={"as_recorded": middle}, headers=auditor).json
    assert now["from_snapshot"] is not None and now["state"]["charged"] == "500.00"
    assert then["state"]["charged"] == "250.00"
    assert then["from_snapshot"] is None or then["from_snapshot"] < now["from_snapshot"]


def _spend_from_every_posting(url: str, group: str, as_of: str | None, axis: str) -> dict:
    """Finance's spend the slow, obvious way: every posting summed (what the rollup must agree with)."""
    key = {
        "supplier": "supplier_id::text",
        "contract": "contract_id::text",
        "commissioner": "commissioner_id::text",
        "region": "region",
        "category": "category",
        "financial_year": "financial_year",
        "month": "to_char(effective_on, 'YYYY-MM')",
    }[group]
    source = "(SELECT p.*, unnest(coalesce(p.regions, ARRAY[NULL::text])) AS region FROM finance_postings p) p"
    where, params = "true", []
    if as_of is not None:
        where = "recorded_at < %s::date + 1" if axis == "recorded" else "effective_on <= %s::date"
        params = [as_of]
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT {key},"
            " coalesce(sum(amount) FILTER (WHERE account LIKE 'commitment:%%'), 0),"
            " coalesce(sum(amount) FILTER (WHERE account LIKE 'spend:%%'), 0),"
            " coalesce(-sum(amount) FILTER (WHERE account LIKE 'payable:%%' AND event_type IN"
            "   ('InvoiceLineApproved', 'CreditNoteIssued')), 0),"
            " coalesce(-sum(amount) FILTER (WHERE account LIKE 'cash:%%'), 0)"
            f" FROM {source if group == 'region' else 'finance_postings p'} WHERE {where} GROUP BY 1",
            params,
        ).fetchall()
    return {r[0]: tuple(Decimal(v) for v in r[1:]) for r in rows if any(r[1:])}


def test_spend_from_the_monthly_rollup_equals_every_posting_summed_by_any_cut_on_both_axes(market: Market) -> None:
    contract, _ = priced(market)
    referral = started(market, contract)
    attend(market, referral)
    market.clock.advance(days=40)
    attend(market, referral)
    today = market.clock.now.date()
    dates = [
        None,
        today.isoformat(),
        (today - timedelta(days=20)).isoformat(),
        (today - timedelta(days=300)).isoformat(),
    ]
    for group in ("supplier", "contract", "commissioner", "region", "category", "financial_year", "month"):
        for as_of in dates:
            for axis in ("effective", "recorded"):
                params = {"group_by": group, "axis": axis, **({"as_of": as_of} if as_of else {})}
                lines = market.get("/finance/spend", params=params)["lines"]
                got = {
                    line["key"]: tuple(Decimal(line[k]) for k in ("committed", "charged", "invoiced", "paid"))
                    for line in lines
                    if any(Decimal(line[k]) for k in ("committed", "charged", "invoiced", "paid"))
                }
                assert got == _spend_from_every_posting(market.url, group, as_of, axis), (group, as_of, axis)
