"""Fault tests: web workers killed mid-request, the database restarted under load, the projection worker killed
mid-batch, many commands racing on one aggregate, payments retried with one Idempotency-Key.

After each fault: nothing acknowledged is lost and nothing is recorded twice, every client got an answer or a
clear failure, the views equal a replay from position 0, the Merkle log verifies, and the money balances.
Every test is bounded in count and time and talks to loopback only (ADR 19).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import psycopg
import pytest
from falcon import testing

from api.app import create_app
from api.auth import issue_development_token
from ledger import embedded
from ledger.audit import log as merkle_log
from ledger.bulk import BulkLedger
from ledger.config import Settings
from ledger.envelope import Actor
from ledger.framework.reference import seed
from ledger.framework.suppliers import supplier_id_for
from ledger.migrate import migrate
from ledger.store import Ledger
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner, positions
from tests.market import Market
from tests.support import register_test_supplier, unique_legal_id
from tests.test_payments import approved_invoice
from tools.national import generate

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = "application/problem+json"
ACTOR = Actor(id="fault-tester", role="authority", organisation_id="hmpps-commercial")


# -- what must hold after any fault ----------------------------------------------------------------


def assert_ledger_sound(url: str, signer: merkle_log.Signer) -> None:
    """The views have applied the whole log exactly once (each equals a replay from position 0), the Merkle log
    verifies against a fresh checkpoint, no (aggregate, version) or position is stored twice, every money
    movement balances, and the rows a double apply would double (postings, assignments) match the events."""
    runner = ProjectionRunner(url)
    try:
        runner.catch_up()
    finally:
        runner.close()
    with psycopg.connect(url, autocommit=True) as conn:
        head, rows, distinct_positions, distinct_versions = conn.execute(
            "SELECT coalesce(max(notification_id), 0), count(*), count(DISTINCT notification_id),"
            " count(DISTINCT (originator_id, originator_version)) FROM ledger_events"
        ).fetchone()
        assert rows == distinct_positions == distinct_versions
        assert set(positions(conn).values()) == {head}, positions(conn)
        merkle_log.checkpoint(conn, signer)
        verification = merkle_log.verify(conn, signer.public_key)
        assert verification.ok and verification.events == rows, verification.finding
        unbalanced = conn.execute(
            "SELECT position, sum(amount) FROM finance_postings GROUP BY position HAVING sum(amount) <> 0"
        ).fetchall()
        assert unbalanced == []
        total = conn.execute("SELECT coalesce(sum(amount), 0) FROM finance_postings").fetchone()[0]
        assert total == 0
        # Every posting an event carries is in the journal once: none skipped, none applied twice.
        carried, journalled = conn.execute(
            "SELECT (SELECT coalesce(sum(jsonb_array_length(convert_from(state, 'UTF8')::jsonb->'postings')), 0)"
            "        FROM ledger_events WHERE convert_from(state, 'UTF8')::jsonb ? 'postings'),"
            " (SELECT count(*) FROM finance_postings)"
        ).fetchone()
        assert carried == journalled
        # Likewise each caseworker assignment is one row of the caseload's history.
        assigned, rows_of_assignments = conn.execute(
            "SELECT (SELECT count(*) FROM ledger_events WHERE event_type = 'CaseworkerAssigned'),"
            " (SELECT count(*) FROM caseload_assignments)"
        ).fetchone()
        assert assigned == rows_of_assignments
    reports = rebuild(url)
    different = {r.view: [s for t in r.tables for s in t.samples] for r in reports if not r.identical}
    assert not different, different
    assert {r.position for r in reports} == {head}


def signer_in(directory: Path) -> merkle_log.Signer:
    return merkle_log.Signer.from_file(directory / "checkpoint-key.pem")


# -- clients that record what they saw ------------------------------------------------------------


@dataclass
class Answer:
    """What a client saw for one request: a status, headers and body, or a connection that dropped."""

    status: int | None  # None: the connection dropped before an answer came
    media: str = ""
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0  # how long the client waited

    @property
    def dropped(self) -> bool:
        return self.status is None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def rule(self) -> str | None:
        return self.body.get("rule") if isinstance(self.body, dict) else None

    def is_problem(self, *statuses: int) -> bool:
        """A problem+json answer (with one of `statuses`, when given)."""
        return self.media == PROBLEM and (not statuses or self.status in statuses)

    def is_transient(self) -> bool:
        """An answer a client retries: a dropped connection, 503, or a conflict that is over once the other
        request has finished (the key's first request still running, or a lost race on the aggregate)."""
        if self.dropped or self.is_problem(503):
            return True
        return self.is_problem(409) and self.body.get("type", "").rsplit("/", 1)[-1] in ("idempotency", "concurrency")


def http_call(base: tuple[str, int], method: str, path: str, body: Any, headers: dict[str, str]) -> Answer:
    """One request on its own connection; a reset or closed connection is an answer too (dropped)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(*base, timeout=20)
    try:
        conn.request(
            method,
            path,
            body=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Connection": "close", **headers},
        )
        response = conn.getresponse()
        raw = response.read()
    except TimeoutError:
        raise  # a client left hanging is a failure of the test, not an answer
    except (OSError, http.client.HTTPException) as exc:
        return Answer(status=None, error=repr(exc), seconds=time.monotonic() - started)
    finally:
        conn.close()
    media = (response.getheader("Content-Type") or "").split(";")[0]
    return Answer(
        status=response.status,
        media=media,
        body=json.loads(raw) if raw and media.endswith("json") else raw.decode(),
        headers={k.lower(): v for k, v in response.getheaders()},
        seconds=time.monotonic() - started,
    )


def app_call(client: testing.TestClient, method: str, path: str, body: Any, headers: dict) -> Answer:
    """One request to the app in this process."""
    started = time.monotonic()
    result = client.simulate_request(method, path, json=body, headers=headers)
    media = result.headers.get("content-type", "").split(";")[0]
    return Answer(
        status=result.status_code,
        media=media,
        body=result.json if result.text and media.endswith("json") else result.text,
        headers={k.lower(): v for k, v in result.headers.items()},
        seconds=time.monotonic() - started,
    )


def registration() -> dict[str, Any]:
    return {
        "name": "Fault Tolerant Trust",
        "legal_identifier": unique_legal_id(),
        "organisation_type": "voluntary",
        "is_small": True,
    }


def events_since(url: str, start: int, event_type: str) -> list[tuple[UUID, int, int, dict]]:
    """(aggregate, version, position, payload) of every event of one type after `start`, in log order."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT originator_id, originator_version, notification_id, convert_from(state, 'UTF8')::jsonb"
            " FROM ledger_events WHERE event_type = %s AND notification_id > %s ORDER BY notification_id",
            (event_type, start),
        ).fetchall()


