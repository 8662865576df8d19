"""Domain events for other systems: the pull feed of the published stream, CloudEvents in batches (ADR 34)."""

from __future__ import annotations

from typing import Any

from api.errors import invalid
from api.openapi import Param
from api.specs import Query, QueryContext, Route, route
from projections.published import stream

TAGS = ("events",)

CLOUD_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "A CloudEvents 1.0 message in JSON structured mode. `data` follows the schema of its `type`,"
    " published in the AsyncAPI document at /asyncapi.json.",
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "description": "Stable per event: `<aggregate id>/<version>`, or `checkpoint/<size>`"},
        "source": {"type": "string"},
        "type": {"type": "string", "description": "uk.gov.justice.probation-ledger.<aggregate>.<event>.v1"},
        "subject": {"type": "string", "description": "The aggregate the event belongs to"},
        "time": {"type": "string", "format": "date-time", "description": "When the ledger recorded it"},
        "datacontenttype": {"const": "application/json"},
        "position": {"type": "integer", "description": "Its position in the log (a checkpoint: the event it follows)"},
        "sequence": {"type": "string", "description": "Its place in the stream: pass it as `after` to read on"},
        "effectivetime": {"type": "string", "format": "date-time", "description": "When it took effect"},
        "correlationid": {"type": "string"},
        "causationid": {"type": "string"},
        "data": {"type": "object"},
    },
    "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "position", "sequence"],
}

FEED_PARAMS = (
    Param(
        "after",
        "query",
        {"type": "string", "pattern": r"^[0-9]{1,20}(\.[0-9]{1,20})?$"},
        "Read after this place: a log position, or the `sequence` of the last message read (0 or absent: the start)",
    ),
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "At most this many messages (100)"),
)


def _feed(q: QueryContext) -> str:
    raw = q.param("after")
    try:
        after = stream.Cursor.parse(raw) if raw is not None else stream.Cursor()
    except ValueError as exc:
        raise invalid([("after", str(exc))]) from None
    limit = q.int_param("limit", default=100, low=1, high=1000)
    page = stream.read(q.conn, after, limit, source=q.services.settings.event_source)
    return stream.batch(page).decode()


def routes() -> list[Route]:
    return [
        route(
            "/events/feed",
            get=Query(
                "events.feed",
                "The published domain events and signed checkpoints after a place in the stream, in log order, as a"
                " CloudEvents batch",
                _feed,
                {"type": "array", "items": CLOUD_EVENT},
                params=FEED_PARAMS,
                from_ledger=True,
                content_type=stream.BATCH_MEDIA,
                tags=TAGS,
                description="An empty batch: nothing more yet. Pages never skip or repeat a message: read on with"
                " `after` set to the last message's `sequence`. The same messages the relay publishes to the broker.",
            ),
        ),
    ]
