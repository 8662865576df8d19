"""The Open Contracting Data Standard (1.1.5, UK profile) as the ledger publishes it: ocids, parties and their registry
identifiers, the UK notice types, the merge rules of the fields it emits, and packages and records (ADR 32).

Facts of the standard are declared here once; what each event publishes is in `handlers.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import ocdsmerge

from ledger.framework.suppliers import OrganisationType

VERSION = "1.1"
CURRENCY = "GBP"
MARKET = "dynamic-market"  # the process key of the dynamic market itself; a call-off's is its id
MARKET_TITLE = "Probation Services Dynamic Framework"
PUBLISHER = "HM Prison and Probation Service (Probation Services Dynamic Framework ledger)"
LICENSE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
PUBLICATION_POLICY = "https://github.com/ministryofjustice/probation-ledger/blob/main/README.md#publication-ocds"
# The UK profile and the extensions it depends on, as Find a Tender declares them, and the pagination extension that
# defines a package's `links.next`.
EXTENSIONS = (
    "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_pagination_extension/master/extension.json",
    *(
        f"https://raw.githubusercontent.com/open-contracting-extensions/ocds_{name}_extension/master/extension.json"
        for name in (
            "location",
            "bid",
            "awardCriteria",
            "communication",
            "otherRequirements",
            "performance_failures",
            "subcontracting",
            "suitability",
            "submissionTerms",
            "techniques",
        )
    ),
)


class Notice:
    """The Procurement Act 2023 notice each release stands for (`noticeType` of the UK extension)."""

    PLANNED_PROCUREMENT = "UK3"  # planned procurement notice: a call-off planned ahead (the forward pipeline, ADR 38)
    TENDER = "UK4"  # tender notice: the call-off published, and what the tender stage makes public after
    CONTRACT_AWARD = "UK6"  # contract award notice: the award, with the standstill period
    CONTRACT_DETAILS = "UK7"  # contract details notice: the contract signed
    PAYMENTS = "UK8"  # contract payments notice: payments made under the contract (s.70 information about payments)
    CONTRACT_CHANGE = "UK10"  # contract change notice: a variation or an extension
    CONTRACT_TERMINATION = "UK11"  # contract termination notice
    PROCUREMENT_TERMINATION = "UK12"  # procurement termination notice: a call-off cancelled, or no award
    MARKET_ESTABLISHMENT = "UK14"  # dynamic market notice: establishment
    MARKET_MODIFICATION = "UK15"  # dynamic market notice: modification (lots added, members joining and leaving)


# The document type (core documentType codelist, or the UK extension's additions) of each notice's document.
DOCUMENT_TYPES = {
    Notice.PLANNED_PROCUREMENT: "plannedProcurementNotice",
    Notice.TENDER: "tenderNotice",
    Notice.CONTRACT_AWARD: "awardNotice",
    Notice.CONTRACT_DETAILS: "contractNotice",
    Notice.PAYMENTS: "implementationNotice",
    Notice.CONTRACT_CHANGE: "contractAmendmentNotice",
    Notice.CONTRACT_TERMINATION: "contractTerminationNotice",
    Notice.PROCUREMENT_TERMINATION: "tenderCancellationNotice",
    Notice.MARKET_ESTABLISHMENT: "tenderNotice",
    Notice.MARKET_MODIFICATION: "tenderNotice",
}

NOTICE_TITLES = {
    Notice.PLANNED_PROCUREMENT: "Planned procurement notice",
    Notice.TENDER: "Tender notice",
    Notice.CONTRACT_AWARD: "Contract award notice",
    Notice.CONTRACT_DETAILS: "Contract details notice",
    Notice.PAYMENTS: "Contract payments notice",
    Notice.CONTRACT_CHANGE: "Contract change notice",
    Notice.CONTRACT_TERMINATION: "Contract termination notice",
    Notice.PROCUREMENT_TERMINATION: "Procurement termination notice",
    Notice.MARKET_ESTABLISHMENT: "Dynamic market notice: establishment",
    Notice.MARKET_MODIFICATION: "Dynamic market notice: modification",
}

# The merge rules (https://standard.open-contracting.org/1.1/en/schema/merging/) of every path the ledger emits that
# has one, as the OCDS 1.1.5 release schema with the UK profile declares them; every other emitted path merges by
# the standard's defaults (objects by key, arrays of objects by `id`). Declared here so that compiling a record needs
# no network; `tests/test_ocds.py` checks them against the schema.
OCDS_MERGE_RULES: dict[tuple[str, ...], str] = {
    ("id",): "omitWhenMerged",
    ("date",): "omitWhenMerged",
    ("tag",): "omitWhenMerged",
    ("parties", "roles"): "wholeListMerge",
    ("tender", "deliveryLocations"): "wholeListMerge",
    ("relatedProcesses", "relationship"): "wholeListMerge",
}

_ENCODER = msgspec.json.Encoder(decimal_format="number")  # OCDS amounts are JSON numbers, written from Decimals


def encode(value: Any) -> bytes:
    return _ENCODER.encode(value)


def decode(data: str | bytes) -> Any:
    """JSON as stored, amounts back as Decimals (never floats)."""
    return json.loads(data, parse_float=Decimal)


def ocid(prefix: str, process: str) -> str:
    return f"{prefix}-{process}"


def process_of(prefix: str, given: str) -> str | None:
    """The process an ocid of this publisher names (None: not one of ours)."""
    head = f"{prefix}-"
    if not given.startswith(head):
        return None
    process = given[len(head) :]
    return process if process == MARKET or re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", process) else None


def finish(prefix: str, position: int, process: str, body: dict[str, Any]) -> dict[str, Any]:
    """A stored release as published: its ocid, its id (the event's log position, stable and unique within the
    ocid) and, for a call-off, its link to the dynamic market."""
    release = {"ocid": ocid(prefix, process), "id": f"{ocid(prefix, process)}-{position}", **body}
    if process != MARKET:
        release["relatedProcesses"] = [
            {
                "id": "dynamic-market",
                "relationship": ["framework"],
                "title": MARKET_TITLE,
                "scheme": "ocid",
                "identifier": ocid(prefix, MARKET),
            }
        ]
    return release


def stamp(at: datetime) -> str:
    """An OCDS date-time: UTC, to the microsecond the ledger recorded, with its offset."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def value(amount: Decimal) -> dict[str, Any]:
    return {"amount": amount, "currency": CURRENCY}


