"""The caseload's queries: a cut's counts and lists (keyset pages), a referral, an Unpaid Work order, a group."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from ledger.cases import unpaid_work
from ledger.cases.programmes import RULES as PROGRAMME_RULES
from ledger.cases.programmes import GroupMode
from ledger.cases.referrals import AttendanceNotes, Identity, ReferralPersonalData
from ledger.personal_data import KeyRing, Revealer, Sealed, load_sealed
from projections import pages
from projections.base import fetch_pipelined, fetch_rows
from projections.caseload.handlers import TOTALS, UNPAID_WORK_TOTALS
from projections.caseload.models import (
    Caseload,
    CaseloadFilter,
    CaseloadList,
    NotificationPage,
    PendingNotification,
    ProgrammeGroupLine,
    ProgrammeGroupRecord,
    ReferralLine,
    ReferralList,
    ReferralPage,
    ReferralRecord,
    UnpaidWorkLine,
    UnpaidWorkList,
    UnpaidWorkOrderRecord,
    UnpaidWorkPage,
    UnpaidWorkSummary,
)
from projections.pages import Listing
from projections.sql import Where

_TOTAL_TYPES = {"hours_worked": "numeric"}  # the others are whole numbers (a sum of integers is numeric)
_REFERRAL_COLUMNS = (
    "r.referral_id AS id, r.reference_number, r.erased, r.category, r.complexity, r.status, r.supplier_id,"
    " r.caseworker_id, r.practitioner_id, r.region, r.received_at, r.first_appointment_at, r.sessions_planned,"
    " r.sessions_attended, r.end_state"
)
# The person behind each row of a page (sealed: revealed only for those allowed to read it).
_WITH_PERSONAL = "SELECT x.*, p.personal FROM ({page}) x LEFT JOIN caseload_people p ON p.record_id = x.id"
# An order's flags, for the day asked about, and the hours worked in each week: for a page's orders only.
# Each takes the day asked about as its parameter.
_STARTED_LATE = "u.completed_on IS NULL AND coalesce(u.first_session_on, %s) >= u.start_late_from"
_AT_RISK = "u.completed_on IS NULL AND u.at_risk_from <= %s"
_ORDER_COLUMNS = (
    "u.order_id, u.hours_ordered, u.hours_worked, u.training_hours, u.allocated_on, u.complete_by, u.completed_on,"
    f" u.stand_downs, u.weekly_minimum_hours, u.first_session_on, u.erased, {_STARTED_LATE} AS started_late,"
    f" {_AT_RISK} AS at_risk"
)
_ORDER_PAGE = (
    "SELECT x.*, p.personal, w.weeks, w.week_hours FROM ({page}) x"
    " LEFT JOIN caseload_people p ON p.record_id = x.order_id"
    " LEFT JOIN LATERAL (SELECT array_agg(week ORDER BY week) AS weeks,"
    " array_agg(hours ORDER BY week) AS week_hours FROM (SELECT date_trunc('week', s.worked_on)::date AS week,"
    " sum(s.hours) AS hours FROM caseload_unpaid_work_sessions s WHERE s.order_id = x.order_id GROUP BY 1) weekly)"
    " w ON true"
)


# A group below its programme's minimum size (the domain's number for each programme), counting its current
# participants; a fixed group everyone has left is over, not short.
_BELOW_MINIMUM = (
    "g.participants < CASE g.programme "
    + " ".join("WHEN %s THEN %s" for _ in PROGRAMME_RULES)
    + f" END AND NOT (g.mode = '{GroupMode.FIXED}' AND g.participants = 0 AND g.completed + g.withdrawn > 0)"
)
_MINIMUM_GROUPS = [value for p, rules in PROGRAMME_RULES.items() for value in (str(p), rules.min_group)]


def _rate(numerator: int, denominator: int) -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001")) if denominator else None


def referrals_of(cut: CaseloadFilter) -> Where:
    """The cut's referrals (`r`): each filter given is a column of the referral."""
    return (
        Where()
        .given(cut.supplier_id, "r.supplier_id = %s")
        .given(cut.caseworker_id, "r.caseworker_id = %s")
        .given(cut.practitioner_id, "r.practitioner_id = %s")
        .given(cut.region, "r.region = %s")
        .given(cut.contract_id, "r.contract_id = %s")
    )


