"""`ledger verify` recomputes the Merkle log from the raw events and finds every kind of tampering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ledger.audit import log as mlog
from ledger.audit import merkle
from ledger.framework.reference import seed
from ledger.store import Ledger

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def signed(make_database, tmp_path):
    """A fresh ledger with reference data, its Merkle log checkpointed and signed."""
    url = make_database()
    ledger = Ledger(url)
    seed(ledger)
    ledger.close()
    signer = mlog.Signer.from_file(tmp_path / "checkpoint.pem")
    with psycopg.connect(url, autocommit=True) as conn:
        cp = mlog.checkpoint(conn, signer)
    return url, signer, cp


def tamper(url: str, *statements: str) -> None:
    """What an attacker with superuser access does: switch off the append-only guard, then edit."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_no_update")
        for statement in statements:
            conn.execute(statement)
        conn.execute("ALTER TABLE ledger_events ENABLE TRIGGER ledger_events_no_update")


def verify(url: str, signer: mlog.Signer) -> mlog.Verification:
    with psycopg.connect(url, autocommit=True) as conn:
        return mlog.verify(conn, signer.public_key)


def test_an_untouched_log_verifies_and_its_checkpoint_is_signed(signed) -> None:
    url, signer, cp = signed
    result = verify(url, signer)
    assert result.ok and result.events == result.leaves == cp.tree_size == 88
    assert result.root == cp.root
    assert mlog.signature_valid(cp, signer.public_key)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert not mlog.signature_valid(cp, Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize(
    ("kind", "statements", "position"),
    [
        ("altered", ["UPDATE ledger_events SET actor_id = 'mallory' WHERE notification_id = 40"], 40),
        ("altered", ["UPDATE ledger_events SET state = state || ' '::bytea WHERE notification_id = 12"], 12),
        ("removed", ["DELETE FROM ledger_events WHERE notification_id = 30"], 30),
        (
            "inserted",
            [
                "INSERT INTO ledger_events (originator_id, originator_version, topic, state, notification_id,"
                " recorded_at, effective_at, actor_id, actor_role, correlation_id) SELECT gen_random_uuid(), 1, topic,"
                " state, 0, recorded_at, effective_at, 'mallory', actor_role, correlation_id FROM ledger_events"
                " WHERE notification_id = 5"
            ],
            0,
        ),
        (
            "reordered",
            [
                "UPDATE ledger_events SET notification_id = -20 WHERE notification_id = 20",
                "UPDATE ledger_events SET notification_id = 20 WHERE notification_id = 21",
                "UPDATE ledger_events SET notification_id = 21 WHERE notification_id = -20",
            ],
            20,
        ),
    ],
)
def test_verify_reports_the_first_tampered_position(signed, kind, statements, position) -> None:
    url, signer, _ = signed
    tamper(url, *statements)
    result = verify(url, signer)
    assert not result.ok
    assert (result.finding.kind, result.finding.position) == (kind, position)


def test_a_log_rewritten_to_match_the_tampering_fails_its_signed_checkpoint(signed) -> None:
    url, signer, _ = signed
    tamper(url, "UPDATE ledger_events SET reason = 'rewritten' WHERE notification_id = 7")
    with psycopg.connect(url, autocommit=True) as conn:
        row = next(r for r in mlog.stored_rows(conn) if r[0] == 7)
        _, leaf, content = mlog.leaf_of(row)
        conn.execute("ALTER TABLE merkle_leaves DISABLE TRIGGER merkle_leaves_append_only")
        conn.execute("UPDATE merkle_leaves SET leaf_hash = %s, content_hash = %s WHERE position = 7", (leaf, content))
    result = verify(url, signer)
    assert result.finding is not None and result.finding.kind == "log-tampered"


def test_checkpoints_prove_inclusion_and_consistency(signed) -> None:
    url, signer, first = signed
    ledger = Ledger(url)
    from ledger.envelope import Actor
    from tests.support import register_test_supplier

    register_test_supplier(ledger, Actor(id="a", role="authority"))
    ledger.close()
    with psycopg.connect(url, autocommit=True) as conn:
        second = mlog.checkpoint(conn, signer)
        hashes = mlog.leaves(conn)
    assert second.tree_size == first.tree_size + 1
    proof = merkle.consistency_proof(first.tree_size, hashes[: second.tree_size])
    assert merkle.verify_consistency(
        first.tree_size, second.tree_size, bytes.fromhex(first.root), bytes.fromhex(second.root), proof
    )
    index = 10
    inclusion = merkle.inclusion_proof(index, hashes)
    assert merkle.verify_inclusion(index, len(hashes), hashes[index], inclusion, bytes.fromhex(second.root))


def test_ledger_verify_command_exits_non_zero_on_tampering(signed, tmp_path) -> None:
    url, _, _ = signed
    env = {**os.environ, "DATABASE_URL": url, "CHECKPOINT_KEY_FILE": str(tmp_path / "checkpoint.pem")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    clean = run()
    assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True
    tamper(url, "DELETE FROM ledger_events WHERE notification_id = 3")
    broken = run()
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["finding"] == {
        "kind": "removed",
        "position": 3,
        "detail": "the event logged at position 3 is missing",
    }
    with psycopg.connect(url) as conn:  # each run is recorded, as a run from the pages is
        runs = mlog.verifications(conn)
    assert [(r.ok, r.ran_by_role, r.finding and r.finding.position) for r in runs] == [
        (False, "command_line", 3),
        (True, "command_line", None),
    ]