def notice_document(notice: str, release_key: str, at: datetime, **extra: Any) -> dict[str, Any]:
    """The document each release carries to name its UK notice type."""
    return {
        "id": f"{notice}-{release_key}",
        "documentType": DOCUMENT_TYPES[notice],
        "noticeType": notice,
        "title": NOTICE_TITLES[notice],
        "datePublished": stamp(at),
        **extra,
    }


# -- parties -------------------------------------------------------------------------------------------------------

_COMPANY = re.compile(r"^(\d{8}|(SC|NI|OC|SO|NC|R0|NL|NF|FC|GE|LP|SL|NP|CE|CS)\d{6})$")
_SCOTTISH_CHARITY = re.compile(r"^SC0\d{5}$")
_NI_CHARITY = re.compile(r"^NIC\d{6}$")
_CHARITY = re.compile(r"^\d{6,7}$")
_MUTUAL = re.compile(r"^(IP|RS)?\d{1,6}R?$")


def registry_identifier(legal_identifier: str, organisation_type: str | None) -> dict[str, str] | None:
    """The org-id scheme (org-id.guide) of a supplier's legal identifier, read from its form and the kind of
    organisation: Companies House (GB-COH), the Charity Commission for England and Wales (GB-CHC), the Scottish
    Charity Regulator (GB-SC), the Charity Commission for Northern Ireland (GB-NIC), the FCA Mutuals Public Register
    (GB-MPR). None when the identifier has none of these forms: it is then published as the legal name's only."""
    given = re.sub(r"[\s\-/]", "", legal_identifier).upper()
    if _SCOTTISH_CHARITY.match(given):
        scheme = "GB-SC"
    elif _NI_CHARITY.match(given):
        scheme = "GB-NIC"
    elif organisation_type == OrganisationType.MUTUAL and _MUTUAL.match(given) and not _COMPANY.match(given):
        scheme = "GB-MPR"
    elif _COMPANY.match(given):
        scheme = "GB-COH"
    elif _CHARITY.match(given) and organisation_type in (OrganisationType.VOLUNTARY, None):
        scheme = "GB-CHC"
    else:
        return None
    return {"scheme": scheme, "id": given}