def _held_under_contracts(cut: CaseloadFilter, table: str) -> Where:
    """Unpaid Work orders or programme groups (`table`) filtered like referrals: their region is their contract's,
    and none is held by one caseworker or practitioner."""
    return (
        Where(empty_is_absent=True)
        .given(cut.supplier_id, f"{table}.supplier_id = %s")
        .given(cut.contract_id, f"{table}.contract_id = %s")
        .given(
            cut.region,
            f"EXISTS (SELECT 1 FROM catalogue_contracts k WHERE k.contract_id = {table}.contract_id"
            " AND %s = ANY(k.regions))",
        )
        .given(cut.caseworker_id or cut.practitioner_id, "false")
    )


def _referrals(where: Where, *, descending: bool = False) -> Listing:
    return Listing(
        source="caseload_referrals r",
        where=where,
        key="r.received_at",
        ident="r.referral_id",
        columns=_REFERRAL_COLUMNS,
        key_type=datetime,
        decorate=_WITH_PERSONAL,
        descending=descending,
    )


def _orders(where: Where, today: date, *, key: str, descending: bool = False) -> Listing:
    return Listing(
        source="caseload_unpaid_work u",
        where=where,
        key=key,
        ident="u.order_id",
        columns=_ORDER_COLUMNS,
        column_params=[today, today],
        key_type=date,
        decorate=_ORDER_PAGE,
        descending=descending,
    )


def caseload_list(cut: CaseloadFilter, name: CaseloadList, now: datetime, waiting_days: int) -> Listing:
    """One list of the cut's caseload, the longest waiting first (at risk: the nearest deadline first)."""
    today = now.date()
    match name:
        case CaseloadList.UNASSIGNED:
            return _referrals(referrals_of(cut).add("r.status <> 'concluded' AND r.caseworker_id IS NULL"))
        case CaseloadList.WAITING_FOR_FIRST_APPOINTMENT:
            return _referrals(
                referrals_of(cut).add(
                    "r.status <> 'concluded' AND r.received_at < %s"
                    " AND (r.first_appointment_at IS NULL OR r.first_appointment_at - r.received_at > %s)",
                    now - timedelta(days=waiting_days),
                    timedelta(days=waiting_days),
                )
            )
        case CaseloadList.NOTIFICATIONS_PENDING:
            waiting = (
                Where()
                .add("a.notify AND NOT a.acknowledged")
                .given(cut.supplier_id, "a.supplier_id = %s")  # the provider's own pending notifications (their index)
            )
            return Listing(
                # From the few notifications waiting, to their referrals (not from every referral of the cut).
                source="caseload_appointments a JOIN caseload_referrals r ON r.referral_id = a.referral_id",
                where=waiting & referrals_of(cut),
                key="a.starts_at",
                ident="a.appointment_id",
                columns="r.referral_id, r.reference_number, a.appointment_id, a.starts_at AS session_at,"
                " a.status AS attendance, a.absence, r.practitioner_id, r.erased",
                key_type=datetime,
                # The sealed notes are wide: fetched for the page's rows only, not sorted with every candidate.
                decorate="SELECT x.*, n.notes FROM ({page}) x JOIN caseload_appointments n USING (appointment_id)",
            )
        case CaseloadList.UNPAID_WORK_AT_RISK:
            return _orders(_held_under_contracts(cut, "u").add(_AT_RISK, today), today, key="u.complete_by")
        case CaseloadList.UNPAID_WORK_STARTED_LATE:
            return _orders(_held_under_contracts(cut, "u").add(_STARTED_LATE, today), today, key="u.allocated_on")
    raise ValueError(name)  # pragma: no cover - the match is exhaustive


def list_referrals(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    keys: KeyRing,
    *,
    status: str | None = None,
    after: str | None = None,
    limit: int = 200,
) -> ReferralList:
    """The cut's referrals, the most recently received first."""
    by_status = referrals_of(cut).given(status or None, "r.status = %s")  # an empty ?status= asks for any
    listing = _referrals(by_status, descending=True)
    rows, next_after = pages.cut(fetch_rows(conn, *listing.page(_cursor(listing, after), limit)), limit)
    return ReferralList(
        items=_referral_lines(rows, keys.revealer(load_sealed(r["personal"]) for r in rows)), next_after=next_after
    )


def unpaid_work_orders(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    today: date,
    keys: KeyRing,
    *,
    after: str | None = None,
    limit: int = 100,
) -> UnpaidWorkList:
    """The cut's Unpaid Work orders, the most recently allocated first."""
    listing = _orders(_held_under_contracts(cut, "u"), today, key="u.allocated_on", descending=True)
    rows, next_after = pages.cut(fetch_rows(conn, *listing.page(_cursor(listing, after), limit)), limit)
    reveal = keys.revealer(load_sealed(r["personal"]) for r in rows)
    return UnpaidWorkList(items=_unpaid_work_lines(rows, today, reveal), next_after=next_after)


