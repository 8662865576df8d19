"""Auditors' pages: the log, aggregates as of a moment, integrity and inclusion proofs, personal-data reads.

Every figure comes from a named operation run as the signed-in person (`PageCalls`); this module only reads the
forms, turns answers into what the pages show (names beside codes, GOV.UK dates) and renders them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import falcon
import msgspec

from api.errors import ProblemError
from api.operations import Operations
from api.web import format as fmt
from api.web.calls import FieldProblem, PageCalls
from api.web.identity import ROLE_NAMES
from api.web.render import render
from api.web.tables import csv_href, send_csv, wants_csv
from ledger import json_pointer
from ledger.roles import Role


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return [
        ("/app/audit/events", EventLog(operations)),
        ("/app/audit/events/{position}/proof", InclusionProofPage(operations)),
        ("/app/audit/aggregates/{aggregate_id}", AggregatePage(operations)),
        ("/app/audit/integrity", Integrity(operations)),
        (
            "/app/audit/verifications",
            IntegrityAction(operations, "audit.verify", "/app/audit/integrity?done=verified#last-verification"),
        ),
        (
            "/app/audit/checkpoints",
            IntegrityAction(operations, "audit.sign_checkpoint", "/app/audit/integrity?done=signed#checkpoints"),
        ),
        ("/app/audit/personal-data-reads", PersonalDataReads(operations)),
    ]


# -- words for codes ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def event_name(event_type: str) -> str:
    """ "ReferralMade" -> "Referral made", "BAFOInvited" -> "BAFO invited" (acronyms kept)."""
    words = _WORD.findall(event_type) or [event_type]
    shown = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    return " ".join(shown)[:1].upper() + " ".join(shown)[1:]


def role_name(role: str | None) -> str:
    if not role:
        return ""
    if role == "command_line":
        return "Command line (ledger verify)"
    try:
        return ROLE_NAMES.get(Role(role), fmt.humanise(role))
    except ValueError:
        return fmt.humanise(role)


def aggregate_kind(topic: str) -> str:
    """The aggregate an event's topic names: "ledger.cases.referrals:Referral.ReferralMade" -> "Referral"."""
    return topic.rpartition(":")[2].split(".")[0]


# -- reading the forms -------------------------------------------------------------------------------------------


@dataclass
class Form:
    """A GET form's fields as typed (to show them again), and the problems found in them."""

    params: Mapping[str, Any]
    problems: list[FieldProblem] = field(default_factory=list)

    def text(self, name: str) -> str:
        value = self.params.get(name)
        if isinstance(value, list):
            value = value[-1]
        return str(value or "").strip()

    def typed_date(self, name: str) -> dict[str, str]:
        return {part: self.text(f"{name}-{part}") for part in ("day", "month", "year")}

    def day(self, name: str, label: str) -> date | None:
        """A GOV.UK date input (name-day, name-month, name-year): None when left empty."""
        typed = self.typed_date(name)
        if not any(typed.values()):
            return None
        missing = [part for part in ("day", "month", "year") if not typed[part]]
        if missing:
            return self._refuse(name, f"{label} must include a {' and '.join(missing)}")
        digits = all(v.isascii() and v.isdigit() and len(v) <= 4 for v in typed.values())
        try:
            if not digits or len(typed["year"]) != 4:
                raise ValueError
            return date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
        except ValueError:
            return self._refuse(name, f"{label} must be a real date")

    def clock_time(self, name: str, label: str) -> time | None:
        """A time typed as 14:30 (24-hour, London time): None when left empty."""
        typed = self.text(name)
        if not typed:
            return None
        match = re.fullmatch(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])", typed)
        if not match:
            return self._refuse(name, f"{label} must be a time like 14:30")
        return time(int(match[1]), int(match[2]))

    def position(self, name: str, label: str, *, required: bool = False, low: int = 1) -> int | None:
        typed = self.text(name).replace(",", "")
        if not typed:
            return self._refuse(name, f"Enter the {label[:1].lower()}{label[1:]}") if required else None
        if not (typed.isascii() and typed.isdigit() and len(typed) < 20) or not low <= int(typed) < 2**63:
            return self._refuse(name, f"{label} must be a whole number, {low} or more")
        return int(typed)

    def uuid(self, name: str, label: str) -> str | None:
        typed = self.text(name)
        if not typed:
            return None
        try:
            return str(UUID(typed))
        except ValueError:
            return self._refuse(name, f"{label} must be an id like 3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f")

    def _refuse(self, name: str, message: str) -> None:
        self.problems.append(FieldProblem(name, message))
        return None


