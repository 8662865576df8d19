"""The whole publication written to a directory (`ledger ocds export DIR`): every release package page, every
process's record package, and the releases flattened to CSV by flattentool (offline: from the data alone)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from projections.publication import ocds, queries

PAGE = 1000


def export(
    conn: psycopg.Connection[Any],
    prefix: str,
    base_url: str,
    directory: Path,
    now: datetime,
    progress: Callable[[str, int, int], None] = lambda step, done, total: None,
) -> dict[str, int]:
    """Write the publication under `directory`; answer how many files of each kind were written."""
    releases_dir, records_dir, csv_dir = (
        directory / "release-packages",
        directory / "record-packages",
        directory / "csv",
    )
    for folder in (releases_dir, records_dir, csv_dir):
        folder.mkdir(parents=True, exist_ok=True)
    total = conn.execute("SELECT count(*) FROM publication_releases").fetchone()
    count = int(total[0] if isinstance(total, tuple) else next(iter(total.values())))
    written, after, pages, everything = 0, 0, 0, []
    while True:
        releases, last = queries.release_page(conn, prefix, after=after, limit=PAGE)
        if last is None:
            break
        pages += 1
        uri = f"{base_url}/ocds/release-packages?cursor={after}&limit={PAGE}"
        package = ocds.release_package(uri, now, releases, None)
        (releases_dir / f"{pages:05d}.json").write_bytes(ocds.encode(package))
        everything += releases
        written += len(releases)
        after = last
        progress("release packages", written, count)
    processes = queries.processes(conn)
    for done, process in enumerate(processes, start=1):
        process_ocid = ocds.ocid(prefix, process)
        package = ocds.record_package(
            f"{base_url}/ocds/record-packages/{process_ocid}",
            now,
            process_ocid,
            queries.process_releases(conn, prefix, process),
        )
        (records_dir / f"{process_ocid}.json").write_bytes(ocds.encode(package))
        progress("record packages", done, len(processes))
    whole = directory / "releases.json"
    whole.write_bytes(ocds.encode(ocds.release_package(f"{base_url}/ocds/release-packages", now, everything, None)))
    _flatten(whole, csv_dir)
    progress("CSV", 1, 1)
    return {"release_packages": pages, "record_packages": len(processes), "releases": written}


def _flatten(package: Path, out: Path) -> None:
    """One CSV per array of the releases (releases.csv, then parties, awards, contracts, ...), from the data."""
    import flattentool

    if not json.loads(package.read_text())["releases"]:
        return
    flattentool.flatten(
        str(package),
        output_name=str(out),
        output_format="csv",
        root_list_path="releases",
        main_sheet_name="releases",
        root_id="ocid",
    )