def _cursor(listing: Listing, after: str | None) -> pages.Cursor | None:
    return None if after is None else pages.Cursor.parse(after, listing.key_type)


def _sealed(name: CaseloadList, rows: list[dict[str, Any]]) -> list[Sealed | None]:
    column = "notes" if name is CaseloadList.NOTIFICATIONS_PENDING else "personal"
    return [load_sealed(row[column]) for row in rows]


def _page(
    name: CaseloadList, total: int, rows: list[dict[str, Any]], after: str | None, reveal: Revealer, today: date
) -> ReferralPage | NotificationPage | UnpaidWorkPage:
    match name:
        case CaseloadList.NOTIFICATIONS_PENDING:
            return NotificationPage(total=total, items=_notifications(rows, reveal), next_after=after)
        case CaseloadList.UNPAID_WORK_AT_RISK | CaseloadList.UNPAID_WORK_STARTED_LATE:
            return UnpaidWorkPage(total=total, items=_unpaid_work_lines(rows, today, reveal), next_after=after)
    return ReferralPage(total=total, items=_referral_lines(rows, reveal), next_after=after)


def _pages(
    found: dict[CaseloadList, tuple[list[dict[str, Any]], list[dict[str, Any]]]], limit: int, keys: KeyRing, today: date
) -> dict[CaseloadList, ReferralPage | NotificationPage | UnpaidWorkPage]:
    """Each list's page from its count and its rows, with the keys for every page fetched in one query."""
    cuts = {name: pages.cut(rows, limit) for name, (_, rows) in found.items()}
    reveal = keys.revealer([sealed for name, (rows, _) in cuts.items() for sealed in _sealed(name, rows)])
    return {name: _page(name, found[name][0][0]["n"], *cuts[name], reveal, today) for name in found}


def read_list(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    name: CaseloadList,
    now: datetime,
    keys: KeyRing,
    *,
    waiting_days: int = 10,
    after: str | None = None,
    limit: int = 50,
) -> ReferralPage | NotificationPage | UnpaidWorkPage:
    """A page of one list of the cut's caseload, with the list's total."""
    listing = caseload_list(cut, name, now, waiting_days)
    counted, rows = fetch_pipelined(conn, [listing.count(), listing.page(_cursor(listing, after), limit)])
    return _pages({name: (counted, rows)}, limit, keys, now.date())[name]


def _referral_lines(rows: list[dict[str, Any]], reveal: Revealer) -> list[ReferralLine]:
    lines = []
    for row in rows:
        personal = reveal(load_sealed(row.pop("personal")), ReferralPersonalData)
        row["crn"] = personal.crn if personal else None
        row["person_name"] = f"{personal.person.given_name} {personal.person.family_name}" if personal else None
        row["erased"] = row["erased"] or personal is None
        lines.append(msgspec.convert(row, ReferralLine))
    return lines


def _notifications(rows: list[dict[str, Any]], reveal: Revealer) -> list[PendingNotification]:
    for row in rows:
        notes = reveal(load_sealed(row.pop("notes")), AttendanceNotes)
        row["concerns"] = notes.concerns if notes else None
    return [msgspec.convert(row, PendingNotification) for row in rows]


def _unpaid_work_lines(rows: list[dict[str, Any]], today: date, reveal: Revealer) -> list[UnpaidWorkLine]:
    lines = []
    for row in rows:
        identity = reveal(load_sealed(row.pop("personal")), Identity)
        weeks = dict(zip(row.pop("weeks") or (), row.pop("week_hours") or (), strict=True))
        row["weeks_below_minimum"] = (
            0
            if row["completed_on"]
            else unpaid_work.weeks_below_minimum(row["first_session_on"], weeks, row["weekly_minimum_hours"], today)
        )
        row["crn"] = identity.crn if identity else None
        row["erased"] = row["erased"] or identity is None
        lines.append(msgspec.convert(row, UnpaidWorkLine))
    return lines