def london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=fmt.LONDON)


def day_start(day: date) -> str:
    """The first moment of a London day, as the API reads a moment."""
    return london(day, time.min).isoformat()


def next_day_start(day: date) -> str:
    return london(day + timedelta(days=1), time.min).isoformat()


def moment_of(form: Form, name: str, suffix: str = "") -> datetime | None:
    """A date and an optional time (`name`, `name-time`); with no time, the end of that London day ("as at 12 March"
    means all of it). `suffix` tells the moments of a form apart in messages: "Date to compare from"."""
    day = form.day(name, f"Date{suffix}")
    at = form.clock_time(f"{name}-time", f"Time{suffix}")
    if day is None:
        if at is not None:
            form._refuse(name, f"Enter the date{suffix}")
        return None
    return london(day, at if at is not None else time.max)


def ask(calls: PageCalls, form: Form, name: str, fields: Mapping[str, str], **kwargs: Any) -> Any:
    """A query whose parameters came from a form: a 422 becomes problems against the form's fields (None)."""
    try:
        return calls.query(name, **kwargs)
    except ProblemError as exc:
        if exc.status_code != 422:
            raise
        errors = exc.field_errors or []
        form.problems.extend(FieldProblem(fields.get(e.path), e.message) for e in errors)
        if not errors:
            form.problems.append(FieldProblem(None, exc.description or "Check what you entered"))
        return None


def show(req: falcon.Request, resp: falcon.Response, template: str, form: Form, **context: Any) -> None:
    """A page with a GET form: the problems found in what was typed (422) in the error summary and on their fields."""
    render(
        req,
        resp,
        template,
        status=422 if form.problems else 200,
        form=form,
        errors=form.problems,
        error_summary=form.problems or None,
        **context,
    )