def head_of(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()[0]


def assert_registrations_recorded_once(
    url: str, start: int, sent: list[tuple[int, dict, Answer]], retry: Callable[[dict], Answer]
) -> int:
    """Each acknowledged registration is in the log at its position, exactly once. A registration whose answer
    was lost (dropped, or a 503 while the database was away) may or may not have been recorded: its retry with
    the same legal identifier settles it (201 now, or 409 because the first attempt was recorded), and either
    way it is there once. Nothing else was registered. Returns how many registrations were settled by a retry."""
    acknowledged: dict[UUID, Answer] = {}
    expected: set[UUID] = set()
    settled_by_retry = 0
    per_client: dict[int, list[int]] = {}
    for client, body, answer in sent:
        supplier = supplier_id_for(body["legal_identifier"])
        if answer.accepted:
            assert answer.status == 201 and answer.body["id"] == str(supplier), answer
            acknowledged[supplier] = answer
            expected.add(supplier)
            per_client.setdefault(client, []).append(answer.body["position"])
        elif answer.is_transient():
            again = retry(body)
            assert again.status == 201 or (again.status == 409 and again.rule == "supplier already registered"), again
            expected.add(supplier)
            settled_by_retry += 1
        else:
            pytest.fail(f"a registration got neither success nor a clear error: {answer}")
    recorded = events_since(url, start, "SupplierRegistered")
    counts = Counter(aggregate for aggregate, _, _, _ in recorded)
    assert set(counts) == expected, "a registration was lost, or one no client sent was recorded"
    assert set(counts.values()) == {1}, [a for a, n in counts.items() if n > 1]
    at = {position: (aggregate, version) for aggregate, version, position, _ in recorded}
    for supplier, answer in acknowledged.items():
        assert at[answer.body["position"]] == (supplier, 1), answer
    # One client's commands commit one after another, so their positions only go up.
    for client_positions in per_client.values():
        assert client_positions == sorted(set(client_positions)), client_positions
    return settled_by_retry


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """Stop a process and everything it started (it leads its own session): SIGTERM, then SIGKILL."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything left behind in the group
    process.wait(timeout=grace)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def age(pid: int) -> float:
    """Seconds since the process started (0 when it is gone, or dead and not yet reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    if fields[0] == "Z":
        return 0.0
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


def ledger_env(url: str, settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": settings.jwt_secret or "",
        "LEDGER_DATA_DIR": str(settings.data_dir),
        "ACCESS_LOG": "0",
        **extra,
    }


@contextmanager
def gunicorn(url: str, settings: Settings, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], tuple[str, int]]]:
    """The real app under gunicorn, as `ledger serve` runs it, with two workers, on a free loopback port."""
    port = free_port()
    env = ledger_env(url, settings, PORT=str(port), WEB_CONCURRENCY="2", PYTHON_THREADS="4")
    # Loopback only, and no control socket: gunicorn's default is one path in $HOME shared by every instance.
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    command.append("--no-control-socket")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "api.app:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            base = ("127.0.0.1", port)
            deadline = time.monotonic() + 30
            while http_call(base, "GET", "/health/live", None, {}).status != 200:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield process, base
        finally:
            stop_group(process)


