"""Events are stored as msgspec JSON and come back exactly: Decimal, UUID, date, aware datetime, enums."""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.aggregate import LedgerAggregate
from ledger.codec import EventMapper
from ledger.envelope import Actor, make_envelope, stamping
from ledger.errors import ProgrammingError
from ledger.store import Ledger

ACTOR = Actor(id="codec-tester", role="administrator", organisation_id="hmpps")


class Band(enum.StrEnum):
    LOW = "LOW"
    HIGH = "HIGH"


class Ledgerline(LedgerAggregate):
    """A test aggregate whose one event carries every awkward type."""

    @event("LineRecorded")
    def __init__(
        self,
        amount: Decimal,
        reference: UUID,
        due: date,
        at: datetime,
        band: Band,
        note: str | None = None,
    ) -> None:
        self.amount, self.reference, self.due, self.at, self.band, self.note = (
            amount,
            reference,
            due,
            at,
            band,
            note,
        )


class Reading(LedgerAggregate):
    """Version 2 of this event split `value` into `amount` + `unit`; v1 rows are upcast on read."""

    class ReadingTaken(LedgerAggregate.Created):
        class_version = 2
        amount: Decimal
        unit: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            number, _, unit = str(state.pop("value")).partition(" ")
            state["amount"] = number
            state["unit"] = unit or "GBP"

    @event(ReadingTaken)
    def __init__(self, amount: Decimal, unit: str) -> None:
        self.amount, self.unit = amount, unit


def test_every_type_round_trips_through_the_database(ledger: Ledger) -> None:
    original = dict(
        amount=Decimal("1234.50"),
        reference=uuid4(),
        due=date(2027, 3, 31),
        at=datetime(2026, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        band=Band.HIGH,
    )
    recorded = ledger.execute(make_envelope(ACTOR), lambda: Ledgerline(**original))
    ledger.repository.cache = None
    line = ledger.load(Ledgerline, recorded.aggregate_id)
    assert line.amount == Decimal("1234.50") and str(line.amount) == "1234.50"
    assert line.reference == original["reference"] and isinstance(line.reference, UUID)
    assert line.due == date(2027, 3, 31) and type(line.due) is date
    assert line.at == original["at"] and line.at.utcoffset() == timedelta(hours=1)
    assert line.band is Band.HIGH
    assert line.note is None


def test_stored_payload_is_readable_json_with_money_as_a_string(ledger: Ledger, database_url: str) -> None:
    recorded = ledger.execute(
        make_envelope(ACTOR),
        lambda: Ledgerline(
            amount=Decimal("0.10"),
            reference=uuid4(),
            due=date(2026, 1, 1),
            at=datetime.now(UTC),
            band=Band.LOW,
        ),
    )
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT convert_from(state, 'UTF8') FROM ledger_events WHERE notification_id = %s",
            (recorded.position,),
        ).fetchone()
    payload = json.loads(row[0])
    assert payload["amount"] == "0.10"
    assert payload["band"] == "LOW"
    assert payload["envelope"]["actor_id"] == "codec-tester"


# JSON keeps the UTC offset, not a zone name: an aware datetime round-trips as the same instant
# with the same offset. The ledger itself only ever writes UTC.
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    offsets,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12),
    due=st.dates(),
    at=aware_datetimes,
    band=st.sampled_from(Band),
    note=st.none() | st.text(max_size=50),
)
def test_mapper_round_trip_is_exact(amount: Decimal, due: date, at: datetime, band: Band, note: str | None) -> None:
    mapper = EventMapper()
    with stamping(make_envelope(ACTOR)):
        line = Ledgerline(amount=amount, reference=uuid4(), due=due, at=at, band=band, note=note)
    (created,) = line.collect_events()
    decoded = mapper.to_domain_event(mapper.to_stored_event(created))
    assert type(decoded) is type(created)
    assert str(decoded.amount) == str(amount)
    assert decoded.due == due
    assert decoded.at == at and decoded.at.utcoffset() == at.utcoffset()
    assert decoded.band is band
    assert decoded.note == note
    assert decoded.envelope == created.envelope


def test_an_old_version_row_is_upcast_when_read(ledger: Ledger, database_url: str) -> None:
    aggregate_id = uuid4()
    v1_state = {
        "timestamp": "2021-06-28T09:00:00Z",
        "originator_topic": "tests.test_codec:Reading",
        "value": "12.75 GBP",
        "envelope": {
            "actor_id": "legacy-import",
            "actor_role": "administrator",
            "organisation_id": None,
            "correlation_id": "legacy",
            "causation_id": None,
            "recorded_at": "2021-06-28T09:00:00Z",
            "effective_at": "2021-06-28T09:00:00Z",
            "reason": None,
        },
    }
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state, recorded_at, effective_at,"
            " actor_id, actor_role, correlation_id) VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s)",
            (
                aggregate_id,
                "tests.test_codec:Reading.ReadingTaken",
                json.dumps(v1_state).encode(),
                datetime(2021, 6, 28, 9, tzinfo=UTC),
                datetime(2021, 6, 28, 9, tzinfo=UTC),
                "legacy-import",
                "administrator",
                "legacy",
            ),
        )
    reading = ledger.load(Reading, aggregate_id)
    assert reading.amount == Decimal("12.75")
    assert reading.unit == "GBP"


def test_new_events_are_written_at_the_current_class_version(ledger: Ledger, database_url: str) -> None:
    recorded = ledger.execute(make_envelope(ACTOR), lambda: Reading(amount=Decimal("3.00"), unit="GBP"))
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT convert_from(state, 'UTF8') FROM ledger_events WHERE notification_id = %s",
            (recorded.position,),
        ).fetchone()
    assert json.loads(row[0])["class_version"] == 2
    assert ledger.load(Reading, recorded.aggregate_id).amount == Decimal("3.00")


def test_an_event_cannot_be_triggered_without_an_envelope() -> None:
    with pytest.raises(ProgrammingError, match="envelope"):
        Reading(amount=Decimal("1"), unit="GBP")