def _with(params: Mapping[str, Any], **changes: Any) -> str:
    """A query string: these parameters, with some changed (None removes one)."""
    merged = {**{k: v for k, v in params.items() if k not in ("format", "table")}, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")}, doseq=True)


# -- the log -----------------------------------------------------------------------------------------------------

LOG_COLUMNS = (
    "position",
    "type",
    "aggregate_type",
    "aggregate_id",
    "version",
    "recorded_at",
    "effective_at",
    "actor_id",
    "actor_role",
    "organisation_id",
    "reason",
    "correlation_id",
    "causation_id",
)
# The API's parameter each form field fills (its problems are shown against the field).
LOG_FIELDS = {
    "type": "type",
    "actor": "actor",
    "organisation": "organisation",
    "aggregate": "aggregate",
    "since": "recorded-from",
    "until": "recorded-to",
    "effective_since": "effective-from",
    "effective_until": "effective-to",
}
DATE_FILTERS = (
    ("recorded-from", "Recorded on or after", "since", day_start),
    ("recorded-to", "Recorded on or before", "until", next_day_start),
    ("effective-from", "Effective on or after", "effective_since", day_start),
    ("effective-to", "Effective on or before", "effective_until", next_day_start),
)


def event_row(item: Any) -> dict[str, Any]:
    """One event of the log, as the page and its CSV show it."""
    return {
        "position": item.position,
        "type": item.type,
        "type_name": event_name(item.type),
        "aggregate_type": aggregate_kind(item.topic),
        "aggregate_name": event_name(aggregate_kind(item.topic)),
        "aggregate_id": str(item.aggregate_id),
        "version": item.version,
        "recorded_at": item.recorded_at,
        "effective_at": item.effective_at,
        "actor_id": item.actor_id,
        "actor_role": item.actor_role,
        "role_name": role_name(item.actor_role),
        "organisation_id": item.organisation_id,
        "reason": item.reason,
        "correlation_id": item.correlation_id,
        "causation_id": item.causation_id,
    }


class EventLog:
    """GET /app/audit/events: the log with each event's envelope, filtered, a page at a time by position."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = Form(req.params)
        query: dict[str, Any] = {
            "type": form.text("type"),
            "actor": form.text("actor"),
            "organisation": form.text("organisation"),
            "aggregate": form.uuid("aggregate", "Aggregate id"),
            "after": form.position("after", "The page's starting position", low=0),
            "limit": 50,
        }
        for name, label, parameter, bound in DATE_FILTERS:
            day = form.day(name, label)
            query[parameter] = bound(day) if day else None
        # The cursor is no field of the form: a bad one (a link edited by hand) is said, but links to nothing.
        form.problems = [FieldProblem(None, p.message) if p.field == "after" else p for p in form.problems]
        types = calls.query("audit.event_types").items
        page = ask(calls, form, "audit.events", LOG_FIELDS, query=query) if not form.problems else None
        rows = [event_row(item) for item in page.items] if page else []
        if wants_csv(req) and not form.problems:
            send_csv(resp, "event-log.csv", LOG_COLUMNS, rows)
            return
        filtered = any(value for key, value in query.items() if key not in ("after", "limit"))
        show(
            req,
            resp,
            "pages/audit/events.html",
            form,
            type_options=sorted(((t.type, event_name(t.type)) for t in types), key=lambda o: o[1]),
            rows=rows,
            filtered=filtered,
            first_page=not query["after"],
            next_href=f"?{_with(req.params, after=page.next_after)}" if page and page.next_after else None,
            first_href=f"?{_with(req.params, after=None)}",
            csv=csv_href(req),
        )


# -- one aggregate -----------------------------------------------------------------------------------------------

CLOCKS = (
    ("recorded", "As recorded: what the ledger knew then"),
    ("effective", "As effective: what had happened by then, whenever it was recorded"),
    ("position", "At a log position: the events up to and including it"),
)
CLOCK_PARAMETER = {"recorded": "as_recorded", "effective": "as_effective", "position": "at_position"}
CHANGE_COLUMNS = ("field", "change", "before", "after")


@dataclass(frozen=True)
class Bound:
    """A moment chosen on a clock: a time (recorded or effective) or a log position."""

    clock: str
    at: datetime | None = None
    position: int | None = None

    @property
    def value(self) -> str:
        return str(self.position) if self.clock == "position" else self.at.isoformat() if self.at else ""

    def words(self) -> str:
        """ "as recorded at 12 March 2026 at 9:00am", "at log position 2,104"."""
        if self.clock == "position":
            return f"at log position {self.position:,}"
        return f"as {self.clock} at {fmt.gov_time(self.at)}"

    def point(self) -> str:
        """ "12 March 2026 at 9:00am", "log position 2,104"."""
        return f"log position {self.position:,}" if self.clock == "position" else fmt.gov_time(self.at)


def chosen_bound(form: Form, clock_field: str, name: str, suffix: str = "", *, low: int = 1) -> Bound | None:
    """The moment a form names (`name`, `name-time`, `name-position`) on its chosen clock; None when the form asks
    for none, or has a problem with it."""
    clock = form.text(clock_field)
    if not clock:
        return None
    if clock not in CLOCK_PARAMETER:
        form._refuse(clock_field, "Select a clock")
        return None
    if clock == "position":
        position = form.position(f"{name}-position", f"Log position{suffix}", required=True, low=low)
        return Bound(clock, position=position) if position is not None else None
    before = len(form.problems)
    at = moment_of(form, name, suffix)
    if at is None and len(form.problems) == before:
        form._refuse(name, f"Enter the date{suffix}")
    return Bound(clock, at=at) if at is not None else None


def flatten(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any]]:
    """A state's leaf values, each with its JSON Pointer ("/details/area", as the ledger names a change)."""
    members = list(value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ())
    if not members:
        yield json_pointer.join(*at), value
        return
    for key, member in members:
        yield from flatten(member, (*at, key))


def shown_value(name: str, value: Any) -> dict[str, Any]:
    """A state's value as the page shows it: the name of an area or category beside its code, JSON otherwise."""
    last = name.rpartition("/")[2]
    if isinstance(value, str) and (last in ("area", "region") or last.endswith(("_area", "_region"))):
        return {"text": fmt.area_name(value), "code": value}
    if isinstance(value, str) and (last == "category" or last.endswith("_category")):
        return {"text": fmt.category_name(value), "code": value}
    return {"text": "None" if value is None else as_text(value), "code": None}


def as_text(value: Any) -> str | None:
    """A state's value as one cell: text as it is, anything else as its JSON (never a float in a CSV)."""
    return value if value is None or isinstance(value, str) else msgspec.json.encode(value).decode()


def state_rows(state: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"field": name, **shown_value(name, value)} for name, value in flatten(state or {})]


