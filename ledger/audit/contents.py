"""A record's contents as labelled values, each with the JSON Pointer naming it: what a person reads of a decision
record, a qualification record or a disclosure, and which values a reviewer may withhold.

The documents are the records' JSON (`decisions.as_document`), so a disclosure, where a withheld value is its
marker, reads the same way. Labels, kinds and titles are the domain's words for the records' fields; how a kind is
written (£, dates, names for codes) is the reader's business.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

import msgspec

from ledger import json_pointer
from ledger.framework import categories


class ValueKind(enum.StrEnum):
    """What a value is, so that a reader can write it: money as money, a code by its name."""

    TEXT = "text"  # words as recorded
    CODE = "code"  # a recorded state or choice ("awarded", "initial"), shown as words
    MONEY = "money"  # pounds, a decimal string
    NUMBER = "number"  # a count, weight, score or number of months
    DATE = "date"
    MOMENT = "moment"  # an RFC 3339 date-time
    YES_NO = "yes_no"
    AREA = "area"  # area codes (a geography, declared areas), shown by name
    CATEGORY = "category"  # service category codes, shown by name
    PARTY = "party"  # an organisation as recorded then: {id, name}
    EVENT_TYPE = "event_type"  # an event's type, e.g. ContractExtended
    IDENTIFIER = "identifier"  # an id, a hash, a signature
    POSITION = "position"  # a position in the log


class RecordValue(msgspec.Struct, kw_only=True):
    pointer: str  # RFC 6901, into the document
    key: str  # the document's member name ("price"; the array's name for an element)
    label: str
    kind: ValueKind
    value: Any  # as the document holds it: a scalar, a list of scalars, a party, null; a withheld value is its marker
    withholdable: bool  # a reviewer may withhold it (never the record's provenance, nor an absent value)


class RecordGroup(msgspec.Struct, kw_only=True):
    """Values about one thing: the section's own, or one tender, one evaluator's scores, one event."""

    title: str | None  # None: the section's own values
    pointer: str
    values: list[RecordValue]


class RecordSection(msgspec.Struct, kw_only=True):
    key: str  # the document's member ("award"); "" for the record's own values
    title: str
    pointer: str
    groups: list[RecordGroup]  # none when the record holds nothing there


class RecordContents(msgspec.Struct, kw_only=True):
    """A record as labelled values, section by section."""

    title: str  # the call-off's title, or the supplier's name
    sections: list[RecordSection]


SECTION_TITLES = {
    "call_off": "The call-off",
    "eligibility": "Who was eligible, who was not, and why",
    "clarifications": "Clarifications as published",
    "tenders": "Tenders received",
    "bafo": "Best and final offers",
    "evaluation": "Evaluation",
    "award": "Award and standstill",
    "contract": "Contract",
    "closure": "Cancellation or no award",
    "lots": "Lots as at the horizon",
    "declared_areas": "Declared areas as at the horizon",
    "registration": "Registration",
    "details_changes": "Changes of details",
    "questionnaires": "Selection questionnaires",
    "assessments": "Lot assessments",
    "terms_acceptances": "Framework terms accepted",
    "appointments": "Appointments to lots",
    "withdrawals": "Withdrawals from lots",
    "area_changes": "Changes of declared areas",
    "sanctions": "Suspensions, exclusions and reinstatements",
    "timeline": "Timeline: every event read, in log order",
}
# What lets a reader check the record against the log: disclosed as it is, never withheld.
PROVENANCE = frozenset({"horizon", "read_up_to", "checkpoint"})

LABELS = {
    "call_off_id": "Call-off identifier",
    "supplier_id": "Supplier identifier",
    "contract_id": "Contract identifier",
    "questionnaire_id": "Questionnaire identifier",
    "aggregate_id": "Identifier",
    "read_up_to": "Read up to log position",
    "as_of_position": "Suppliers as at log position",
    "position": "Log position",
    "recorded_by": "Recorded by",
    "effective_by": "Happened by",
    "tree_size": "Events covered",
    "root": "Merkle root",
    "signed_at": "Signed",
    "key_id": "Signing key",
    "lots": "Lots",
    "need": "Need",
    "cohort": "Cohort",
    "geography": "Geography",
    "estimated_value": "Estimated value",
    "initial_term_months": "Initial term (months)",
    "extension_options_months": "Extension options (months)",
    "response_deadline": "Response deadline",
    "short_window_ground": "Ground for a short response window",
    "short_window_justification": "Justification for a short response window",
    "clarification_stage": "Has a clarification stage",
    "bafo_stage": "Has a best and final offer stage",
    "standstill_days": "Standstill (days)",
    "lead_commissioner": "Lead commissioner",
    "partner_commissioners": "Partner commissioner",
    "rule": "Rule applied",
    "considered": "Considered",
    "supplier_name": "Supplier",
    "invited": "Invited",
    "reasons": "Reasons",
    "uncovered": "Areas not covered",
    "recipients": "Recipients",
    "received": "Tenders received",
    "resubmissions": "Resubmissions",
    "method_statement": "Method statement",
    "social_value": "Social value",
    "document_refs": "Documents",
    "evaluator_id": "Evaluator",
    "weighted_score": "Weighted score",
    "top_ranked": "Top-ranked supplier",
    "departed_from_ranking": "Departed from the ranking",
    "departure_reason": "Reason for departing from the ranking",
    "standstill_ends": "Standstill ends",
    "award_type": "Award type",
    "mobilisation_date": "Mobilisation",
    "start_date": "Starts",
    "end_date": "Ends",
    "new_value": "New value",
    "new_end_date": "New end date",
    "extension_months": "Extended by (months)",
    "effective_date": "Effective",
    "legal_identifier": "Legal identifier",
    "organisation_type": "Organisation type",
    "is_small": "Small or medium-sized",
    "case_studies": "Case studies",
    "declared_areas": "Declared areas",
    "assessor_id": "Assessor",
    "terms_version": "Terms version",
    "notice": "Notice",
    "since": "Since",
    "type": "Event",
    "stream": "Record",
    "actor_id": "By",
    "actor_role": "Role",
    "effective_at": "Happened",
    "recorded_at": "Recorded",
}
# Who made a decision and when, as an event reference's members read after the decision's name ("Published on").
EVENT_REF = {
    "effective_at": "{} on",
    "recorded_at": "{}: recorded in the ledger",
    "actor_id": "{} by",
    "actor_role": "{} by (role)",
    "position": "{}: log position",
}
_KINDS = {
    ValueKind.MONEY: ("estimated_value", "price", "value", "new_value"),
    ValueKind.DATE: ("start_date", "end_date", "mobilisation_date", "new_end_date", "effective_date"),
    ValueKind.MOMENT: (
        "recorded_at",
        "effective_at",
        "response_deadline",
        "deadline",
        "standstill_ends",
        "since",
        "recorded_by",
        "effective_by",
        "signed_at",
    ),
    ValueKind.AREA: ("geography", "areas", "declared_areas", "uncovered"),
    ValueKind.CATEGORY: ("need", "cohort", "category", "lots"),
    ValueKind.CODE: ("status", "stage", "outcome", "award_type", "kind", "organisation_type", "stream", "actor_role"),
    ValueKind.EVENT_TYPE: ("type",),
    ValueKind.POSITION: ("position", "read_up_to", "as_of_position"),
    ValueKind.IDENTIFIER: ("id", "root", "signature", "key_id", "aggregate_id"),
}
KIND_OF = {key: kind for kind, keys in _KINDS.items() for key in keys}
_NUMBERS_WITHIN = frozenset({"scores", "weights"})  # objects whose members are numbers named by criterion
_INLINE = frozenset({"submissions"})  # arrays whose items read as part of the thing holding them
_UNPREFIXED = frozenset({"content"})  # objects whose members read on their own ("Price", not "Content: price")


def words(code: object) -> str:
    """ "ContractExtended" or "no_award" as words: "Contract extended", "No award"."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(code or "")).replace("_", " ").lower()
    text = text.replace("call off", "call-off")
    return text[:1].upper() + text[1:]