def _status_counts(cut: CaseloadFilter) -> tuple[str, list[Any]]:
    """The cut's referrals counted by status, with their sessions, endings and outcomes.

    From the running totals when the cut is a provider, contract or region (however long their history); a
    caseworker's or practitioner's own caseload is small enough to count directly.
    """
    referrals = referrals_of(cut)
    if cut.caseworker_id is None and cut.practitioner_id is None:
        sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in TOTALS[1:])
        return (
            f"SELECT status, sum(referrals) AS n, {sums} FROM caseload_totals r WHERE {referrals.sql} GROUP BY status",
            referrals.params,
        )
    return (
        "SELECT status, count(*) AS n, coalesce(sum(sessions_attended), 0) AS attended,"
        " coalesce(sum(sessions_recorded), 0) AS recorded,"
        " count(*) FILTER (WHERE end_state = 'completed') AS completed,"
        " count(*) FILTER (WHERE end_state = 'ended_early') AS ended_early,"
        " count(*) FILTER (WHERE end_state = 'cancelled') AS cancelled,"
        " coalesce(sum(outcomes_achieved), 0) AS achieved, coalesce(sum(outcomes_rated), 0) AS rated"
        f" FROM caseload_referrals r WHERE {referrals.sql} GROUP BY status",
        referrals.params,
    )


def _unpaid_work_totals(cut: CaseloadFilter) -> tuple[str, list[Any]]:
    """Every order of the cut, summed from the running totals of its providers and contracts."""
    orders = _held_under_contracts(cut, "u")
    sums = ", ".join(f"coalesce(sum({c}), 0)::{_TOTAL_TYPES.get(c, 'bigint')} AS {c}" for c in UNPAID_WORK_TOTALS)
    return f"SELECT {sums} FROM caseload_unpaid_work_totals u WHERE {orders.sql}", orders.params


def _groups_below_minimum(cut: CaseloadFilter) -> tuple[str, list[Any]]:
    small = _held_under_contracts(cut, "g").add(_BELOW_MINIMUM, *_MINIMUM_GROUPS)
    return (
        "SELECT group_id, programme, name, participants, sessions_scheduled FROM caseload_programme_groups g"
        f" WHERE {small.sql} ORDER BY name",
        small.params,
    )


def caseload(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    now: datetime,
    keys: KeyRing,
    *,
    waiting_days: int = 10,
    limit: int = 20,
) -> Caseload:
    """The cut's counts and the first `limit` of each of its lists, in two round trips (and one for keys)."""
    lists = {name: caseload_list(cut, name, now, waiting_days) for name in CaseloadList}
    # Every query goes out at once (one round trip's wait, not thirteen), then one query for the keys.
    groups, upw_totals, small_groups, *found = fetch_pipelined(
        conn,
        [
            _status_counts(cut),
            _unpaid_work_totals(cut),
            _groups_below_minimum(cut),
            *(query for listing in lists.values() for query in (listing.count(), listing.page(None, limit))),
        ],
    )
    read = _pages({name: (found[2 * i], found[2 * i + 1]) for i, name in enumerate(lists)}, limit, keys, now.date())
    totals = {k: sum(g[k] for g in groups) for k in TOTALS[1:]}
    return Caseload(
        as_of=now,
        by_status={g["status"]: g["n"] for g in groups if g["n"]},
        unassigned=read[CaseloadList.UNASSIGNED],
        waiting_for_first_appointment=read[CaseloadList.WAITING_FOR_FIRST_APPOINTMENT],
        waiting_days=waiting_days,
        attendance_rate=_rate(totals["attended"], totals["recorded"]),
        notifications_pending=read[CaseloadList.NOTIFICATIONS_PENDING],
        completed=totals["completed"],
        ended_early=totals["ended_early"],
        cancelled=totals["cancelled"],
        outcome_achievement_rate=_rate(totals["achieved"], totals["rated"]),
        unpaid_work=UnpaidWorkSummary(
            **upw_totals[0],
            at_risk=read[CaseloadList.UNPAID_WORK_AT_RISK],
            started_late=read[CaseloadList.UNPAID_WORK_STARTED_LATE],
        ),
        programme_groups_below_minimum=[msgspec.convert(r, ProgrammeGroupLine) for r in small_groups],
    )