def timeline_item(event: Any) -> dict[str, Any]:
    """An event on the aggregate's timeline, with links to the state just after it and to what it changed."""
    after = {"clock": "position", "at-position": event.position}
    made = {"axis": "position", "from-position": event.position - 1, "to-position": event.position}
    return {
        **event_row(event),
        "payload": msgspec.json.format(bytes(event.payload), indent=2).decode(),
        "late": event.recorded_at != event.effective_at,
        "state_href": f"?{urlencode(after)}#state",
        "changes_href": f"?{urlencode(made)}#changes",
    }


class AggregatePage:
    """GET /app/audit/aggregates/{aggregate_id}: the timeline, the state now and at a chosen moment, and what
    changed between two moments (the ledger's own difference of the two rebuilt states)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        calls = PageCalls(self.operations, req)
        path = {"aggregate_id": aggregate_id}
        form = Form(req.params)
        as_of = chosen_bound(form, "clock", "at")
        start = chosen_bound(form, "axis", "from", " to compare from", low=0)
        end = chosen_bound(form, "axis", "to", " to compare to")
        now = calls.query("audit.aggregate", path=path)
        stream = calls.query("audit.aggregate_events", path=path)
        then = changes = None
        if as_of is not None and not form.problems:
            query = {CLOCK_PARAMETER[as_of.clock]: as_of.value}
            fields = {"as_recorded": "at", "as_effective": "at", "at_position": "at-position"}
            then = ask(calls, form, "audit.aggregate", fields, path=path, query=query)
        if start is not None and end is not None and not form.problems:
            query = {"axis": start.clock, "from": start.value, "to": end.value}
            suffix = "-position" if start.clock == "position" else ""
            fields = {"from": f"from{suffix}", "to": f"to{suffix}", "axis": "axis"}
            changes = ask(calls, form, "audit.aggregate_changes", fields, path=path, query=query)
        change_rows = [
            {"field": c.field, "change": c.change, "before": as_text(c.before), "after": as_text(c.after)}
            for c in (changes.changes if changes else [])
        ]
        if wants_csv(req, "changes") and changes is not None:
            send_csv(resp, f"changes-{aggregate_id}.csv", CHANGE_COLUMNS, change_rows)
            return
        show(
            req,
            resp,
            "pages/audit/aggregate.html",
            form,
            aggregate_id=aggregate_id,
            kind_name=event_name(now.type) if now.type else "Record",
            now=now,
            state_now=state_rows(now.state),
            timeline=[timeline_item(e) for e in reversed(stream.items)],
            clocks=CLOCKS,
            as_of=as_of,
            then=then,
            state_then=state_rows(then.state) if then else [],
            start=start,
            end=end,
            changes=changes,
            change_rows=[
                {
                    **row,
                    "before": shown_value(row["field"], row["before"]),
                    "after": shown_value(row["field"], row["after"]),
                }
                for row in change_rows
            ],
            csv=csv_href(req, "changes"),
        )


# -- integrity ---------------------------------------------------------------------------------------------------

CHECKPOINT_COLUMNS = ("tree_size", "root", "signed_at", "key_id", "signature")
VERIFICATION_COLUMNS = (
    "ran_at",
    "ran_by",
    "ran_by_role",
    "ok",
    "events",
    "leaves",
    "checkpoint_size",
    "uncovered",
    "root",
    "finding_kind",
    "first_bad_position",
    "detail",
    "seconds",
)


def verification_row(run: Any) -> dict[str, Any]:
    finding = run.finding
    return {
        "id": run.id,
        "ran_at": run.ran_at,
        "ran_by": run.ran_by,
        "ran_by_role": run.ran_by_role,
        "role_name": role_name(run.ran_by_role),
        "ok": run.ok,
        "events": run.events,
        "leaves": run.leaves,
        "checkpoint_size": run.checkpoint_size,
        "uncovered": run.uncovered,
        "root": run.root,
        "finding_kind": finding.kind if finding else None,
        "first_bad_position": finding.position if finding else None,
        "detail": finding.detail if finding else None,
        "seconds": Decimal(f"{run.seconds:.3f}"),  # a CSV cell takes no float
    }


def checkpoint_row(cp: Any) -> dict[str, Any]:
    return {
        "tree_size": cp.tree_size,
        "root": cp.root,
        "signed_at": cp.signed_at,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


class Integrity:
    """GET /app/audit/integrity: the signed checkpoints and their key, the last verification and the ones before,
    and the way to prove any event is in the log."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = Form(req.params)
        if "position" in req.params:
            position = form.position("position", "The event's position", required=True)
            if position is not None:
                raise falcon.HTTPSeeOther(f"/app/audit/events/{position}/proof")
        checkpoints = calls.query("audit.checkpoints", query={"limit": 20})
        runs = calls.query("audit.verifications", query={"limit": 20}).items
        checkpoint_rows = [checkpoint_row(cp) for cp in checkpoints.items]
        # The note other systems keep is served to anyone (no token); until one is signed there is none.
        signed_note = (
            calls.query("audit.checkpoint_note") if any(cp.note_signature for cp in checkpoints.items) else None
        )
        verification_rows = [verification_row(run) for run in runs]
        if wants_csv(req, "checkpoints"):
            send_csv(resp, "checkpoints.csv", CHECKPOINT_COLUMNS, checkpoint_rows)
            return
        if wants_csv(req, "verifications"):
            send_csv(resp, "verifications.csv", VERIFICATION_COLUMNS, verification_rows)
            return
        show(
            req,
            resp,
            "pages/audit/integrity.html",
            form,
            checkpoints=checkpoints,
            checkpoint_rows=checkpoint_rows,
            signed_note=signed_note,
            vkey=calls.query("audit.checkpoint_key").strip(),
            note_path=self.operations.route("audit.checkpoint_note")[1],
            key_path=self.operations.route("audit.checkpoint_key")[1],
            verification_rows=verification_rows,
            latest=verification_rows[0] if verification_rows else None,
            may_verify=calls.allowed("audit.verify"),
            may_sign=calls.allowed("audit.sign_checkpoint"),
            done=req.get_param("done"),
            checkpoints_csv=csv_href(req, "checkpoints"),
            verifications_csv=csv_href(req, "verifications"),
        )