# -- 1. gunicorn workers SIGKILLed in the middle of requests ---------------------------------------

WORKER_KILLS = 15
PAYMENT = Decimal("0.10")


def until_settled(send: Callable[[], Answer], *, within: float) -> list[Answer]:
    """Send a request, and again while its answers are transient (as a client retrying with the same identity
    does), for at most `within` seconds; every answer, in order."""
    answers = [send()]
    deadline = time.monotonic() + within
    while answers[-1].is_transient() and time.monotonic() < deadline:
        time.sleep(0.05)
        answers.append(send())
    return answers


def payment(key: str) -> dict[str, str]:
    return {"amount": str(PAYMENT), "paid_on": date.today().isoformat(), "remittance_reference": f"BACS-{key}"}


def test_sigkilled_gunicorn_workers_lose_no_acknowledged_command(make_database, settings, tmp_path) -> None:
    url = make_database()
    market = Market(url, settings)
    try:
        contract, inv, approved = approved_invoice(market)
    finally:
        market.close()
    start = head_of(url)
    authority = {
        "Authorization": f"Bearer {issue_development_token(settings, role='authority', org='hmpps-commercial')}"
    }
    finance_token = issue_development_token(settings, role="finance_officer", org="hmpps-finance", subject="fo-storm")
    finance = {"Authorization": f"Bearer {finance_token}"}
    pay_path = f"/contracts/{contract}/invoices/{inv}/payments"
    registrations: list[tuple[int, dict, Answer]] = []
    payments: dict[str, list[Answer]] = {}
    storm_over = threading.Event()
    rng = random.Random(8)

    with gunicorn(url, settings, tmp_path / "gunicorn.log") as (master, base):

        def call(method: str, path: str, body: Any, headers: dict) -> Answer:
            return http_call(base, method, path, body, headers)

        def registering(client: int) -> None:
            while not storm_over.is_set():
                body = registration()
                registrations.append((client, body, call("POST", "/suppliers", body, authority)))

        def paying() -> None:
            while not storm_over.is_set():
                key = f"storm-{uuid.uuid4()}"
                headers = {**finance, "Idempotency-Key": key}
                payments[key] = until_settled(
                    lambda key=key, headers=headers: call("POST", pay_path, payment(key), headers), within=30
                )

        clients = [threading.Thread(target=registering, args=(n,)) for n in range(4)]
        clients += [threading.Thread(target=paying) for _ in range(2)]
        for client in clients:
            client.start()
        started_at = time.monotonic()
        kills = 0
        try:
            while kills < WORKER_KILLS:
                # A liveness bound, not a speed target: a busy or contended machine boots workers slowly.
                assert time.monotonic() - started_at < 180, f"only {kills} kills in three minutes"
                # A worker up for a moment has booted and is serving. Kill one only while the other serves too, so
                # the service carries on and the victim is as busy as its share of the load makes it.
                serving = [pid for pid in children(master.pid) if age(pid) > 0.6]
                if len(serving) < 2:
                    time.sleep(0.02)
                    continue
                time.sleep(rng.uniform(0.02, 0.2))
                try:
                    os.kill(rng.choice(serving), signal.SIGKILL)
                except ProcessLookupError:
                    continue  # it went of its own accord while we waited
                kills += 1
        finally:
            storm_over.set()
            for client in clients:
                client.join(timeout=60)
        storm_seconds = time.monotonic() - started_at
        assert master.poll() is None, "gunicorn itself went down"

        # Answers first: every one a success, a problem+json error, or a dropped connection; never a 5xx.
        everything = [a for _, _, a in registrations] + [a for answers in payments.values() for a in answers]
        assert not [a for a in everything if not (a.accepted or a.dropped or a.is_problem())]
        assert not [a for a in everything if a.status is not None and a.status >= 500]
        dropped = sum(a.dropped for a in everything)
        assert dropped > 0, "no kill landed in the middle of a request"

        settled_by_retry = assert_registrations_recorded_once(
            url, start, registrations, lambda body: call("POST", "/suppliers", body, authority)
        )

        # Each payment key ends in success: paid by its first request or a retry, replayed, or (when the first was
        # recorded but its worker died before answering) told by the ledger that the payment it asked for was made.
        # Never stuck "in progress", never a refusal of the payment it asked for.
        for key, answers in payments.items():
            final = answers[-1]
            assert final.status == 201, (key, answers)
            bodies = {json.dumps(a.body, sort_keys=True) for a in answers if a.accepted}
            assert len(bodies) <= 1, (key, answers)
        paid_by_a_retry = sum(len(answers) > 1 for answers in payments.values())
        paid = events_since(url, start, "PaymentMade")
        made = Counter(UUID(payload["payment_id"]) for _, _, _, payload in paid)
        assert made == Counter({uuid5(UUID(inv), f"payment:{key}"): 1 for key in payments})

    assert_ledger_sound(url, signer_in(tmp_path))
    with psycopg.connect(url) as conn:
        invoice_paid = conn.execute("SELECT paid FROM finance_invoices WHERE invoice_id = %s", (inv,)).fetchone()[0]
    assert invoice_paid == PAYMENT * len(payments) <= approved
    print(
        f"{kills} worker kills in {storm_seconds:.1f}s: {len(registrations)} registrations and {len(payments)}"
        f" payments, {dropped} dropped connections; settled by a retry: {settled_by_retry} registrations and"
        f" {paid_by_a_retry} payments"
    )


