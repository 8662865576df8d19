"""`ledger bench`: the ledger's throughput and latency beside raw PostgreSQL, measured in one run on one machine.

For each size a national history is generated into its own database; then every figure is measured next
to its raw-PostgreSQL baseline on the same server, with the same rows (sampled from that history), so the
ratio says how close the ledger comes to what the hardware allows. Nothing here is a test: the report
(Markdown and JSON) states each target and whether it was met.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import tuple_row

from ledger import history
from ledger.audit import log as merkle_log
from ledger.bulk import BulkLedger
from ledger.config import Settings
from ledger.migrate import migrate
from ledger.store import Ledger
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner, all_views
from tools import http_baseline
from tools.national import generate

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_SCALE_YEAR = 1_350_000  # what `ledger demo` writes a year at scale 1 (delivery starts late), a little under
Progress = Callable[[str], None]
# A bearer token for a role and an organisation: the API issues tokens, the bench only presents them.
TokenIssuer = Callable[[str, str | None], str]


class Figure(msgspec.Struct, kw_only=True):
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    detail: str = ""


class SizeReport(msgspec.Struct, kw_only=True):
    requested: int
    events: int
    database: str
    figures: list[Figure] = msgspec.field(default_factory=list)


class BenchReport(msgspec.Struct, kw_only=True):
    started: datetime
    machine: str
    postgres: str
    concurrency: int
    sizes: list[SizeReport]


def _database_url(server_url: str, name: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = name
    return make_conninfo(**params)


def _fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(server_url, name)
    migrate(url)
    return url


def _head(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- raw PostgreSQL baselines ------------------------------------------------------------------------


_RAW_COLUMNS = (
    "originator_id, originator_version, topic, state, notification_id, recorded_at, effective_at, actor_id,"
    " actor_role, organisation_id, correlation_id, causation_id, reason"
)


def _sample_rows(url: str, count: int) -> list[tuple[Any, ...]]:
    """Real stored rows, to give the baselines the same row sizes as the ledger's events."""
    with psycopg.connect(url) as conn:
        return (
            conn.cursor(row_factory=tuple_row)
            .execute(f"SELECT {_RAW_COLUMNS} FROM ledger_events ORDER BY random() LIMIT %s", (count,))
            .fetchall()
        )


def _raw_table(conn: psycopg.Connection[Any]) -> None:
    """A table shaped like the events table, with the same indexes, but no ledger (no lock, no trigger)."""
    conn.execute("DROP TABLE IF EXISTS bench_raw")
    conn.execute("CREATE TABLE bench_raw (LIKE ledger_events INCLUDING INDEXES)")


def _copy_text(rows: list[tuple[Any, ...]], count: int) -> bytes:
    """`count` rows in COPY text format, cycled from the samples with fresh identities, built beforehand so
    that only the database's ingest is timed."""

    def text(value: Any) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, (bytes, memoryview)):
            return "\\\\x" + bytes(value).hex()
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    out = io.StringIO()
    for i in range(count):
        row = list(rows[i % len(rows)])
        row[0], row[1], row[4] = uuid.uuid4(), 1, i + 1
        out.write("\t".join(text(v) for v in row) + "\n")
    return out.getvalue().encode()


def raw_copy_rate(url: str, rows: list[tuple[Any, ...]], count: int) -> float:
    data = _copy_text(rows, count)
    with psycopg.connect(url, autocommit=True) as conn:
        _raw_table(conn)
        with conn.transaction(), conn.cursor() as cur:
            started = time.perf_counter()
            with cur.copy(f"COPY bench_raw ({_RAW_COLUMNS}) FROM STDIN") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
            elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
    return count / elapsed