def _back(form: Mapping[str, Any], default: str) -> str:
    """Where a form asked to go back to: a page of the audit section only."""
    target = str(form.get("next") or "")
    return target if target.startswith("/app/audit/") and "//" not in target else default


class IntegrityAction:
    """POST /app/audit/verifications (audit.verify: run verify now, the run recorded) or /app/audit/checkpoints
    (audit.sign_checkpoint: sign a checkpoint now), then back to the page that asked, saying what was done."""

    def __init__(self, operations: Operations, name: str, done: str) -> None:
        self.operations = operations
        self.name = name
        self.done = done

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPSeeOther("/app/audit/integrity")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        PageCalls(self.operations, req).command(self.name, None)
        raise falcon.HTTPSeeOther(_back(req.context.form, self.done))


# -- an inclusion proof ------------------------------------------------------------------------------------------

STEP_COLUMNS = ("step", "side", "sibling", "node")
# The fields of a leaf's data, in the order the ledger writes them (ledger.audit.log: the row a leaf covers).
LEAF_FIELDS = (
    "Position",
    "Aggregate",
    "Version",
    "Topic",
    "Recorded at",
    "Effective at",
    "Actor",
    "Role",
    "Organisation",
    "Correlation id",
    "Causation id",
    "Reason",
    "SHA-256 of the stored payload",
)


