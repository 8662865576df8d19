"""The `ledger` command: migrate, seed, serve, worker, relay, token, events, demo, checkpoint, vkey, verify, rebuild,
foi.

It lives beside the HTTP API because, like it, it is an entry point that drives the ledger and
the projections from outside.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from ledger.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _url(settings: Settings) -> str:
    from ledger.database import resolve_database_url

    return resolve_database_url(settings)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.migrate import migrate

    applied = migrate(_url(settings))
    _console().print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else " (at head)"))
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.framework.reference import seed
    from ledger.store import Ledger

    ledger = Ledger(_url(settings), master_key=settings.personal_data_master_key)
    try:
        report = seed(ledger)
    finally:
        ledger.close()
    for name, count in report.defined.items():
        _console().print(f"{name}: {count} recorded")
    _console().print(f"reference data at position {report.position}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from projections.runner import ProjectionRunner, all_views

    views = all_views()
    unknown = sorted(set(args.view or ()) - {v.name for v in views})
    if unknown:
        _console().print(f"[red]no such view:[/red] {', '.join(unknown)} (views: {', '.join(v.name for v in views)})")
        return 2
    chosen = [v for v in views if not args.view or v.name in args.view]
    url = _url(settings)
    # Each view is led by one worker at a time (an advisory lock per view): extra workers stand by.
    runner = ProjectionRunner(url, chosen, batch_size=settings.projection_batch_size, lead=True)
    names = ", ".join(v.name for v in chosen)

    def stop(signum: int, frame: object) -> None:
        logging.getLogger("ledger.worker").info("signal %s: stopping after the current batch", signum)
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.once:
        try:
            applied = runner.catch_up()
            led = {v.name for v in runner.led_views()}
        finally:
            runner.close()
        _console().print(f"applied {applied} event(s)")
        others = [v.name for v in chosen if v.name not in led]
        if others:
            _console().print(f"led by another worker, left to it: {', '.join(others)}")
        return 0
    logging.getLogger("ledger.worker").info("projection worker started for %s", names)
    from datetime import timedelta

    from api.scheduler import Scheduler
    from ledger.audit.log import Signer
    from ledger.store import Ledger
    from projections.leadership import SCHEDULER_POST, Leadership

    ledger = Ledger(url, pool_size=1, master_key=settings.personal_data_master_key)
    every = settings.checkpoint_interval_seconds
    scheduler = Scheduler(
        url,
        ledger,
        signer=Signer.from_file(settings.checkpoint_key_path(), settings.checkpoint_origin) if every else None,
        checkpoint_every=timedelta(seconds=every) if every else None,
        leadership=Leadership(url, [SCHEDULER_POST]),
    )
    try:
        runner.run_forever(on_idle=scheduler)
    finally:
        scheduler.close()
        ledger.close()
    return 0


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg
    from rich.progress import Progress

    from ledger.audit.log import Signer, checkpoint, note_text

    signer = Signer.from_file(settings.checkpoint_key_path(), settings.checkpoint_origin)
    with psycopg.connect(_url(settings), autocommit=True) as conn, Progress(console=_console(), transient=True) as bar:
        task = bar.add_task("extending the Merkle log", total=None)
        cp = checkpoint(conn, signer, progress=lambda n: bar.update(task, completed=n))
    if not args.note:
        print(msgspec_json(cp))
        return 0
    text = note_text(cp)
    if text is None:
        _console().print(f"[red]checkpoint {cp.tree_size} was signed before notes were:[/red] sign after new events")
        return 1
    sys.stdout.write(text)
    return 0


def cmd_vkey(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.audit.log import Signer

    print(Signer.from_file(settings.checkpoint_key_path(), settings.checkpoint_origin).vkey())
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg
    from rich.progress import Progress

    from ledger.audit import note
    from ledger.audit.log import Signer, verify_and_record

    signer = Signer.from_file(settings.checkpoint_key_path(), settings.checkpoint_origin)
    try:
        verifier = note.Verifier.parse(args.vkey or signer.vkey())
        outside = [note.parse(Path(name).read_text(encoding="utf-8")) for name in args.checkpoint or ()]
    except (OSError, UnicodeDecodeError, note.NoteRefused) as exc:
        _console().print(f"[red]cannot read the checkpoints given:[/red] {exc}")
        return 2
    with psycopg.connect(_url(settings), autocommit=True) as conn, Progress(console=_console(), transient=True) as bar:
        task = bar.add_task("verifying the log", total=None)
        # Recorded like a run from the pages (audit.verify), so that "when was the log last verified" has one answer.
        result = verify_and_record(
            conn,
            signer.public_key,
            ran_by=getpass.getuser(),
            ran_by_role="command_line",
            now=datetime.now(UTC),
            progress=lambda n: bar.update(task, completed=n),
            outside=outside,
            verifier=verifier,
        )
    print(msgspec_json(result))
    for name, check in zip(args.checkpoint or (), result.outside, strict=True):
        if check.finding is None:
            _console().print(f"[green]consistent[/green] with {name} (checkpoint {check.tree_size})", soft_wrap=True)
        else:
            _console().print(f"[red]{check.finding.kind}: {name}:[/red] {check.finding.detail}", soft_wrap=True)
    if result.uncovered:
        _console().print(f"{result.uncovered} event(s) not yet covered by any signed checkpoint", soft_wrap=True)
    if not result.ok:
        if result.finding is not None and not result.outside:
            _console().print(
                f"[red]{result.finding.kind} at position {result.finding.position}:[/red] {result.finding.detail}"
            )
        return 1
    _console().print(f"[green]verified[/green] {result.events} events; root {result.root}")
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress
    from rich.table import Table

    from projections.rebuild import rebuild
    from projections.runner import all_views

    views = all_views()
    unknown = sorted(set(args.view or ()) - {v.name for v in views})
    if unknown:
        _console().print(f"[red]no such view:[/red] {', '.join(unknown)} (views: {', '.join(v.name for v in views)})")
        return 2
    chosen = [v for v in views if not args.view or v.name in args.view]
    with Progress(console=_console(), transient=True) as bar:
        task = bar.add_task("replaying the log", total=None)
        reports = rebuild(
            _url(settings),
            chosen,
            switch=args.switch,
            keep=args.keep,
            progress=lambda done, total: bar.update(task, completed=done, total=total or None),
        )
    if args.json:
        print(msgspec_json(reports))
    else:
        summary = Table(title="rebuild from position 0")
        for column in ("view", "position", "built by", "rebuilt with", "rows", "differences", "switched"):
            summary.add_column(column)
        for r in reports:
            differences = sum(t.only_live + t.only_rebuilt + t.changed for t in r.tables)
            summary.add_row(
                r.view,
                str(r.position),
                r.built_by,
                r.rebuilt_with,
                str(sum(t.rebuilt_rows for t in r.tables)),
                "[green]none[/green]" if r.identical else f"[red]{differences}[/red]",
                "yes" if r.switched else "no",
            )
        _console().print(summary)
        for r in reports:
            for t in r.tables:
                if not t.identical:
                    _console().print(
                        f"[red]{t.table}[/red]: {t.only_live} only live, {t.only_rebuilt} only rebuilt,"
                        f" {t.changed} changed"
                    )
                    for sample in t.samples:
                        _console().print(f"  {sample}")
        if reports:
            _console().print(f"{reports[-1].events} events replayed in {reports[-1].seconds:.1f}s")
    return 0 if all(r.identical or r.switched for r in reports) else 1


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import issue_development_token
    from tools import bench

    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        _console().print(f"[red]--sizes takes whole numbers separated by commas, not {args.sizes!r}[/red]")
        return 2
    report = bench.run(
        _url(settings),
        sizes,
        settings,
        token=lambda role, org: issue_development_token(
            settings, role=role, org=org, subject="bench", ttl_seconds=7200
        ),
        clients=args.clients,
        query_seconds=args.query_seconds,
        reuse=args.reuse,
        say=lambda line: _console().print(line),
    )
    out = Path(args.out)
    out.with_suffix(".json").write_bytes(msgspec.json.format(msgspec.json.encode(report), indent=2))
    out.with_suffix(".md").write_text(bench.markdown(report))
    _console().print(f"report written to {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    missed = [f.name for size in report.sizes for f in size.figures if f.met is False]
    for name in missed:
        _console().print(f"[yellow]target not met:[/yellow] {name}")
    return 0


def msgspec_json(value: Any) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import issue_development_token

    try:
        token = issue_development_token(
            settings,
            role=args.role,
            org=args.org,
            subject=args.sub,
            ttl_seconds=args.ttl,
            privileges=tuple(args.privilege or ()),
        )
    except ValueError as exc:
        _console().print(f"[red]{exc}[/red]")
        return 2
    print(token)
    return 0


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from ledger.history import EventFilter, page

    query = EventFilter(
        type=args.type,
        actor=args.actor,
        organisation=args.org,
        aggregate=args.aggregate,
        since=args.since,
        until=args.until,
        effective_since=args.effective_since,
        effective_until=args.effective_until,
    )
    after = args.after
    with psycopg.connect(_url(settings), autocommit=True) as conn:
        while True:
            rows = page(conn, query, after=after, limit=args.limit)
            if args.json:
                for row in rows:
                    print(row.to_json())
            elif rows:
                _print_events(rows)
            if rows:
                after = rows[-1].position
            if not args.follow:
                return 0
            time.sleep(1.0)


def _print_events(rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in (
        "pos",
        "recorded",
        "effective",
        "type",
        "aggregate",
        "v",
        "actor",
        "role",
        "org",
        "correlation",
        "reason",
    ):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.position),
            r.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.effective_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.type,
            str(r.aggregate_id)[:8],
            str(r.version),
            r.actor_id,
            r.actor_role,
            r.organisation_id or "",
            r.correlation_id[:13],
            r.reason or "",
        )
    Console().print(table)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ledger.bulk import BulkLedger
    from ledger.migrate import migrate
    from tools.demo import load_demo
    from tools.scenarios import DemoRefused

    url = _url(settings)
    migrate(url)
    years, scale = getattr(args, "years", None), getattr(args, "scale", None)
    national = years is not None or scale is not None
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[events]:,} events"))
    with Progress(*columns, TimeElapsedColumn(), console=_console(), transient=True) as bar:
        task = bar.add_task("generating the national history" if national else "loading the demo", total=None, events=0)
        ledger = BulkLedger(
            url, master_key=settings.personal_data_master_key, on_flush=lambda n: bar.update(task, events=n)
        )
        try:
            if national:
                from tools.national import GenerationReport, generate

                generated: GenerationReport = generate(
                    ledger,
                    years=years or 1,
                    scale=scale if scale is not None else 1.0,
                    seed=args.seed,
                    progress=lambda day, days: bar.update(task, completed=day, total=days),
                )
            else:
                report = load_demo(ledger, progress=lambda done, total: bar.update(task, completed=done, total=total))
        except DemoRefused as exc:
            _console().print(f"[red]demo not loaded:[/red] {exc}")
            return 1
        finally:
            ledger.close()
    if national:
        print(msgspec_json(generated))
        return 0 if not generated.refused else 1
    if report.commands:
        _console().print(f"demo: {report.commands} commands recorded")
    else:
        _console().print("demo: already loaded, nothing recorded")
    return 0


def cmd_relay(args: argparse.Namespace, settings: Settings) -> int:
    from projections.published.relay import Relay

    if not settings.broker_url:
        # The Procfile's `relay:` process stays off, quietly, rather than failing and being restarted for ever.
        _console().print("BROKER_URL is not set: the relay stays off (consumers read GET /events/feed)")
        if not args.once:
            stopped = threading.Event()
            signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
            signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
            stopped.wait()
        return 0
    relay = Relay(
        _url(settings),
        settings.broker_url,
        exchange=settings.broker_exchange,
        source=settings.event_source,
        batch_size=settings.relay_batch_size,
    )

    def stop(signum: int, frame: object) -> None:
        logging.getLogger("ledger.relay").info("signal %s: stopping after the current message", signum)
        relay.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.once:
        try:
            published = relay.catch_up()
        finally:
            relay.close()
        _console().print(f"published {published} message(s) to {settings.broker_exchange}")
        return 0
    logging.getLogger("ledger.relay").info("relay started for exchange %s", settings.broker_exchange)
    relay.run_forever()
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.migrate import migrate

    url = _url(settings)
    migrate(url)
    if args.demo:
        cmd_demo(args, settings)  # a ledger with real events is served as it is, without the demo
    cmd_seed(args, settings)
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(args.port or settings.port)}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "api.app:app"],
        env=env,
        cwd=ROOT,
    )
    if settings.projection_workers == "per-view":
        from projections.runner import all_views

        workers = [
            subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--view", view.name], env=env, cwd=ROOT)
            for view in all_views()
        ]
    else:
        workers = [subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, cwd=ROOT)]
    if settings.broker_url:
        workers.append(subprocess.Popen([sys.executable, "-m", "api.cli", "relay"], env=env, cwd=ROOT))
    children = (web, *workers)
    _console().print(f"serving on http://127.0.0.1:{env['PORT']} (docs at /docs); Ctrl-C stops")

    def forward(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while all(child.poll() is None for child in children):
        time.sleep(0.2)
    forward(signal.SIGTERM, None)
    codes = [child.wait(timeout=30) for child in children]
    return max(0, *codes)


def _moment(value: str, *, lower_bound: bool = False) -> datetime:
    """A moment as the API reads one: RFC 3339 with an offset, or a date (its end; its start as a lower bound)."""
    from ledger.history import parse_moment

    try:
        return parse_moment(value, lower_bound=lower_bound)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _since(value: str) -> datetime:
    return _moment(value, lower_bound=True)


def cmd_foi_record(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg
    from rich.progress import Progress

    from api import foi_documents
    from ledger.audit import decisions
    from ledger.errors import NotFound
    from ledger.history import Horizon
    from ledger.store import Ledger

    horizon = Horizon(recorded_by=args.as_recorded, effective_by=args.as_effective, position=args.at_position)
    url = _url(settings)
    ledger = Ledger(url, pool_size=1, master_key=settings.personal_data_master_key)
    try:
        with psycopg.connect(url, autocommit=True) as conn, Progress(console=_console(), transient=True) as bar:
            task = bar.add_task("reading the record's events", total=None)
            if args.subject == "call-off":
                record: Any = decisions.call_off_record(
                    ledger,
                    conn,
                    args.id,
                    horizon,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
                render = foi_documents.call_off_record_html
            else:
                record = decisions.qualification_record(ledger, conn, args.id, horizon)
                render = foi_documents.qualification_record_html
    except NotFound as exc:
        _console().print(f"[red]{exc}[/red]")
        return 1
    finally:
        ledger.close()
    print(render(decisions.as_document(record)) if args.html else msgspec_json(record))
    return 0


def cmd_foi_requests(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    from ledger.audit import foi
    from ledger.store import Ledger

    ledger = Ledger(_url(settings), pool_size=1, master_key=settings.personal_data_master_key)
    try:
        with _console().status("reading the requests"):
            rows = foi.list_requests(ledger, ledger.now().date())
    finally:
        ledger.close()
    if args.json:
        for row in rows:
            print(msgspec_json(row))
        return 0
    table = Table(title="FOI requests (working days: England and Wales)")
    for column in ("reference", "received", "status", "due", "working days left", "responded", "outcome", "late"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            r.reference,
            r.received_on.isoformat(),
            r.status,
            r.due_on.isoformat() if r.due_on else "clock stopped" if r.responded_on is None else "",
            "" if r.working_days_left is None else str(r.working_days_left),
            r.responded_on.isoformat() if r.responded_on else "",
            r.outcome or "",
            "" if r.late is None else "late" if r.late else "on time",
            style="red" if r.overdue else None,
        )
    Console().print(table)
    return 0


def cmd_foi_disclosure(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec
    import psycopg

    from api import foi_documents
    from ledger.audit import foi
    from ledger.errors import NotFound, RuleViolation
    from ledger.store import Ledger

    url = _url(settings)
    ledger = Ledger(url, pool_size=1, master_key=settings.personal_data_master_key)
    try:
        with psycopg.connect(url, autocommit=True) as conn, _console().status("rebuilding the disclosure"):
            disclosed = foi.disclosure(ledger, conn, args.request_id)
    except (NotFound, RuleViolation) as exc:
        _console().print(f"[red]{exc}[/red]")
        return 1
    finally:
        ledger.close()
    data = foi.disclosure_bytes(disclosed)
    if args.html:
        print(foi_documents.disclosure_html(msgspec.json.decode(data)))
    else:
        # Exactly the bytes the API serves, whose SHA-256 the response records.
        sys.stdout.buffer.write(data + b"\n")
    return 0


def cmd_ocds_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the whole OCDS publication to a directory, with progress (ADR 32)."""
    import psycopg
    from psycopg.rows import tuple_row
    from rich.progress import Progress

    from projections.publication.export import export

    with (
        psycopg.connect(_url(settings), autocommit=True, row_factory=tuple_row) as conn,
        Progress(console=_console(), transient=True) as bar,
    ):
        tasks: dict[str, Any] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        written = export(
            conn, settings.ocds_ocid_prefix, settings.ocds_base_url, args.directory, datetime.now(UTC), progress
        )
    _console().print(
        f"{written['releases']} releases in {written['release_packages']} release packages, "
        f"{written['record_packages']} record packages and CSV written to {args.directory}"
    )
    return 0