def _within(prefix: str, own: str) -> str:
    """A member's label after its holder's: "Scores: quality"."""
    return f"{prefix}: {own[:1].lower()}{own[1:]}"


def _category(code: object) -> str:
    found = categories.BY_CODE.get(str(code))
    return found.name if found else str(code)


def _supplier(item: dict[str, Any]) -> str:
    return str(item.get("supplier_name") or item.get("supplier_id"))


_TITLES: dict[str, Callable[[dict[str, Any], int], str]] = {
    "criteria": lambda x, i: f"Criterion: {x.get('name')}",
    "considered": lambda x, i: f"Considered: {_supplier(x)}",
    "clarifications": lambda x, i: f"Clarification {i + 1}",
    "tenders": lambda x, i: f"{words(x.get('stage'))} stage",
    "receipts": lambda x, i: f"Tender from {_supplier(x)}",
    "submissions": lambda x, i: f"Submission {x.get('number', i + 1)}",
    "scores": lambda x, i: f"Scores by {x.get('evaluator_id')} for {_supplier(x)}",
    "moderated": lambda x, i: f"Moderated scores for {_supplier(x)}",
    "ranked": lambda x, i: f"Ranked {x.get('rank')}: {_supplier(x)}",
    "changes": lambda x, i: words(x.get("type")),
    "timeline": lambda x, i: words(x.get("type")),
    "questionnaires": lambda x, i: f"Questionnaire {i + 1}",
    "lots": lambda x, i: _category(x.get("category")),
    "assessments": lambda x, i: f"{_category(x.get('category'))}: {words(x.get('outcome'))}",
    "terms_acceptances": lambda x, i: f"Terms version {x.get('terms_version')}",
    "appointments": lambda x, i: f"Appointed to {_category(x.get('category'))}",
    "withdrawals": lambda x, i: f"Withdrew from {_category(x.get('category'))}",
    "area_changes": lambda x, i: f"Change of declared areas {i + 1}",
    "sanctions": lambda x, i: words(x.get("kind")),
    "details_changes": lambda x, i: f"Change of details {i + 1}",
}


