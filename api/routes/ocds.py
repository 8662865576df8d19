"""The OCDS publication (ADR 32): release packages paged as Find a Tender pages them, and a process's record package
compiled with the standard's own merge. Public data: their rules in api/policy.py (`PUBLIC`) need no token."""

from __future__ import annotations

from urllib.parse import urlencode

from api.errors import invalid
from api.openapi import Param
from api.routes.common import moment
from api.specs import Query, QueryContext, Route, route
from projections.publication import ocds, queries

TAGS = ("publication",)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _settings(q: QueryContext) -> tuple[str, str]:
    settings = q.services.settings
    return settings.ocds_ocid_prefix, settings.ocds_base_url


def _cursor(q: QueryContext) -> int:
    raw = q.param("cursor")
    if raw is None:
        return 0
    return q.int_param("cursor", default=0, low=0, high=2**63 - 1)


def release_packages(q: QueryContext) -> ocds.ReleasePackage:
    prefix, base = _settings(q)
    updated_from = q.moment("updated_from", lower_bound=True)
    updated_to = q.moment("updated_to")
    if updated_from and updated_to and updated_from > updated_to:
        raise invalid([("updated_to", "must not be before updated_from")])
    limit = q.int_param("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    after = _cursor(q)
    releases, last = queries.release_page(
        q.conn,
        prefix,
        after=after,
        limit=limit,
        updated_from=updated_from,
        updated_to=updated_to,
        as_recorded=q.moment("as_recorded"),
    )
    kept = {name: q.param(name) for name in ("updated_from", "updated_to", "as_recorded")}
    kept = {name: value for name, value in kept.items() if value is not None}
    path = f"{base}/ocds/release-packages"
    uri = f"{path}?{urlencode({**kept, 'cursor': after, 'limit': limit})}"
    next_uri = f"{path}?{urlencode({**kept, 'cursor': last, 'limit': limit})}" if last is not None else None
    return ocds.release_package(uri, q.ledger.now(), releases, next_uri)


def record_package(q: QueryContext, ocid: str) -> ocds.RecordPackage | None:
    prefix, base = _settings(q)
    as_recorded = q.moment("as_recorded")  # malformed is 422 whatever the ocid
    process = ocds.process_of(prefix, ocid)
    if process is None:
        return None
    releases = queries.process_releases(q.conn, prefix, process, as_recorded)
    if not releases:
        return None
    return ocds.record_package(f"{base}/ocds/record-packages/{ocid}", q.ledger.now(), ocid, releases)


AS_RECORDED = moment("as_recorded", "What had been published by this moment (RFC 3339, or a date = end of that day)")


def routes() -> list[Route]:
    return [
        route(
            "/ocds/release-packages",
            get=Query(
                "ocds.release_packages",
                "Releases in the order they were published, a page at a time (follow links.next)",
                release_packages,
                ocds.ReleasePackage,
                views=("publication",),
                params=(
                    moment("updated_from", "Published at or after (a date: from its start)"),
                    moment("updated_to", "Published at or before (a date: to its end)"),
                    Param("cursor", "query", {"type": "integer", "minimum": 0}, "From links.next of the page before"),
                    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Page size (100)"),
                    AS_RECORDED,
                ),
                tags=TAGS,
                description="OCDS 1.1 release packages with the UK profile, public (no token). Each public event "
                "of the dynamic market and its call-offs is one release; `links.next` reads on from the last one, "
                "so a harvest misses and repeats nothing while new releases are published. An empty page has no "
                "`links.next`: keep the last one to resume.",
            ),
        ),
        route(
            "/ocds/record-packages/{ocid}",
            get=Query(
                "ocds.record_package",
                "One process's record: its releases and its compiled release",
                record_package,
                ocds.RecordPackage,
                views=("publication",),
                params=(AS_RECORDED,),
                tags=TAGS,
                description="The dynamic market's record (its ocid ends `-dynamic-market`) or a call-off's (its ocid "
                "ends with the call-off's id), compiled with ocdsmerge from the releases published by `as_recorded`.",
            ),
        ),
    ]