def _foi_parser(sub: Any) -> None:
    foi = sub.add_parser("foi", help="Freedom of Information: decision records, requests and disclosures")
    commands = foi.add_subparsers(dest="foi_command", required=True, metavar="FOI_COMMAND")
    p = commands.add_parser("record", help="print a call-off's decision record or a supplier's qualification record")
    p.add_argument("subject", choices=("call-off", "supplier"), help="whose record")
    p.add_argument("id", type=UUID, help="the call-off's or the supplier's id")
    p.add_argument("--html", action="store_true", help="a readable HTML document instead of JSON")
    p.add_argument("--as-recorded", type=_moment, help="only what the ledger knew then (RFC 3339, or a date)")
    p.add_argument("--as-effective", type=_moment, help="only what had happened by then (RFC 3339, or a date)")
    p.add_argument("--at-position", type=int, help="only events at or before this log position")
    p.set_defaults(func=cmd_foi_record)
    p = commands.add_parser("requests", help="every FOI request with its due date; overdue ones in red")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_foi_requests)
    p = commands.add_parser("disclosure", help="print a request's disclosure (withheld values replaced by markers)")
    p.add_argument("request_id", type=UUID, help="the FOI request's id")
    p.add_argument("--html", action="store_true", help="a readable HTML document instead of JSON")
    p.set_defaults(func=cmd_foi_disclosure)