def label(key: str) -> str:
    return LABELS.get(key) or words(key)


def _title(key: str, item: dict[str, Any], index: int) -> str:
    make = _TITLES.get(key)
    return make(item, index) if make else f"{label(key)} {index + 1}"


def _is_party(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"id", "name"}


def _is_event_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == set(EVENT_REF)


def _kind(key: str, value: Any, parent: str | None) -> ValueKind:
    if parent in _NUMBERS_WITHIN:
        return ValueKind.NUMBER
    if _is_party(value):
        return ValueKind.PARTY
    if key in KIND_OF:
        return KIND_OF[key]
    if key.endswith("_id") and key not in ("actor_id", "evaluator_id", "assessor_id", "reviewer_id"):
        return ValueKind.IDENTIFIER
    if isinstance(value, bool):
        return ValueKind.YES_NO
    if isinstance(value, int) or (isinstance(value, list) and value and isinstance(value[0], int)):
        return ValueKind.NUMBER
    return ValueKind.TEXT


class _Reader:
    """Walks one document, gathering each section's groups of values."""

    def __init__(self, provenance: bool = False) -> None:
        self.provenance = provenance

    def value(self, key: str, value: Any, pointer: str, text: str, parent: str | None = None) -> RecordValue:
        empty = value is None or value == [] or value == {}
        return RecordValue(
            pointer=pointer,
            key=key,
            label=text,
            kind=_kind(key, value, parent),
            value=value,
            withholdable=not self.provenance and not empty,
        )

    def group(self, title: str | None, item: Any, pointer: str, key: str, out: list[RecordGroup]) -> None:
        """A group for one object (then a group for each array of objects it holds, after it)."""
        group = RecordGroup(title=title, pointer=pointer, values=[])
        out.append(group)
        if not isinstance(item, dict):  # withheld whole (its marker), or a plain value
            group.values.append(self.value(key, item, pointer, title or label(key)))
            return
        later: list[tuple[str, Any, str, str]] = []
        self.members(item, pointer, None, None, group, later)
        for title_, item_, pointer_, key_ in later:
            self.group(title_, item_, pointer_, key_, out)

    def members(
        self,
        item: dict[str, Any],
        pointer: str,
        prefix: str | None,
        parent: str | None,
        group: RecordGroup,
        later: list[tuple[str, Any, str, str]],
    ) -> None:
        for key, value in item.items():
            at = pointer + json_pointer.join(key)
            own = key if parent in _NUMBERS_WITHIN else label(key)  # there, members are named by criterion
            if prefix and parent == "event":
                text = EVENT_REF[key].format(prefix)
            else:
                text = _within(prefix, own) if prefix else own
            if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
                self.array(key, value, at, text, group, later)
            elif _is_event_ref(value):
                self.members(value, at, label(key), "event", group, later)
            elif isinstance(value, dict) and value and not _is_party(value):
                self.members(value, at, prefix if key in _UNPREFIXED else text, key, group, later)
            else:
                group.values.append(self.value(key, value, at, text, parent))

    def array(
        self,
        key: str,
        items: list[dict[str, Any]],
        pointer: str,
        text: str,
        group: RecordGroup,
        later: list[tuple[str, Any, str, str]],
    ) -> None:
        for i, item in enumerate(items):
            at = pointer + json_pointer.join(i)
            if _is_party(item):  # each organisation named is a value of its own (withheld apart)
                group.values.append(self.value(key, item, at, text))
            elif key in _INLINE:
                self.members(item, at, _title(key, item, i), key, group, later)
            else:
                title = _title(key, item, i)
                later.append((f"{group.title}: {title}" if group.title else title, item, at, key))


def record_contents(document: dict[str, Any]) -> RecordContents:
    call_off = document.get("call_off")
    title = call_off.get("title") if isinstance(call_off, dict) else document.get("name")
    return RecordContents(title=str(title or ""), sections=sections(document))


def sections(document: dict[str, Any]) -> list[RecordSection]:
    """The document's sections in its own order, the record's own values first; empty groups left out."""
    own = RecordGroup(title=None, pointer="", values=[])
    found = [RecordSection(key="", title="About this record", pointer="", groups=[own])]
    plain, provenance = _Reader(), _Reader(provenance=True)
    for key, value in document.items():
        pointer = json_pointer.join(key)
        reader = provenance if key in PROVENANCE else plain
        if key not in SECTION_TITLES:
            later: list[tuple[str, Any, str, str]] = []
            reader.members({key: value}, "", None, None, own, later)
            continue
        groups: list[RecordGroup] = []
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for i, item in enumerate(value):
                reader.group(_title(key, item, i), item, pointer + json_pointer.join(i), key, groups)
        elif isinstance(value, dict):
            reader.group(None, value, pointer, key, groups)
        elif value not in (None, []):
            groups.append(
                RecordGroup(title=None, pointer=pointer, values=[reader.value(key, value, pointer, label(key))])
            )
        found.append(
            RecordSection(key=key, title=SECTION_TITLES[key], pointer=pointer, groups=[g for g in groups if g.values])
        )
    return found