def get_referral(conn: psycopg.Connection[Any], referral_id: UUID, keys: KeyRing) -> ReferralRecord | None:
    rows = fetch_rows(
        conn,
        "SELECT r.*, r.referral_id AS id, p.personal FROM caseload_referrals r"
        " LEFT JOIN caseload_people p ON p.record_id = r.referral_id WHERE r.referral_id = %s",
        (referral_id,),
    )
    if not rows:
        return None
    row = rows[0]
    row["assignments"] = fetch_rows(
        conn,
        "SELECT caseworker_id, previous_caseworker_id, assigned_at, assigned_by FROM caseload_assignments"
        " WHERE referral_id = %s ORDER BY position",
        (referral_id,),
    )
    appointments = fetch_rows(
        conn, "SELECT * FROM caseload_appointments WHERE referral_id = %s ORDER BY starts_at", (referral_id,)
    )
    notes = [load_sealed(a.pop("notes")) for a in appointments]
    sealed = load_sealed(row.pop("personal"))
    reveal = keys.revealer([sealed, *notes])
    personal = reveal(sealed, ReferralPersonalData)
    row.update(
        crn=personal.crn if personal else None,
        person_name=f"{personal.person.given_name} {personal.person.family_name}" if personal else None,
        person=personal.person if personal else None,
        needs_and_accessibility=personal.needs_and_accessibility if personal else None,
        risk_summary=personal.risk_summary if personal else None,
        erased=row["erased"] or personal is None,
    )
    for appointment, value in zip(appointments, notes, strict=True):
        opened = reveal(value, AttendanceNotes)
        appointment["behaviour"] = opened.behaviour if opened else None
        appointment["concerns"] = opened.concerns if opened else None
    row["appointments"] = appointments
    return msgspec.convert(row, ReferralRecord, strict=False)


def get_programme_group(conn: psycopg.Connection[Any], group_id: UUID, keys: KeyRing) -> ProgrammeGroupRecord | None:
    groups, people, places = fetch_pipelined(
        conn,
        [
            (
                "SELECT group_id AS id, programme, contract_id, supplier_id, name, mode, facilitator_id,"
                " participants AS current, completed, withdrawn, sessions_scheduled, first_session_on, version"
                " FROM caseload_programme_groups WHERE group_id = %s",
                (group_id,),
            ),
            (
                "SELECT p.subject_id, p.status, p.joined_at, p.left_on, p.end_reason, p.personal,"
                " count(a.number) AS sessions_booked,"
                " count(a.number) FILTER (WHERE a.attendance IN ('attended', 'late')) AS sessions_attended,"
                " count(a.number) FILTER (WHERE a.attendance = 'did_not_attend') AS sessions_missed"
                " FROM caseload_programme_participants p LEFT JOIN caseload_programme_attendance a"
                " ON a.group_id = p.group_id AND a.subject_id = p.subject_id WHERE p.group_id = %s"
                " GROUP BY p.group_id, p.subject_id ORDER BY p.position",
                (group_id,),
            ),
            (
                "SELECT s.number, s.kind, s.held_on AS on, a.subject_id, a.attendance, a.absence"
                " FROM caseload_programme_sessions s JOIN caseload_programme_attendance a USING (group_id, number)"
                " WHERE s.group_id = %s ORDER BY s.number, a.subject_id",
                (group_id,),
            ),
        ],
    )
    if not groups:
        return None
    sealed, reveal = revealed(people, keys)
    for person, value in zip(people, sealed, strict=True):
        identity = reveal(value, Identity)
        person["crn"] = identity.crn if identity else None
        person["erased"] = identity is None
    sessions: dict[int, dict[str, Any]] = {}
    for place in places:
        number = place.pop("number")
        line = sessions.setdefault(number, {"number": number, "kind": place.pop("kind"), "on": place.pop("on")})
        line.setdefault("participants", []).append({k: place[k] for k in ("subject_id", "attendance", "absence")})
    return msgspec.convert(
        {**groups[0], "participants": people, "sessions": list(sessions.values())}, ProgrammeGroupRecord, strict=False
    )


def get_unpaid_work_order(
    conn: psycopg.Connection[Any], order_id: UUID, today: date, keys: KeyRing
) -> UnpaidWorkOrderRecord | None:
    rows = fetch_rows(
        conn,
        _ORDER_PAGE.format(
            page=f"SELECT {_ORDER_COLUMNS}, u.contract_id, u.supplier_id, u.employed, u.inducted_on, u.version"
            " FROM caseload_unpaid_work u WHERE u.order_id = %s"
        ),
        [today, today, order_id],
    )
    if not rows:
        return None
    owned = {
        k: rows[0][k] for k in ("contract_id", "supplier_id", "employed", "inducted_on", "first_session_on", "version")
    }
    (line,) = _unpaid_work_lines(rows, today, keys.revealer(load_sealed(r["personal"]) for r in rows))
    return UnpaidWorkOrderRecord(**msgspec.structs.asdict(line), **owned)


def revealed(rows: list[dict[str, Any]], keys: KeyRing, column: str = "personal") -> tuple[list[Any], Revealer]:
    """The sealed values of a column (popped from the rows), and the keys to open them, fetched at once."""
    sealed = [load_sealed(row.pop(column)) for row in rows]
    return sealed, keys.revealer(sealed)
