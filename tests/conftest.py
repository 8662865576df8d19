"""Fixtures: a fresh PostgreSQL database per test session (and per test where asked), never a mock."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from falcon import testing
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import create_app
from api.auth import issue_development_token
from ledger.config import Settings
from ledger.framework.reference import seed
from ledger.migrate import migrate
from ledger.store import Ledger
from projections.runner import ProjectionRunner
from tests.market import Market


def pytest_configure(config: pytest.Config) -> None:
    """Keys and secrets the code generates in development go to a temporary directory, never the checkout."""
    os.environ.setdefault("LEDGER_DATA_DIR", tempfile.mkdtemp(prefix="ledger-test-data-"))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The PostgreSQL server the tests use: DATABASE_URL, or the embedded one when it is unset."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from ledger import embedded

    # Shared by every xdist worker of the run: the embedded module joins a running server.
    data_dir = Path(os.environ.get("LEDGER_TEST_DATA_DIR", "/tmp/ledger-test-embedded"))
    return embedded.start(data_dir)


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh, migrated databases; every one is dropped at the end of the session."""
    created: list[str] = []

    def create(*, migrated: bool = True) -> str:
        name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = _with_dbname(server_url, name)
        if migrated:
            migrate(url)
        return url

    yield create
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(make_database: Callable[..., str]) -> str:
    """The session's shared database: migrated and seeded."""
    url = make_database()
    ledger = Ledger(url)
    seed(ledger)
    ledger.close()
    return url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("ledger-data")
    return replace(
        Settings.from_env(),
        data_dir=data_dir,
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        read_wait_seconds=3.0,
        max_body_bytes=64 * 1024,
        # Every test module runs its own app, worker and browser-served site beside the session's: small pools keep
        # two xdist workers well inside PostgreSQL's 100 connections.
        pool_size=2,
    )


@pytest.fixture(scope="session")
def worker(database_url: str) -> Iterator[ProjectionRunner]:
    """The projection worker, running in a thread for the whole session, as `ledger worker` would."""
    runner = ProjectionRunner(database_url, batch_size=200)
    thread = threading.Thread(target=runner.run_forever, kwargs={"poll_seconds": 0.2}, daemon=True)
    thread.start()
    yield runner
    runner.stop()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def app(database_url: str, settings: Settings, worker: ProjectionRunner) -> Iterator[Any]:
    application = create_app(settings, database_url=database_url)
    yield application
    application.services.close()


@pytest.fixture(scope="session")
def client(app: Any) -> testing.TestClient:
    return testing.TestClient(app)


@pytest.fixture(scope="session")
def ledger(app: Any) -> Ledger:
    return app.services.ledger


@pytest.fixture(scope="session")
def token(settings: Settings) -> Callable[..., str]:
    def make(role: str = "authority", org: str | None = "hmpps-commercial", sub: str | None = None) -> str:
        return issue_development_token(settings, role=role, org=org, subject=sub)

    return make


@pytest.fixture(scope="session")
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(
        role: str = "authority", org: str | None = "hmpps-commercial", sub: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, org, sub)}"}

    return headers


@pytest.fixture(scope="module")
def market(make_database: Callable[[], str], settings: Settings) -> Iterator[Market]:
    """A market of its own for each test module: a fresh database, the API in process, a projection worker."""
    m = Market(make_database(), settings)
    yield m
    m.close()