def supplier_party(row: dict[str, Any], roles: Sequence[str]) -> dict[str, Any]:
    """A supplier as a party: its registry identifier as its id where it has one, its roles, whether it is an SME
    or a VCSE (the UK extension's details)."""
    identifier = registry_identifier(row["legal_identifier"], row["organisation_type"])
    party: dict[str, Any] = {
        "id": f"{identifier['scheme']}-{identifier['id']}" if identifier else f"supplier-{row['party_id']}",
        "name": row["name"],
        "identifier": {**(identifier or {}), "legalName": row["name"]},
        "roles": list(roles),
        "details": {
            "vcse": row["organisation_type"] == OrganisationType.VOLUNTARY,
            "publicServiceMissionOrganization": row["organisation_type"] == OrganisationType.MUTUAL,
        },
    }
    return party


def day(d: date) -> str:
    """A business date as an OCDS date-time: the start of that day, UTC."""
    return f"{d.isoformat()}T00:00:00Z"


def commissioner_party(row: dict[str, Any], roles: Sequence[str]) -> dict[str, Any]:
    return {"id": commissioner_ref(row)["id"], "name": row["name"], "roles": list(roles)}


def commissioner_ref(row: dict[str, Any]) -> dict[str, str]:
    return {"id": f"commissioner-{row['organisation_id']}", "name": row["name"]}


def supplier_ref(row: dict[str, Any]) -> dict[str, str]:
    party = supplier_party(row, ())
    return {"id": party["id"], "name": party["name"]}


# -- packages and records -----------------------------------------------------------------------------------------


class Publisher(msgspec.Struct, kw_only=True):
    name: str


class Links(msgspec.Struct, kw_only=True, omit_defaults=True):
    next: str | None = None


class ReleasePackage(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """An OCDS release package: releases in the order they were published; `links.next` reads the next page."""

    uri: str
    version: str
    extensions: list[str]
    published_date: str
    publisher: Publisher
    license: str
    publication_policy: str
    releases: list[msgspec.Raw]
    links: Links | None = None


class Record(msgspec.Struct, kw_only=True, rename="camel"):
    ocid: str
    releases: list[msgspec.Raw]
    compiled_release: msgspec.Raw


class RecordPackage(msgspec.Struct, kw_only=True, rename="camel"):
    """An OCDS record package: one process's record, its releases and its compiled release."""

    uri: str
    version: str
    extensions: list[str]
    published_date: str
    publisher: Publisher
    license: str
    publication_policy: str
    records: list[Record]


def raw(value: Any) -> msgspec.Raw:
    return msgspec.Raw(encode(value))


def release_package(uri: str, published: datetime, releases: Iterable[dict[str, Any]], next_uri: str | None):
    return ReleasePackage(
        uri=uri,
        version=VERSION,
        extensions=list(EXTENSIONS),
        published_date=stamp(published),
        publisher=Publisher(name=PUBLISHER),
        license=LICENSE,
        publication_policy=PUBLICATION_POLICY,
        releases=[raw(r) for r in releases],
        links=Links(next=next_uri) if next_uri else None,
    )


def merger() -> ocdsmerge.Merger:
    """The standard's own merge, given the rules of what the ledger emits (it fetches nothing)."""
    return ocdsmerge.Merger(merge_rules=OCDS_MERGE_RULES)


def record_package(uri: str, published: datetime, process_ocid: str, releases: list[dict[str, Any]]) -> RecordPackage:
    # No versioned release: the standard's versioned-release schema knows nothing of the UK profile's fields, so a
    # versioned release of them would not validate (ADR 32).
    compiled = merger().create_compiled_release(releases)
    return RecordPackage(
        uri=uri,
        version=VERSION,
        extensions=list(EXTENSIONS),
        published_date=stamp(published),
        publisher=Publisher(name=PUBLISHER),
        license=LICENSE,
        publication_policy=PUBLICATION_POLICY,
        records=[
            Record(
                ocid=process_ocid,
                releases=[raw(r) for r in releases],
                compiled_release=raw(compiled),
            )
        ],
    )