# -- 2. PostgreSQL restarted under load ------------------------------------------------------------

RESTARTS = ("fast", "immediate", "fast")


@pytest.fixture
def own_cluster() -> Iterator[tuple[Path, str]]:
    """An embedded PostgreSQL of this test's own (its own directory and socket), so restarting it disturbs
    nothing else; stopped and removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="ledger-fault-pg-"))
    try:
        url = embedded.start(data_dir)
        try:
            yield data_dir, url
        finally:
            embedded.stop(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_a_database_restart_under_load_loses_nothing_and_the_api_recovers_by_itself(
    own_cluster, settings, tmp_path
) -> None:
    data_dir, url = own_cluster
    migrate(url)
    ledger = Ledger(url)
    seed(ledger)
    ledger.close()
    app = create_app(settings, database_url=url)
    client = testing.TestClient(app)
    runner = ProjectionRunner(url, batch_size=100)
    worker = threading.Thread(target=runner.run_forever, kwargs={"poll_seconds": 0.2}, daemon=True)
    worker.start()
    authority = {
        "Authorization": f"Bearer {issue_development_token(settings, role='authority', org='hmpps-commercial')}"
    }
    registrations: list[tuple[int, dict, Answer]] = []
    reads: list[Answer] = []
    refusals: list[Answer] = []
    load_over = threading.Event()

    def call(method: str, path: str, body: Any = None, caller: dict[str, str] = authority) -> Answer:
        return app_call(client, method, path, body, caller)

    def registering(n: int) -> None:
        """A clerk registering suppliers and reading each back as soon as it is registered (each clerk is someone:
        one caller's reads waiting for min_position are bounded, ADR 23)."""
        clerk = {
            "Authorization": f"Bearer {issue_development_token(settings, role='authority', org='hmpps-commercial')}"
        }
        while not load_over.is_set():
            body = registration()
            answer = call("POST", "/suppliers", body, clerk)
            registrations.append((n, body, answer))
            if answer.accepted:
                path = f"/suppliers/{answer.body['id']}?min_position={answer.body['position']}"
                reads.append(call("GET", path, caller=clerk))

    def refused() -> None:
        """A client whose request is wrong whatever the database is doing: it must always hear so (422)."""
        while not load_over.is_set():
            refusals.append(call("POST", "/suppliers", {"name": "No Identifier Ltd"}))
            time.sleep(0.02)

    clients = [threading.Thread(target=registering, args=(n,)) for n in range(3)]
    clients.append(threading.Thread(target=refused))
    started_at = time.monotonic()
    try:
        for c in clients:
            c.start()
        for mode in RESTARTS:
            time.sleep(0.7)  # load before each restart
            embedded.restart(data_dir, mode=mode, down_for=0.5)
        time.sleep(0.7)
    finally:
        load_over.set()
        for c in clients:
            c.join(timeout=60)
    load_seconds = time.monotonic() - started_at
    try:
        assert all(a.is_problem(422) for a in refusals), Counter(a.status for a in refusals)
        answers = [a for _, _, a in registrations] + reads
        assert all(a.accepted or a.is_problem(503) for a in answers), Counter((a.status, a.rule) for a in answers)
        assert any(not a.accepted for a in answers), "no request met a restart"
        # Nobody is left hanging: a request that meets the server away waits for the pools to reconnect (they
        # retry with backoff) or for their timeouts, then is answered.
        longest = max(a.seconds for a in answers + refusals)
        assert longest < 15, f"a client waited {longest:.1f}s"

        # Recovered without restarting anything: the same app's next command is recorded, and it reads it back.
        body = registration()
        after = call("POST", "/suppliers", body)
        registrations.append((len(clients), body, after))
        assert after.status == 201, after
        read = call("GET", f"/suppliers/{after.body['id']}?min_position={after.body['position']}")
        assert read.status == 200 and read.body["legal_identifier"] == body["legal_identifier"], read

        assert_registrations_recorded_once(url, 0, registrations, lambda again: call("POST", "/suppliers", again))
        # The worker itself rode out the restarts: it reaches the head without help.
        deadline = time.monotonic() + 20
        with psycopg.connect(url, autocommit=True) as conn:
            while min(positions(conn).values()) < head_of(url):
                assert time.monotonic() < deadline, positions(conn)
                time.sleep(0.05)
    finally:
        runner.stop()
        worker.join(timeout=10)
        app.services.close()
    assert_ledger_sound(url, signer_in(tmp_path))
    print(
        f"{len(RESTARTS)} restarts in {load_seconds:.1f}s of load: {len(registrations)} registrations and"
        f" {len(reads)} reads, {sum(not a.accepted for a in answers)} answered 503, longest wait {longest:.1f}s"
    )


def test_after_a_restart_the_ledger_drops_every_stale_connection_at_once(make_database) -> None:
    """A restart leaves every pooled connection broken. Found one checkout at a time, with psycopg_pool's sleeps of
    1, 2, 4 s between them, four stale connections would outlast the pool's 5 s timeout; checked all at the first
    failure, the command waits about one second."""
    url = make_database()
    ledger = Ledger(url, pool_size=4)
    try:
        ledger.datastore.pool.open(wait=True)  # four connections, idle in the pool
        with psycopg.connect(url, autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert ended >= 4
        started_at = time.monotonic()
        body = registration()
        recorded = register_test_supplier(ledger, ACTOR, legal_identifier=body["legal_identifier"])
        # Within the pool's 5 s timeout, which checking one stale connection at a time would outlast.
        assert recorded.version == 1 and time.monotonic() - started_at < 5
    finally:
        ledger.close()


# -- 3. the projection worker SIGKILLed in the middle of a batch -----------------------------------

PROJECTION_KILLS = 15


def rollbacks(conn: psycopg.Connection[Any]) -> int:
    return conn.execute("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def test_sigkilled_projection_worker_applies_every_event_exactly_once(make_database, settings, tmp_path) -> None:
    url = make_database()
    history = BulkLedger(url, batch_size=2000)
    try:
        generate(history, years=1, scale=0.003, seed=2021)
    finally:
        history.close()
    head = head_of(url)
    env = ledger_env(url, settings, PROJECTION_BATCH_SIZE="20", CHECKPOINT_INTERVAL_SECONDS="0")
    rng = random.Random(3)
    between_views = 0  # kills after which one batch was committed for some views and not yet for others
    started_at = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        rolled_back = rollbacks(conn)
        for _ in range(PROJECTION_KILLS):
            before = positions(conn)
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                # Kill once it is working (a view has committed a batch since it started), a moment later: with
                # batches this small a view's transaction is open most of that time.
                deadline = time.monotonic() + 20
                while sum(positions(conn).values()) <= sum(before.values()):
                    assert worker.poll() is None and time.monotonic() < deadline
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, 0.1))
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
            finally:
                stop_group(worker)
            after = positions(conn)
            assert all(after[view] >= position for view, position in before.items())  # never taken back
            assert min(after.values()) < head, "the worker finished before it could be killed enough times"
            between_views += len(set(after.values())) > 1
        time.sleep(0.5)  # the killed workers' server processes report their aborted transactions as they exit
        rolled_back = rollbacks(conn) - rolled_back
    assert rolled_back > 0, "no kill landed inside a view's open transaction"
    kills_seconds = time.monotonic() - started_at
    finish = subprocess.run(
        [sys.executable, "-m", "api.cli", "worker", "--once"], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert finish.returncode == 0, finish.stderr.decode()
    assert_ledger_sound(url, signer_in(tmp_path))
    print(
        f"{PROJECTION_KILLS} projection worker kills in {kills_seconds:.1f}s over {head} events,"
        f" {between_views} of them between two views' commits of one batch, {rolled_back} transactions cut short;"
        f" stopped at {min(after.values())}"
    )


# -- 4. many commands racing on one aggregate ------------------------------------------------------


@pytest.fixture(scope="module")
def settings(settings):
    """The API's usual pools here (the suite's are small): racing commands must be able to queue on the write lock."""
    return replace(settings, pool_size=5)


RACERS = 20


def race(url: str, requests: list[Callable[[], Answer]]) -> list[Answer]:
    """Run the requests at once. The events table's write lock is held until at least half of them are queued on
    it, so those have all read the same version of the aggregate: their race is real, not a hope."""
    answers: list[Answer] = []
    threads = [threading.Thread(target=lambda r=r: answers.append(r())) for r in requests]
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
        for t in threads:
            t.start()
        with psycopg.connect(url, autocommit=True) as watcher:
            deadline = time.monotonic() + 10
            queued = 0
            while queued < len(requests) // 2 and time.monotonic() < deadline:
                time.sleep(0.02)
                queued = watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'ledger_events'::regclass AND NOT granted"
                ).fetchone()[0]
        assert queued >= len(requests) // 2, f"only {queued} commands queued on the write lock"
        blocker.rollback()
    for t in threads:
        t.join(timeout=30)
    assert len(answers) == len(requests)
    return answers


def stream(url: str, aggregate: str) -> list[tuple[int, int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT originator_version, notification_id, event_type FROM ledger_events WHERE originator_id = %s"
            " ORDER BY originator_version",
            (aggregate,),
        ).fetchall()


def test_racing_case_notes_on_one_referral_are_each_recorded_once_or_refused_as_a_conflict(market, tmp_path) -> None:
    contract, _ = market.contract()
    referral = market.referral(contract)
    before = len(stream(market.url, referral))
    path = f"/referrals/{referral}/case-notes"
    note = {"subject": "Contact", "body": "Spoke about housing options."}
    headers = market.caller("POST", path, note, "provider_caseworker", None, None)

    answers = race(
        market.url,
        [
            lambda n=n: app_call(market.client, "POST", path, {**note, "subject": f"Note {n}"}, headers)
            for n in range(RACERS)
        ],
    )

    won = [a for a in answers if a.accepted]
    lost = [a for a in answers if not a.accepted]
    assert won and lost
    assert all(a.is_problem(409) and a.rule == "optimistic concurrency" for a in lost), lost
    events = stream(market.url, referral)
    assert [v for v, _, _ in events] == list(range(1, before + len(won) + 1))  # contiguous: nothing lost or doubled
    at = {position: (version, kind) for version, position, kind in events}
    assert len({a.body["position"] for a in won}) == len(won)
    for a in won:
        assert at[a.body["position"]] == (a.body["version"], "CaseNoteAdded")
    assert_ledger_sound(market.url, signer_in(tmp_path))


def test_racing_changes_with_one_if_match_have_exactly_one_winner(market, tmp_path) -> None:
    supplier = market.post("/suppliers", registration(), expect=201).json["id"]
    headers = {**market.caller("PATCH", f"/suppliers/{supplier}", {}, "authority", None, None), "If-Match": '"1"'}

    answers = race(
        market.url,
        [
            lambda n=n: app_call(market.client, "PATCH", f"/suppliers/{supplier}", {"name": f"Name {n}"}, headers)
            for n in range(RACERS)
        ],
    )

    (winner,) = [a for a in answers if a.accepted]
    losers = [a for a in answers if not a.accepted]
    assert all(a.is_problem(409, 412) for a in losers), losers
    assert [(v, kind) for v, _, kind in stream(market.url, supplier)] == [
        (1, "SupplierRegistered"),
        (2, "SupplierDetailsChanged"),
    ]
    assert winner.body["version"] == 2
    market.position = winner.body["position"]
    (changed,) = events_since(market.url, 0, "SupplierDetailsChanged")
    assert changed[0] == UUID(supplier) and market.get(f"/suppliers/{supplier}")["name"] == changed[3]["name"]
    assert_ledger_sound(market.url, signer_in(tmp_path))


# -- 5. payments retried with one Idempotency-Key --------------------------------------------------


def test_a_payment_sent_many_times_with_one_idempotency_key_is_made_once(market, tmp_path) -> None:
    contract, inv, approved = approved_invoice(market)
    path = f"/contracts/{contract}/invoices/{inv}/payments"
    body = {"amount": "100.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": "BACS-77"}
    headers = {**market.headers(role="finance_officer", org="hmpps-finance", sub="fo-1"), "Idempotency-Key": "pay-77"}

    def pay(payload: dict[str, Any] = body) -> Answer:
        return app_call(market.client, "POST", path, payload, headers)

    barrier = threading.Barrier(8)
    concurrent: list[Answer] = []

    def at_once() -> None:
        barrier.wait(timeout=10)
        concurrent.append(pay())

    threads = [threading.Thread(target=at_once) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # While the first runs, the others are told it is in progress (409) or, once it has finished, its answer.
    assert all(a.status == 201 or (a.is_problem(409) and a.rule == "idempotency key in use") for a in concurrent)
    retried = [pay() for _ in range(5)]
    (first,) = [a for a in concurrent if a.status == 201 and "idempotent-replayed" not in a.headers]
    for answer in [a for a in concurrent if a.status == 201] + retried:
        assert answer.status == 201 and answer.body == first.body, answer
        assert answer is first or answer.headers["idempotent-replayed"] == "true"
        assert answer.headers["x-ledger-position"] == first.headers["x-ledger-position"]
    reused = pay({**body, "amount": "1.00"})
    assert reused.is_problem(422) and reused.body["title"] == "Idempotency-Key reused"

    made = [e for e in events_since(market.url, 0, "PaymentMade") if e[3]["invoice_id"] == inv]
    assert [e[3]["payment_id"] for e in made] == [first.body["id"]]
    market.position = first.body["position"]
    assert market.get(f"/invoices/{inv}")["paid"] == "100.00"
    account = market.get(f"/contracts/{contract}/account")
    balances = {name: Decimal(amount) for name, amount in account["balances"].items()}
    assert sum(balances.values()) == 0
    assert balances[f"cash:{account['commissioner_id']}"] == Decimal("-100.00")  # paid out once
    assert balances[f"payable:{contract}"] == -(approved - Decimal("100.00"))
    assert_ledger_sound(market.url, signer_in(tmp_path))


# A process that sends one payment through the app and dies by SIGKILL at the point named, as a server does when
# the machine or the OOM killer takes it: nothing after that point runs, no handler, no finally.
_DIE = """
import json, os, signal, sys
from falcon import testing
from api.app import create_app
from api.operations import Operations

point, request = sys.argv[1], json.loads(sys.argv[2])
record = Operations._record

def die(*args, **kwargs):
    if point == "after the payment is recorded":
        record(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

Operations._record = die
testing.TestClient(create_app()).simulate_post(request["path"], json=request["body"], headers=request["headers"])
sys.exit("the payment was answered: the process should have died first")
"""


@pytest.mark.parametrize("point", ["before the payment is recorded", "after the payment is recorded"])
def test_a_payment_whose_server_died_mid_request_is_settled_by_its_retry(market, settings, tmp_path, point) -> None:
    contract, inv, _ = approved_invoice(market)
    path = f"/contracts/{contract}/invoices/{inv}/payments"
    body = {"amount": "50.00", "paid_on": market.clock.now.date().isoformat(), "remittance_reference": "BACS-9"}
    headers = {
        **market.headers(role="finance_officer", org="hmpps-finance", sub="fo-2"),
        "Idempotency-Key": f"pay-{uuid.uuid4()}",
    }
    request = json.dumps({"path": path, "body": body, "headers": headers})
    died = subprocess.run(
        [sys.executable, "-c", _DIE, point, request],
        cwd=ROOT,
        env=ledger_env(market.url, settings),
        capture_output=True,
        timeout=60,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr.decode()

    # The dead process's server session ends a moment after it: until then the key is still "in use" (409).
    retry = until_settled(lambda: app_call(market.client, "POST", path, body, headers), within=15)[-1]
    again = app_call(market.client, "POST", path, body, headers)
    made = [e for e in events_since(market.url, 0, "PaymentMade") if e[3]["invoice_id"] == inv]
    assert len(made) == 1, (retry, again)  # made once, whichever request made it
    assert retry.status == 201 and "idempotent-replayed" not in retry.headers, retry
    assert again.status == 201 and again.body == retry.body and again.headers["idempotent-replayed"] == "true"
    assert made[0][3]["payment_id"] == retry.body["id"]
    if point == "before the payment is recorded":
        assert retry.body["events"] >= 1  # the retry made the payment
    else:
        # The first request paid but never answered: its retry is told the payment succeeded, and writes nothing.
        assert retry.body["events"] == 0
        assert int(retry.headers["x-ledger-position"]) >= made[0][2]
    assert_ledger_sound(market.url, signer_in(tmp_path))
