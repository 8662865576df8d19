"""The `ledger` command: help everywhere, development tokens, and the event log with envelopes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import psycopg
import pytest

from api.auth import Verifier
from api.cli import build_parser, main
from ledger.envelope import Actor, make_envelope
from ledger.framework.suppliers import OrganisationType, RegisterSupplier, register_supplier
from tests.support import unique_legal_id

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("migrate", "seed", "worker", "relay", "serve", "token", "events", "demo", "foi", "ocds")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", command, "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "usage: ledger" in result.stdout


def test_top_level_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text


def test_token_prints_a_development_token_the_api_accepts(settings, capsys, monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", settings.jwt_secret)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(settings.data_dir))
    assert main(["token", "--role", "commissioner", "--org", "region-a", "--sub", "rpd-ne"]) == 0
    token = capsys.readouterr().out.strip()
    actor = Verifier.from_settings(settings).verify(token)
    assert actor == Actor(id="rpd-ne", role="commissioner", organisation_id="region-a")


def test_token_refuses_an_unknown_role(settings, monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", settings.jwt_secret)
    assert main(["token", "--role", "overlord"]) == 2


def test_events_shows_each_event_with_its_envelope_filtered_by_type_and_actor(ledger, database_url) -> None:
    actor = Actor(id=f"cli-officer-{unique_legal_id()}", role="authority", organisation_id="hmpps-commercial")
    legal_id = unique_legal_id()
    recorded = register_supplier(
        ledger,
        make_envelope(actor, correlation_id="cli-test", reason="checking the CLI"),
        RegisterSupplier(
            name="CLI Trust", legal_identifier=legal_id, organisation_type=OrganisationType.PUBLIC, is_small=False
        ),
    )
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "events", "--type", "SupplierRegistered", "--actor", actor.id, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1
    (event,) = lines
    assert event["position"] == recorded.position
    assert event["type"] == "SupplierRegistered"
    assert (event["actor_id"], event["actor_role"], event["organisation_id"]) == (
        actor.id,
        "authority",
        "hmpps-commercial",
    )
    assert event["correlation_id"] == "cli-test" and event["reason"] == "checking the CLI"
    assert event["payload"]["legal_identifier"] == legal_id

    table = subprocess.run(
        [sys.executable, "-m", "api.cli", "events", "--actor", actor.id],
        cwd=ROOT,
        env={**env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SupplierRegistered" in table.stdout and actor.id in table.stdout


def test_events_read_dates_as_the_api_does_a_day_from_its_start_to_its_end(ledger, database_url) -> None:
    """`--since D --until D` is the whole of day D (as on GET /audit/events), not an empty range."""
    actor = Actor(id=f"cli-day-{unique_legal_id()}", role="authority", organisation_id="hmpps-commercial")
    recorded = register_supplier(
        ledger,
        make_envelope(actor),
        RegisterSupplier(
            name="Day Trust",
            legal_identifier=unique_legal_id(),
            organisation_type=OrganisationType.PUBLIC,
            is_small=False,
        ),
    )
    with psycopg.connect(database_url) as conn:
        (at,) = conn.execute(
            "SELECT recorded_at FROM ledger_events WHERE notification_id = %s", (recorded.position,)
        ).fetchone()
    day = at.astimezone(UTC).date().isoformat()
    env = {**os.environ, "DATABASE_URL": database_url}

    def positions(*bounds: str) -> list[int]:
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "events", "--actor", actor.id, "--json", *bounds],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return [json.loads(line)["position"] for line in result.stdout.splitlines()]

    assert positions("--since", day, "--until", day) == [recorded.position]
    assert positions("--effective-since", day, "--effective-until", day) == [recorded.position]
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "events", "--since", "2026-03-02T09:00:00"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2 and "UTC offset" in refused.stderr
