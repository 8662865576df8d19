"""Checkpoints outsiders hold (ADR 35): the latest checkpoint as a C2SP signed note, served without a token, and
`ledger verify --checkpoint` proving the database consistent with notes kept elsewhere, which catches what a
database superuser can do and the database's own tables cannot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit import merkle, note
from ledger.config import Settings
from tests.market import Market

ROOT = Path(__file__).resolve().parent.parent


# -- the note format ---------------------------------------------------------------------------------


def test_a_checkpoint_note_is_its_origin_size_and_root_then_an_em_dash_signature_line() -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    root = hashlib.sha256(b"a tree").digest()
    body = note.checkpoint_body("ledger.example/log", 12, root)
    text = note.render(body, "ledger.example/log", note.sign(key, "ledger.example/log", body))

    head, signature_line = text.split("\n\n")
    assert head.split("\n") == ["ledger.example/log", "12", base64.b64encode(root).decode()]
    dash, name, encoded = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", "ledger.example/log")
    signed = base64.b64decode(encoded)
    # The key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key); then the signature of the body.
    assert signed[:4] == hashlib.sha256(b"ledger.example/log\n\x01" + raw).digest()[:4]
    key.public_key().verify(signed[4:], body.encode())
    encoded_key = base64.b64encode(bytes([1]) + raw).decode()
    assert note.vkey("ledger.example/log", key.public_key()) == f"ledger.example/log+{signed[:4].hex()}+{encoded_key}"

    read = note.parse(text)
    assert (read.origin, read.tree_size, read.root) == ("ledger.example/log", 12, root)
    assert read.signed_by(note.Verifier.parse(note.vkey("ledger.example/log", key.public_key())))
    stranger = note.Verifier.parse(note.vkey("ledger.example/log", Ed25519PrivateKey.generate().public_key()))
    assert not read.signed_by(stranger)
    forged = note.parse(text.replace("\n12\n", "\n13\n"))
    assert not forged.signed_by(note.Verifier.parse(note.vkey("ledger.example/log", key.public_key())))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ledger.example/log\n12\n",
        "ledger.example/log\n12\nnot base64!\n\n\u2014 ledger.example/log AAAAAAAA\n",
        "ledger.example/log\n012\n" + base64.b64encode(bytes(32)).decode() + "\n\n\u2014 k AAAAAAAA\n",
        "ledger.example/log\n12\n" + base64.b64encode(bytes(31)).decode() + "\n\n\u2014 k AAAAAAAA\n",
        "ledger.example/log\n12\n" + base64.b64encode(bytes(32)).decode() + "\n\n- k AAAAAAAA\n",
        "ledger.example/log\n12\n" + base64.b64encode(bytes(32)).decode() + "\n\n\u2014 k AAAAAAAA",
        "ledger.example/log\r\n12\n" + base64.b64encode(bytes(32)).decode() + "\n\n\u2014 k AAAAAAAA\n",
    ],
    ids=[
        "empty",
        "no-signature",
        "root-not-base64",
        "leading-zero",
        "short-root",
        "hyphen",
        "no-final-newline",
        "carriage-return",
    ],
)
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(note.NoteRefused):
        note.parse(text)


@pytest.mark.parametrize("vkey", ["", "name+zz+AAAA", "name+00000000+" + base64.b64encode(bytes(33)).decode()])
def test_a_malformed_or_mismatched_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(note.NoteRefused):
        note.Verifier.parse(vkey)


# -- served and verified -------------------------------------------------------------------------------


@pytest.fixture
def market(make_database, settings) -> Market:
    """A market of its own for each test: the tests below tamper with its database."""
    m = Market(make_database(), settings)
    yield m
    m.close()


def sign_checkpoint(m: Market) -> dict:
    result = m.client.simulate_post("/audit/checkpoints", headers=m.headers("auditor"))
    assert result.status_code == 201, result.text
    return result.json


def keep_checkpoint(m: Market, path: Path) -> Path:
    """What an outsider does every minute: fetch the checkpoint (no token) and keep it where the ledger cannot."""
    served = m.client.simulate_get("/audit/checkpoint")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/plain")
    path.write_text(served.text, encoding="utf-8")
    return path


def some_business(m: Market) -> None:
    """A commissioner and a supplier registered through the API: events for the log."""
    m.commissioner()
    m.supplier()


def tamper(m: Market, *statements: str) -> None:
    """What an attacker with superuser rights does: switch the append-only guards off, then edit."""
    with psycopg.connect(m.url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no trigger fires
        for statement in statements:
            conn.execute(statement)


def ledger_verify(m: Market, *checkpoints: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": m.url,
        "CHECKPOINT_KEY_FILE": str(m.settings.checkpoint_key_path()),
        "CHECKPOINT_ORIGIN": m.settings.checkpoint_origin,
    }
    args = ["--checkpoint", *map(str, checkpoints)] if checkpoints else []
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_latest_checkpoint_is_served_as_a_signed_note_without_a_token(market: Market) -> None:
    m = market
    missing = m.client.simulate_get("/audit/checkpoint")
    assert missing.status_code == 404  # nothing signed as a note yet
    signed = sign_checkpoint(m)

    served = m.client.simulate_get("/audit/checkpoint")
    assert served.status_code == 200 and served.headers["content-type"] == "text/plain; charset=utf-8"
    key = m.client.simulate_get("/audit/checkpoint/key")
    assert key.status_code == 200 and key.text.startswith(f"{m.settings.checkpoint_origin}+")
    held = note.parse(served.text)
    assert held.origin == m.settings.checkpoint_origin
    assert (held.tree_size, held.root.hex()) == (signed["tree_size"], signed["root"])
    assert held.signed_by(note.Verifier.parse(key.text))
    # The same answer with a token: the note reveals nothing, whoever asks.
    assert m.client.simulate_get("/audit/checkpoint", headers=m.headers("supplier_bid_manager")).text == served.text

    some_business(m)
    assert m.client.simulate_get("/audit/checkpoint").text == served.text  # until the next checkpoint is signed
    sign_checkpoint(m)
    assert note.parse(m.client.simulate_get("/audit/checkpoint").text).tree_size > held.tree_size


def test_a_row_altered_and_the_log_tables_deleted_passes_plain_verify_but_not_an_outside_checkpoint(
    market: Market, tmp_path
) -> None:
    m = market
    some_business(m)
    sign_checkpoint(m)
    kept = keep_checkpoint(m, tmp_path / "kept.note")
    assert ledger_verify(m, kept).returncode == 0

    tamper(
        m,
        "UPDATE ledger_events SET reason = 'forged' WHERE notification_id = 3",
        "DELETE FROM merkle_leaves",
        "DELETE FROM checkpoints",
    )
    plain = ledger_verify(m)
    assert plain.returncode == 0  # the database agrees with itself: nothing inside it was left to disagree
    assert "not yet covered by any signed checkpoint" in plain.stderr  # every event, now

    sign_checkpoint(m)  # the ledger signs the rewritten history as if it were the original
    assert ledger_verify(m).returncode == 0
    outside = ledger_verify(m, kept)
    assert outside.returncode == 1
    assert "rewritten" in outside.stderr and str(kept) in outside.stderr


def test_an_event_slipped_in_before_a_kept_checkpoint_is_caught(market: Market, tmp_path) -> None:
    m = market
    some_business(m)
    sign_checkpoint(m)
    kept = keep_checkpoint(m, tmp_path / "kept.note")
    tamper(
        m,
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state, notification_id, recorded_at,"
        " effective_at, actor_id, actor_role, correlation_id) SELECT gen_random_uuid(), 1, topic, state, 0,"
        " recorded_at, effective_at, actor_id, actor_role, correlation_id FROM ledger_events"
        " WHERE notification_id = 1",
        "DELETE FROM merkle_leaves",
        "DELETE FROM checkpoints",
    )
    outside = ledger_verify(m, kept)
    assert outside.returncode == 1 and "rewritten" in outside.stderr


def test_a_truncated_log_is_caught_by_an_outside_checkpoint(market: Market, tmp_path) -> None:
    m = market
    some_business(m)
    sign_checkpoint(m)
    kept = keep_checkpoint(m, tmp_path / "kept.note")
    tamper(
        m,
        "DELETE FROM ledger_events WHERE notification_id > (SELECT max(notification_id) - 3 FROM ledger_events)",
        "DELETE FROM merkle_leaves",
        "DELETE FROM checkpoints",
    )
    sign_checkpoint(m)
    outside = ledger_verify(m, kept)
    assert outside.returncode == 1
    assert "truncated" in outside.stderr and f"covers {note.parse(kept.read_text()).tree_size} events" in outside.stderr


def test_the_log_tables_deleted_are_caught_by_an_outside_checkpoint(market: Market, tmp_path) -> None:
    m = market
    some_business(m)
    sign_checkpoint(m)
    kept = keep_checkpoint(m, tmp_path / "kept.note")
    tamper(m, "DELETE FROM checkpoints")
    outside = ledger_verify(m, kept)
    assert outside.returncode == 1 and "checkpoint-deleted" in outside.stderr
    tamper(m, "DELETE FROM merkle_leaves")
    sign_checkpoint(m)  # the same events make the same tree: the ledger's own log is whole again
    assert ledger_verify(m, kept).returncode == 0


def test_a_forged_append_is_uncovered_until_signed_and_then_cannot_be_taken_back(market: Market, tmp_path) -> None:
    """An append after the last checkpoint is what a log allows: a checkpoint kept outside cannot tell a forged
    append from an honest one (ADR 35). What is provable: until the next checkpoint it is reported as uncovered,
    and once a checkpoint covering it is kept outside, removing or changing it is caught."""
    m = market
    some_business(m)
    sign_checkpoint(m)
    first = keep_checkpoint(m, tmp_path / "first.note")
    forged = (
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state, recorded_at, effective_at,"
        " actor_id, actor_role, correlation_id) SELECT gen_random_uuid(), 1, topic, state, recorded_at,"
        " effective_at, actor_id, actor_role, 'forged' FROM ledger_events WHERE notification_id = 1"
    )
    tamper(m, forged)
    plain = ledger_verify(m, first)
    assert plain.returncode == 0  # consistent with the kept checkpoint: an append extends it
    assert "1 event(s) not yet covered by any signed checkpoint" in plain.stderr

    sign_checkpoint(m)  # the worker signs within the minute; an outsider keeps it
    second = keep_checkpoint(m, tmp_path / "second.note")
    assert note.parse(second.read_text()).tree_size == note.parse(first.read_text()).tree_size + 1
    tamper(
        m,
        "DELETE FROM ledger_events WHERE correlation_id = 'forged'",
        "DELETE FROM merkle_leaves",
        "DELETE FROM checkpoints",
    )
    sign_checkpoint(m)
    outside = ledger_verify(m, first, second)
    assert outside.returncode == 1
    assert "truncated" in outside.stderr and str(second) in outside.stderr


def test_a_note_not_signed_by_the_ledgers_key_is_refused(market: Market, tmp_path) -> None:
    m = market
    sign_checkpoint(m)
    text = m.client.simulate_get("/audit/checkpoint").text
    stranger = Ed25519PrivateKey.generate()
    body = text.split("\n\n")[0] + "\n"
    origin = m.settings.checkpoint_origin
    forged = tmp_path / "forged.note"
    forged.write_text(note.render(body, origin, note.sign(stranger, origin, body)), encoding="utf-8")
    result = ledger_verify(m, forged)
    assert result.returncode == 1 and "bad-signature" in result.stderr
    garbage = tmp_path / "garbage.note"
    garbage.write_text("not a note", encoding="utf-8")
    assert ledger_verify(m, garbage).returncode == 2


def test_the_worker_signs_after_new_events_at_most_every_minute(market: Market) -> None:
    from api.scheduler import checkpoint_if_due

    m = market
    every = timedelta(seconds=Settings().checkpoint_interval_seconds)
    assert every == timedelta(minutes=1)
    signer = m.app.services.signer
    with psycopg.connect(m.url, autocommit=True) as conn:
        assert checkpoint_if_due(conn, signer, m.clock.now, every)  # the first: nothing signed yet
        first = note.parse(m.client.simulate_get("/audit/checkpoint").text)
        some_business(m)
        m.clock.advance(seconds=30)
        assert not checkpoint_if_due(conn, signer, m.clock.now, every)  # new events, but within the minute
        m.clock.advance(seconds=30)
        assert checkpoint_if_due(conn, signer, m.clock.now, every)
        second = note.parse(m.client.simulate_get("/audit/checkpoint").text)
        assert second.tree_size > first.tree_size
        m.clock.advance(minutes=5)
        assert not checkpoint_if_due(conn, signer, m.clock.now, every)  # nothing new: nothing to sign


def test_the_consistency_proofs_verify_prints_check_out_by_rfc_9162(market: Market, tmp_path) -> None:
    m = market
    sign_checkpoint(m)
    first = keep_checkpoint(m, tmp_path / "first.note")
    some_business(m)
    sign_checkpoint(m)
    second = keep_checkpoint(m, tmp_path / "second.note")
    some_business(m)  # events beyond the last checkpoint: the proofs run to the head, not to a checkpoint
    result = ledger_verify(m, first, second)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["ok"] and printed["uncovered"] > 0
    for kept, check in zip((first, second), printed["outside"], strict=True):
        held = note.parse(kept.read_text())
        assert (check["tree_size"], check["root"]) == (held.tree_size, held.root.hex())
        assert check["head_size"] == printed["events"] and check["head_root"] == printed["root"]
        assert merkle.verify_consistency(
            held.tree_size,
            check["head_size"],
            held.root,
            bytes.fromhex(check["head_root"]),
            [bytes.fromhex(h) for h in check["proof"]],
        )


def test_a_verifier_key_whose_base64_holds_a_plus_reads_back() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32).public_key()  # its base64 has a "+"
    text = note.vkey("ledger.example/log", key)
    assert text.count("+") > 2
    read = note.Verifier.parse(text)
    assert read.name == "ledger.example/log" and read.key_id == note.key_id("ledger.example/log", key)
