"""`ledger migrate` applies what is missing, once, under an advisory lock, and refuses edited history."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest
from falcon import testing

from api.app import create_app
from ledger.migrate import MIGRATIONS_DIR, MigrationError, available, migrate


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_migrate_creates_every_table_and_rerunning_is_a_no_op(make_database) -> None:
    url = make_database(migrated=False)
    applied = migrate(url)
    assert applied == [m.name for m in available()]
    assert {"ledger_events", "schema_migrations", "projection_positions", "catalogue_suppliers"} <= tables(url)
    assert migrate(url) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(applied)


def test_concurrent_migrations_apply_each_file_once(make_database) -> None:
    url = make_database(migrated=False)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(url))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(len(r) for r in results) == [0, 0, len(available())]


def test_a_migration_edited_after_it_was_applied_is_refused(make_database, tmp_path: Path) -> None:
    url = make_database(migrated=False)
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    migrate(url, directory)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an edit\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(url, directory)


def test_a_new_migration_file_is_applied_on_the_next_run(make_database, tmp_path: Path) -> None:
    url = make_database(migrated=False)
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    migrate(url, directory)
    (directory / "9999_extra_table.sql").write_text("CREATE TABLE extra_table (id int);")
    assert migrate(url, directory) == ["9999_extra_table.sql"]
    assert "extra_table" in tables(url)


def test_readiness_is_503_until_migrations_are_at_head(make_database, settings) -> None:
    url = make_database(migrated=False)
    app = create_app(settings, database_url=url)
    client = testing.TestClient(app)
    try:
        before = client.simulate_get("/health/ready")
        assert before.status_code == 503
        assert before.json["database"] is True and before.json["migrations_at_head"] is False
        migrate(url)
        after = client.simulate_get("/health/ready")
        assert after.status_code == 200
        assert after.json == {
            "status": "ready",
            "database": True,
            "migrations_at_head": True,
            "projection_lag": 0,
            "head_position": 0,
            "views": [],  # no worker has registered a view yet
            "relay_lag": None,  # no relay has run
        }
    finally:
        app.services.close()


def test_readiness_is_503_when_the_database_is_unreachable(settings) -> None:
    app = create_app(settings, database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        result = testing.TestClient(app).simulate_get("/health/ready")
        assert result.status_code == 503
        assert result.json["database"] is False
    finally:
        app.services.close()