def raw_insert_rate(url: str, rows: list[tuple[Any, ...]], clients: int, seconds: float) -> float:
    """Single-row INSERT + COMMIT per transaction, from `clients` connections at once."""
    with psycopg.connect(url, autocommit=True) as conn:
        _raw_table(conn)
    counter = iter(range(1, 1 << 62))
    lock = threading.Lock()
    done = [0] * clients
    deadline = time.monotonic() + seconds
    placeholders = ", ".join(["%s"] * 13)

    def client(n: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                with lock:
                    position = next(counter)
                row = list(rows[position % len(rows)])
                row[0], row[1], row[4] = uuid.uuid4(), 1, position
                conn.execute(f"INSERT INTO bench_raw ({_RAW_COLUMNS}) VALUES ({placeholders})", row, prepare=True)
                done[n] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_raw")
    return sum(done) / elapsed


# -- the API under gunicorn ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """gunicorn serving the API on a loopback port against one database, as `ledger serve` runs it."""

    url: str
    data_dir: Path
    workers: int = 2
    app: str = "api.app:app"
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "LEDGER_DATA_DIR": str(self.data_dir),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.workers),
            "ACCESS_LOG": "0",
            "DB_POOL_SIZE": "8",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), self.app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/health/live")
                if status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@dataclass
class Load:
    """Requests from `clients` threads, each on a kept-alive connection, for `seconds`."""

    server: Server
    clients: int
    seconds: float

    def run(self, make: Callable[[int, int], tuple[str, str, bytes | None, dict[str, str]]]) -> dict[str, Any]:
        latencies: list[list[float]] = [[] for _ in range(self.clients)]
        failures = [0] * self.clients
        deadline = time.monotonic() + self.seconds

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            i = 0
            while time.monotonic() < deadline:
                method, path, body, headers = make(n, i)
                i += 1
                started = time.perf_counter()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies[n].append(time.perf_counter() - started)
                if response.status >= 300:
                    failures[n] += 1
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        every = [x for per in latencies for x in per]
        return {
            "requests": len(every),
            "per_second": len(every) / elapsed,
            "p50_ms": _percentile(every, 0.50) * 1000,
            "p99_ms": _percentile(every, 0.99) * 1000,
            "failures": sum(failures),
        }


# -- one size ---------------------------------------------------------------------------------------