def _ocds_parser(sub: Any) -> None:
    ocds = sub.add_parser("ocds", help="the public OCDS publication of the dynamic market and its call-offs")
    commands = ocds.add_subparsers(dest="ocds_command", required=True, metavar="OCDS_COMMAND")
    p = commands.add_parser("export", help="write every release package, record package and a CSV flattening")
    p.add_argument("directory", type=Path, help="where to write (created if absent)")
    p.set_defaults(func=cmd_ocds_export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger",
        description="Event-sourced ledger for the Probation Services Dynamic Framework. "
        "Uses DATABASE_URL, or an embedded PostgreSQL in LEDGER_DATA_DIR (.ledger) when it is unset.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="apply pending migrations (a no-op at head)").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="record the framework's reference data (idempotent)").set_defaults(func=cmd_seed)

    p = sub.add_parser(
        "worker",
        help="run the projection worker until SIGTERM",
        description="Apply the log to the views. Each view has one leader at a time (a PostgreSQL advisory lock"
        " per view): run one worker per view with --view, or several for the same views as standbys.",
    )
    p.add_argument("--once", action="store_true", help="catch up once and exit")
    p.add_argument("--view", action="append", help="only this view (repeatable; default: every view)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "relay",
        help="publish the domain events to the message broker (BROKER_URL) until SIGTERM",
        description="Publish the log's public events and signed checkpoints, as CloudEvents, to the topic exchange"
        " BROKER_EXCHANGE on BROKER_URL, from the relay's own position, with publisher confirms. One relay leads an"
        " exchange at a time (a PostgreSQL advisory lock); others stand by.",
    )
    p.add_argument("--once", action="store_true", help="publish everything recorded so far and exit")
    p.set_defaults(func=cmd_relay)

    p = sub.add_parser("serve", help="migrate, seed, then run the web server and the worker together")
    p.add_argument("--port", type=int, help="port to listen on (default: PORT or 8000)")
    p.add_argument("--demo", action="store_true", help="also load the demo data before serving")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="print a development bearer token (HS256, local secret)")
    p.add_argument("--role", required=True, help="authority, commissioner, supplier_bid_manager, ...")
    p.add_argument("--org", help="the organisation the token acts for")
    p.add_argument("--sub", help="the actor id (default: generated)")
    p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    p.add_argument("--privilege", action="append", help="a privilege, e.g. personal_data (repeatable)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("events", help="page through (or tail) the event log with each event's envelope")
    p.add_argument("--type", help="event type, e.g. SupplierRegistered")
    p.add_argument("--actor", help="actor id")
    p.add_argument("--org", help="organisation id")
    p.add_argument("--aggregate", type=UUID, help="aggregate id")
    p.add_argument("--since", type=_since, help="recorded at or after (RFC 3339, or a date: from its start)")
    p.add_argument("--until", type=_moment, help="recorded before (RFC 3339, or a date: to its end)")
    p.add_argument("--effective-since", type=_since, help="effective at or after (RFC 3339, or a date)")
    p.add_argument("--effective-until", type=_moment, help="effective before (RFC 3339, or a date)")
    p.add_argument("--after", type=int, default=0, help="start after this position")
    p.add_argument("--limit", type=int, default=100, help="events per page (default 100)")
    p.add_argument("--follow", action="store_true", help="keep printing new events")
    p.add_argument("--json", action="store_true", help="one JSON object per line, payload included")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser(
        "demo",
        help="load the small demo (idempotent), or with --years/--scale generate a national history",
        description="Without options: a small, realistic demo (2021 to today). With --years N --scale S: N years of"
        " national history from the framework's launch at S times national volumes (1.0 is about 2.3M events a"
        " year), deterministic for a --seed, through the domain's rules on the batched append path.",
    )
    p.add_argument("--years", type=int, help="years of history from June 2021 (national generator)")
    p.add_argument("--scale", type=float, help="fraction of national volumes, e.g. 0.1 (national generator)")
    p.add_argument("--seed", type=int, default=2021, help="the generator's seed (default 2021)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("checkpoint", help="extend the Merkle log and sign a checkpoint of its root")
    p.add_argument("--note", action="store_true", help="print it as a C2SP checkpoint note (what outsiders keep)")
    p.set_defaults(func=cmd_checkpoint)
    sub.add_parser("vkey", help="print the verifier key of the checkpoint notes").set_defaults(func=cmd_vkey)
    p = sub.add_parser(
        "verify",
        help="recompute the Merkle log from the raw events; report the first tampered position",
        description="Recompute the Merkle log from the raw events and compare it with the log's tables and their"
        " latest signed checkpoint; report the events no checkpoint covers yet. With --checkpoint, also prove the"
        " events consistent with checkpoint notes kept outside the database (fails on truncation, rewriting, or"
        " the log's own tables deleted).",
    )
    p.add_argument(
        "--checkpoint", nargs="+", metavar="FILE", help="checkpoint notes kept elsewhere (GET /audit/checkpoint)"
    )
    p.add_argument("--vkey", help="the verifier key to check them with (default: this ledger's, `ledger vkey`)")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser(
        "bench",
        help="measure the ledger beside raw PostgreSQL at several sizes; write a Markdown and JSON report",
        description="For each size, generate a national history into its own database (ledger_bench_SIZE) and"
        " measure commands through the API under gunicorn, bulk import, projection catch-up and rebuild, queries"
        " under load, as-of reconstruction and verify, each beside its raw-PostgreSQL baseline.",
    )
    p.add_argument("--sizes", default="100000,1000000,5000000", help="events per size, comma-separated")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients for the load figures (8)")
    p.add_argument("--query-seconds", type=float, default=10.0, help="seconds of load per query endpoint (10)")
    p.add_argument("--reuse", action="store_true", help="reuse a generated database of the size if there is one")
    p.add_argument("--out", default="bench-report", help="report path without suffix (bench-report)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "rebuild", help="replay views from position 0 beside the live ones, compare row by row, optionally switch"
    )
    p.add_argument("--view", action="append", help="only this view (repeatable; default: every view)")
    p.add_argument("--switch", action="store_true", help="put the rebuilt rows live (in one transaction)")
    p.add_argument("--keep", action="store_true", help="keep the rebuilt tables in schema ledger_rebuild")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_rebuild)
    _foi_parser(sub)
    _ocds_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args, Settings.from_env()) or 0)


if __name__ == "__main__":
    sys.exit(main())