class InclusionProofPage:
    """GET /app/audit/events/{position}/proof: the proof that an event is in the log, every step of its check
    shown, and redone in the browser (inclusion-proof.js) from the values on the page alone."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, position: str) -> None:
        calls = PageCalls(self.operations, req)
        proof = calls.query("audit.inclusion_proof", path={"position": position})
        key = calls.query("audit.checkpoints", query={"limit": 1})
        event = None
        if calls.allowed("audit.events"):
            found = calls.query("audit.events", query={"after": proof.position - 1, "limit": 1}).items
            event = found[0] if found and found[0].position == proof.position else None
        steps = [
            {"step": number, "side": s.side, "sibling": s.sibling, "node": s.node}
            for number, s in enumerate(proof.steps, start=1)
        ]
        if wants_csv(req):
            send_csv(resp, f"inclusion-proof-{proof.position}.csv", STEP_COLUMNS, steps)
            return
        leaf = msgspec.json.decode(proof.leaf_data)
        withheld = event is not None and msgspec.json.decode(bytes(event.payload)).keys() == {"withheld"}
        render(
            req,
            resp,
            "pages/audit/proof.html",
            proof=proof,
            key=key,
            steps=steps,
            leaf_fields=list(zip(LEAF_FIELDS, leaf, strict=False)),
            event=event_row(event) if event else None,
            payload=bytes(event.payload).decode() if event and not withheld else None,
            withheld=withheld,
            # The checkpoint's time exactly as its signature covers it (the message's fourth line).
            signed_at=proof.signed_message.split("\n")[3] if proof.signed_message else None,
            may_sign=calls.allowed("audit.sign_checkpoint"),
            csv=csv_href(req),
        )


# -- personal-data reads -----------------------------------------------------------------------------------------

READ_COLUMNS = (
    "read_at",
    "actor_id",
    "actor_role",
    "organisation_id",
    "operation",
    "method",
    "path",
    "query",
    "subject_id",
    "purpose",
    "found",
    "request_id",
)
READ_FIELDS = {"actor_id": "actor", "subject_id": "subject", "since": "read-from", "until": "read-to"}


def read_row(read: Any) -> dict[str, Any]:
    return {
        "read_at": read.read_at,
        "actor_id": read.actor_id,
        "actor_role": read.actor_role,
        "role_name": role_name(read.actor_role),
        "organisation_id": read.organisation_id,
        "operation": read.operation,
        "method": read.method,
        "path": read.path,
        "query": read.query,
        "subject_id": str(read.subject_id) if read.subject_id else None,
        "purpose": read.purpose,
        "found": read.found,
        "request_id": read.request_id,
    }


class PersonalDataReads:
    """GET /app/audit/personal-data-reads: who read whose personal data (the record, never the data), when, through
    which operation and why."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = Form(req.params)
        read_from, read_to = form.day("read-from", "Read on or after"), form.day("read-to", "Read on or before")
        query = {
            "actor_id": form.text("actor"),
            "subject_id": form.uuid("subject", "The record's id"),
            "since": day_start(read_from) if read_from else None,
            "until": next_day_start(read_to) if read_to else None,
            "limit": 200,
        }
        reads = ask(calls, form, "audit.personal_data_reads", READ_FIELDS, query=query) if not form.problems else None
        rows = [read_row(r) for r in reads.items] if reads else []
        if wants_csv(req) and not form.problems:
            send_csv(resp, "personal-data-reads.csv", READ_COLUMNS, rows)
            return
        show(
            req,
            resp,
            "pages/audit/reads.html",
            form,
            rows=rows,
            more=reads.more if reads else False,
            filtered=any(v for k, v in query.items() if k != "limit"),
            csv=csv_href(req),
        )