@dataclass
class SizeBench:
    server_url: str
    size: int
    settings: Settings
    clients: int
    query_seconds: float
    reuse: bool
    say: Progress
    token: TokenIssuer
    report: SizeReport = field(init=False)
    url: str = field(init=False)

    def figure(self, figure: Figure) -> None:
        self.report.figures.append(figure)
        self.say(
            f"  {figure.name}: {figure.value:,.1f} {figure.unit}"
            + (f" (ratio {figure.ratio:.2f})" if figure.ratio else "")
        )

    def run(self) -> SizeReport:
        name = f"ledger_bench_{self.size}"
        self.url = _database_url(self.server_url, name)
        self.report = SizeReport(requested=self.size, events=0, database=name)
        if not (self.reuse and self._reusable()):
            self.generate(name)
        else:
            migrate(self.url)  # a history generated by earlier code: its views' tables as this code has them
        self.report.events = _head(self.url)
        rows = _sample_rows(self.url, 20_000)
        # Each baseline is measured just before the figure it is compared with, after a checkpoint, so that
        # background writing (the history just generated) weighs on both alike.
        self.bulk_import(self._copy_rate(rows))
        self.projections(self._copy_rate(rows))
        self.verify()
        self.as_of()
        self._settle()
        http_rate = self.http_baseline()
        with Server(self.url, self.settings.data_dir) as server:
            self._settle()
            insert_rate = raw_insert_rate(self.url, rows, self.clients, seconds=5)
            self.say(f"  raw INSERT+COMMIT x{self.clients}: {insert_rate:,.0f}/s")
            self.commands(server, insert_rate, http_rate)
            self.queries(server)
        return self.report

    def _settle(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            conn.execute("VACUUM ANALYZE")

    def _copy_rate(self, rows: list[tuple[Any, ...]]) -> float:
        self._settle()
        rate = raw_copy_rate(self.url, rows, min(200_000, max(20_000, self.report.events)))
        self.say(f"  raw COPY: {rate:,.0f} rows/s")
        self._settle()
        return rate

    def _reusable(self) -> bool:
        try:
            return _head(self.url) >= self.size * 0.8
        except psycopg.OperationalError:
            return False

    def generate(self, name: str) -> None:
        url = _fresh_database(self.server_url, name)
        scale = max(0.001, self.size / (2 * EVENTS_PER_SCALE_YEAR))
        ledger = BulkLedger(url, master_key=self.settings.personal_data_master_key)
        try:
            generated = generate(ledger, years=2, scale=scale, progress=lambda d, t: None)
        finally:
            ledger.close()
        self.figure(
            Figure(
                name="generation through the domain rules (batched append)",
                value=generated.events / generated.seconds,
                unit="events/s",
                detail=f"2 years at scale {scale:.3f}: {generated.events:,} events in {generated.seconds:.0f} s",
            )
        )

    def bulk_import(self, copy_rate: float) -> None:
        """Import the whole history into an empty ledger on the batched path (decoded, encoded, COPYed)."""
        target = _fresh_database(self.server_url, f"ledger_bench_{self.size}_import")
        source = psycopg.connect(self.url)

        def rows() -> Iterator[StoredEvent]:
            with source.cursor(name="export", row_factory=tuple_row) as cur:
                cur.itersize = 10_000
                cur.execute(
                    "SELECT originator_id, originator_version, topic, state FROM ledger_events ORDER BY notification_id"
                )
                for originator_id, version, topic, state in cur:
                    yield StoredEvent(
                        originator_id=originator_id, originator_version=version, topic=topic, state=bytes(state)
                    )

        ledger = BulkLedger(target, batch_size=20_000, master_key=self.settings.personal_data_master_key)
        try:
            count, seconds = _timed(lambda: (ledger.import_recorded(rows()), ledger.flush(wait=True))[0])
        finally:
            ledger.close()
            source.close()
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "ledger_bench_{self.size}_import" WITH (FORCE)')
        rate = count / seconds
        self.figure(
            Figure(
                name="bulk import (batched append path)",
                value=rate,
                unit="events/s",
                baseline="raw COPY rows/s, same rows, same indexes",
                baseline_value=copy_rate,
                ratio=rate / copy_rate,
                target=">= 0.5",
                met=rate / copy_rate >= 0.5,
                detail=f"{count:,} events decoded, encoded and written in {seconds:.1f} s",
            )
        )

    def projections(self, copy_rate: float) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:  # the views start again from nothing
            conn.execute("UPDATE projection_positions SET position = 0")
            conn.execute(f"TRUNCATE {', '.join(t for v in all_views() for t in v.tables)} CASCADE")
        runner = ProjectionRunner(self.url, batch_size=self.settings.projection_batch_size)
        try:
            applied, seconds = _timed(runner.catch_up)
        finally:
            runner.close()
        events = self.report.events
        self.figure(
            Figure(
                name="projection worker catch-up from position 0 (all views)",
                value=events / seconds,
                unit="events/s",
                baseline="raw COPY rows/s",
                baseline_value=copy_rate,
                ratio=events / seconds / copy_rate,
                detail=f"{applied:,} view applications in {seconds:.1f} s",
            )
        )
        reports, seconds = _timed(lambda: rebuild(self.url))
        rate = events / seconds
        identical = all(r.identical for r in reports)
        self.figure(
            Figure(
                name="rebuild of all views from position 0, with the row-by-row diff",
                value=rate,
                unit="events/s",
                baseline="raw COPY rows/s",
                baseline_value=copy_rate,
                ratio=rate / copy_rate,
                target=">= 0.25",
                met=rate / copy_rate >= 0.25,
                detail=f"{'identical' if identical else 'DIFFERENCES FOUND'} in {seconds:.1f} s",
            )
        )

    def verify(self) -> None:
        signer = merkle_log.Signer.from_file(self.settings.checkpoint_key_path(), self.settings.checkpoint_origin)
        with psycopg.connect(self.url, autocommit=True) as conn:
            _, extend_seconds = _timed(lambda: merkle_log.checkpoint(conn, signer))
            result, seconds = _timed(lambda: merkle_log.verify(conn, signer.public_key))
        rate = result.events / seconds
        self.figure(
            Figure(
                name="verify the whole log (recompute every leaf, check the signed root)",
                value=rate,
                unit="events/s",
                target=">= 100,000 events/s",
                met=rate >= 100_000,
                detail=f"{'ok' if result.ok else result.finding};"
                f" extending the log and signing took {extend_seconds:.1f} s",
            )
        )

    def as_of(self) -> None:
        """Aggregates sampled evenly (one draw per aggregate, not per event), and the longest streams apart."""
        ledger = Ledger(self.url, master_key=self.settings.personal_data_master_key)
        try:
            with psycopg.connect(self.url) as conn:
                bounds = conn.execute("SELECT min(recorded_at), max(recorded_at) FROM ledger_events").fetchone()
                assert bounds is not None
                horizon = history.Horizon(recorded_by=bounds[0] + (bounds[1] - bounds[0]) * 3 / 4)
                samples = {
                    "an aggregate": "SELECT originator_id FROM ledger_events WHERE originator_version = 1"
                    " ORDER BY random() LIMIT 400",
                    "a contract account (the longest streams)": "SELECT originator_id FROM ledger_events"
                    " WHERE event_type = 'ContractAccountOpened' ORDER BY random() LIMIT 100",
                }
                for what, sql in samples.items():
                    timings = []
                    for (aggregate_id,) in conn.execute(sql).fetchall():
                        started = time.perf_counter()
                        history.reconstruct(ledger, conn, aggregate_id, horizon)
                        timings.append(time.perf_counter() - started)
                    p95 = _percentile(timings, 0.95) * 1000
                    self.figure(
                        Figure(
                            name=f"as-of reconstruction of {what}, as recorded at three quarters of the history",
                            value=p95,
                            unit="ms p95",
                            target="<= 10 ms",
                            met=p95 <= 10,
                            detail=f"{len(timings)} sampled; p50 {statistics.median(timings) * 1000:.2f} ms,"
                            f" max {max(timings) * 1000:.1f} ms",
                        )
                    )
        finally:
            ledger.close()

    def _register_bodies(self) -> Callable[[str, dict[str, str]], Callable[[int, int], Any]]:
        """The supplier registrations both the ledger and its HTTP baseline are sent, one per request."""
        run = uuid.uuid4().hex[:6].upper()

        def maker(path: str, headers: dict[str, str]) -> Callable[[int, int], tuple[str, str, bytes, dict[str, str]]]:
            def register(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
                body = {
                    "name": f"Bench Supplier {n}-{i}",
                    "legal_identifier": f"B{run}{n:02d}{i:06d}",
                    "organisation_type": "voluntary",
                    "is_small": True,
                }
                return "POST", path, json.dumps(body).encode(), headers

            return register

        return maker

    def http_baseline(self) -> float:
        """The HTTP stack's own limit: the same gunicorn settings and clients, one INSERT+COMMIT a request."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            http_baseline.create_table(conn)
        try:
            with Server(self.url, self.settings.data_dir, app="tools.http_baseline:app") as server:
                headers = {"Content-Type": "application/json"}
                result = Load(server, self.clients, seconds=10).run(self._register_bodies()("/baseline", headers))
        finally:
            with psycopg.connect(self.url, autocommit=True) as conn:
                http_baseline.drop_table(conn)
        self.say(
            f"  HTTP stack's own limit x{self.clients}: {result['per_second']:,.0f}/s"
            f" (p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, {result['failures']} failures)"
        )
        return float(result["per_second"])

    def commands(self, server: Server, insert_rate: float, http_rate: float) -> None:
        token = self.token("authority", "hmpps-commercial")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        before = _head(self.url)
        result = Load(server, self.clients, seconds=10).run(self._register_bodies()("/suppliers", headers))
        committed = _head(self.url) - before
        rate = result["per_second"]
        self.figure(
            Figure(
                name=f"one command through the API under gunicorn ({self.clients} clients), events committed",
                value=rate,
                unit="commands/s",
                baseline=f"the HTTP stack's own limit: a Falcon route under the same gunicorn doing one INSERT+COMMIT,"
                f" {self.clients} clients",
                baseline_value=http_rate,
                ratio=rate / http_rate,
                target=">= 0.8",
                met=rate / http_rate >= 0.8,
                detail=f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; {committed:,} events committed;"
                f" {result['failures']} failures; {rate / insert_rate:.2f} of raw INSERT+COMMIT without HTTP"
                f" ({insert_rate:,.0f}/s)",
            )
        )

    def queries(self, server: Server) -> None:
        with psycopg.connect(self.url) as conn:
            supplier = conn.execute(
                "SELECT supplier_id FROM caseload_referrals GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()
            partner = conn.execute(
                "SELECT supplier_id FROM caseload_unpaid_work GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()
            commissioner = conn.execute("SELECT commissioner_id FROM catalogue_commissioners LIMIT 1").fetchone()
        assert supplier is not None and partner is not None and commissioner is not None
        auditor = {"Authorization": f"Bearer {self.token('finance_officer', 'hmpps-finance')}"}

        def caseworker(of: Any) -> dict[str, str]:
            return {
                "Authorization": f"Bearer {self.token('provider_caseworker', str(of))}",
                "X-Purpose": "benchmark",
            }

        endpoints = {
            "trivial indexed query (GET /commissioners/{id})": (f"/commissioners/{commissioner[0]}", auditor),
            "catalogue: eligibility for a lot in a region": (
                "/catalogue/eligibility?category=accommodation&area=region-j",
                auditor,
            ),
            "caseload: the provider with the most referrals": (
                f"/caseload?supplier_id={supplier[0]}",
                caseworker(supplier[0]),
            ),
            "caseload: the Unpaid Work partner with the most orders": (
                f"/caseload?supplier_id={partner[0]}",
                caseworker(partner[0]),
            ),
            "finance: spend by region": ("/finance/spend?group_by=region", auditor),
        }
        trivial: dict[str, Any] | None = None
        for name, (path, headers) in endpoints.items():
            result = Load(server, self.clients, self.query_seconds).run(
                lambda n, i, p=path, h=headers: ("GET", p, None, h)
            )
            trivial = trivial or result
            self.figure(
                Figure(
                    name=f"query under load: {name}",
                    value=result["p99_ms"],
                    unit="ms p99",
                    baseline="the trivial indexed query's req/s",
                    baseline_value=trivial["per_second"],
                    ratio=result["per_second"] / trivial["per_second"],
                    target="p99 <= 10 ms" if self.report.events >= 1_000_000 else "p99 <= 10 ms (at >= 1M events)",
                    met=result["p99_ms"] <= 10 if self.report.events >= 1_000_000 else None,
                    detail=f"p50 {result['p50_ms']:.1f} ms, {result['per_second']:,.0f} req/s,"
                    f" {result['failures']} failures, {self.clients} clients",
                )
            )


def machine() -> str:
    cores = os.cpu_count() or 0
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            memory = f" {int(f.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return f"{cores} cores{memory}, Python {sys.version.split()[0]}"


def run(
    server_url: str,
    sizes: list[int],
    settings: Settings,
    *,
    token: TokenIssuer,
    clients: int = 8,
    query_seconds: float = 10,
    reuse: bool = False,
    say: Progress = print,
) -> BenchReport:
    with psycopg.connect(server_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    report = BenchReport(
        started=datetime.now().astimezone(),
        machine=machine(),
        postgres=str(row[0]) if row else "?",
        concurrency=clients,
        sizes=[],
    )
    for size in sizes:
        say(f"size {size:,}")
        report.sizes.append(SizeBench(server_url, size, settings, clients, query_seconds, reuse, say, token).run())
    return report


def markdown(report: BenchReport) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Run {report.started:%Y-%m-%d %H:%M %Z} on {report.machine}; PostgreSQL {report.postgres};"
        f" {report.concurrency} concurrent clients where there is load. Every ratio divides the ledger's figure"
        " by a raw-PostgreSQL baseline measured in the same run, on the same server, with rows sampled from the"
        " same history.",
        "",
    ]
    for size in report.sizes:
        lines += [
            f"## {size.events:,} events (asked for {size.requested:,}; database `{size.database}`)",
            "",
            "| Figure | Value | Baseline | Ratio | Target | Met | Detail |",
            "| --- | ---: | ---: | ---: | --- | --- | --- |",
        ]
        for f in size.figures:
            baseline = f"{f.baseline_value:,.0f} ({f.baseline})" if f.baseline_value is not None else ""
            ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
            met = "" if f.met is None else ("yes" if f.met else "**no**")
            lines.append(
                f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | {ratio} | {f.target or ''} | {met} | {f.detail} |"
            )
        lines.append("")
    return "\n".join(lines)
