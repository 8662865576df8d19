"""With no DATABASE_URL, `ledger serve` starts the embedded PostgreSQL and serves the whole slice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.embedded
def test_serve_without_database_url_uses_the_embedded_server(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "ledger-data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(LEDGER_DATA_DIR=str(data_dir), PORT=str(port), WEB_CONCURRENCY="1", ACCESS_LOG="0")
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--demo"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, _ = http("GET", f"{base}/health/ready")
            except (urllib.error.URLError, ConnectionError, OSError):
                status = 0
            time.sleep(0.5)
        assert status == 200, (tmp_path / "serve.log").read_text()
        assert (data_dir / "pgdata" / "PG_VERSION").exists()

        token = subprocess.run(
            [sys.executable, "-m", "api.cli", "token", "--role", "authority", "--org", "hmpps-commercial"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        created_status, created = http(
            "POST",
            f"{base}/suppliers",
            {
                "name": "Embedded Trust",
                "legal_identifier": "EMB001",
                "organisation_type": "voluntary",
                "is_small": True,
            },
            token,
        )
        assert created_status == 201, created
        read_status, read = http(
            "GET", f"{base}/suppliers/{created['id']}?min_position={created['position']}", token=token
        )
        assert read_status == 200 and read["name"] == "Embedded Trust"
        demo_status, listing = http("GET", f"{base}/suppliers?limit=100", token=token)
        assert demo_status == 200 and created["id"] in {s["id"] for s in listing["items"]}
        assert len(listing["items"]) > 20  # the demo's suppliers too
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()
