"""How the FOI pages say what the API answers: words for events and codes, the exemptions and outcomes offered,
an anchor for each value of a record."""

from __future__ import annotations

import re
from typing import Any

from ledger.audit import contents

REQUESTS = "/app/foi/requests"
EXEMPTIONS = (
    ("s40(2)", "s.40(2) personal data", "Personal data of someone other than the requester."),
    ("s41", "s.41 information provided in confidence", "Given to the Authority in confidence."),
    (
        "s43(2)",
        "s.43(2) commercial interests",
        "Disclosure would be likely to prejudice someone's commercial interests. A qualified exemption: record the "
        "public interest test.",
    ),
)
OUTCOMES = (
    ("disclosed_in_full", "Disclosed in full"),
    ("disclosed_in_part", "Disclosed in part (with the values withheld)"),
    ("refused", "Refused"),
)
EVENTS = {
    "FoiRequestReceived": "Request received",
    "FoiClarificationSought": "Clarification sought from the requester",
    "FoiClarificationReceived": "Clarification received",
    "FoiDeadlineExtended": "Deadline extended",
    "DisclosurePrepared": "Disclosure prepared",
    "RedactionApplied": "Value withheld",
    "RedactionWithdrawn": "Redaction withdrawn",
    "FoiResponded": "Responded",
}


def words(code: object) -> str:
    """An event type or code as words: "ContractExtended" -> "Contract extended" (a request's own, as FOI says)."""
    return EVENTS.get(str(code)) or contents.words(code)


def anchor(pointer: str) -> str:
    """An element id for a value's row (the builder returns to it after an action)."""
    return "value" + re.sub(r"[^A-Za-z0-9_-]", "-", pointer)


def excerpt(text: str, limit: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


RECORD_KINDS = {"call_off_record": "Decision record", "qualification_record": "Qualification record"}
HELPERS: dict[str, Any] = {"words": words, "anchor": anchor, "excerpt": excerpt, "record_kinds": RECORD_KINDS}
