"""FOI requests as cases: receipt, clarification, extension, a disclosure pinned to a log position, redactions
with their exemptions, and the response, on the FOIA s.10 clock counted in England and Wales working days."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

import msgspec
import psycopg
from eventsourcing.domain import event

from ledger import history, json_pointer, working_days
from ledger.aggregate import LedgerAggregate
from ledger.audit import contents, decisions
from ledger.envelope import Envelope, effective
from ledger.errors import InvalidCommand, NotFound, RuleViolation
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.framework.suppliers import Supplier
from ledger.ids import new_id
from ledger.procurement.call_offs import CallOff
from ledger.store import Ledger, Recorded
from ledger.types import LongText, Name, Reason

EXTENSION_LIMIT = 20  # s.10(3): a reasonable extension; the ICO holds it to 20 further working days


def foi_due_date(received_on: date) -> date:
    """FOIA s.10(1): the 20th working day following the date of receipt."""
    return working_days.add_working_days(received_on, 20)


class Ground(enum.StrEnum):
    """The exemptions a redaction may rely on."""

    PERSONAL_DATA = "s40(2)"
    CONFIDENCE = "s41"
    COMMERCIAL_INTERESTS = "s43(2)"


EXEMPTIONS = {
    Ground.PERSONAL_DATA: "s.40(2) personal data",
    Ground.CONFIDENCE: "s.41 information provided in confidence",
    Ground.COMMERCIAL_INTERESTS: "s.43(2) commercial interests",
}
# Qualified exemptions withhold only where the public interest in withholding outweighs that in disclosing
# (s.2(2)(b)), so the reviewer records that test; s.40(2) and s.41 are absolute here.
QUALIFIED = frozenset({Ground.COMMERCIAL_INTERESTS})


MARKER_PREFIX = "[withheld: "


def marker(ground: Ground) -> str:
    """What a withheld value reads as in the disclosed document."""
    return f"{MARKER_PREFIX}{EXEMPTIONS[ground]}]"


class SourceKind(enum.StrEnum):
    CALL_OFF_RECORD = "call_off_record"
    QUALIFICATION_RECORD = "qualification_record"


class Outcome(enum.StrEnum):
    DISCLOSED_IN_FULL = "disclosed_in_full"
    DISCLOSED_IN_PART = "disclosed_in_part"
    REFUSED = "refused"


class FoiStatus(enum.StrEnum):
    RECEIVED = "received"
    AWAITING_CLARIFICATION = "awaiting_clarification"  # the clock is stopped
    CLARIFIED = "clarified"  # a new 20-working-day clock runs from the clarification's receipt
    EXTENDED = "extended"
    RESPONDED = "responded"


RequestReference = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9/\-]*$",
        description="The case reference the requester is given, e.g. FOI-2026-0042",
    ),
]
JsonPointer = Annotated[
    str, msgspec.Meta(max_length=500, description="RFC 6901 JSON Pointer to the withheld value, e.g. /award/rationale")
]


class ReceiveRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request for information, as received; it may name the call-off or supplier it is about."""

    reference: RequestReference
    requester_name: Name
    information_requested: LongText
    received_on: date
    call_off_id: UUID | None = None
    supplier_id: UUID | None = None


class SeekClarification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """s.1(3): ask the requester what they mean; the clock stops until they answer."""

    question: LongText


class ReceiveClarification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    clarification: LongText
    received_on: date


class ExtendDeadline(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """s.10(3): more time to consider the public interest test."""

    new_due_on: date
    reason: Reason | None = None  # required by a named rule, so a missing reason answers 409 with the rule


class PrepareDisclosure(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Pin the record to disclose at the log's head, so that what is disclosed can be rebuilt exactly."""

    kind: SourceKind
    source_id: UUID


class ApplyRedaction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pointer: JsonPointer
    ground: Ground
    reason: Reason
    public_interest_note: Reason | None = None


class WithdrawRedaction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class Respond(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    responded_on: date | None = None  # default: today
    refusal_grounds: tuple[Ground, ...] = ()
    reason: Reason | None = None


class PinnedSource(msgspec.Struct, frozen=True, kw_only=True):
    kind: SourceKind
    id: UUID
    position: int


class Response(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    responded_on: date
    late: bool
    sha256: str | None  # of the disclosed document's JSON bytes
    checkpoint_tree_size: int | None  # the checkpoint the disclosed document named, so it rebuilds exactly


def foi_request_id_for(reference: str) -> UUID:
    """One request per case reference: the id derives from it, so a reference cannot be used twice."""
    return uuid5(LEDGER_NAMESPACE, f"foi-request:{reference.upper()}")


class FoiRequest(LedgerAggregate):
    @staticmethod
    def create_id(reference: str) -> UUID:
        return foi_request_id_for(reference)

    @event("FoiRequestReceived")
    def __init__(
        self,
        reference: str,
        requester_name: str,
        information_requested: str,
        received_on: date,
        call_off_id: UUID | None,
        supplier_id: UUID | None,
        due_on: date,
        calendar: str,
    ) -> None:
        self.reference = reference
        self.requester_name = requester_name
        self.information_requested = information_requested
        self.received_on = received_on
        self.call_off_id, self.supplier_id = call_off_id, supplier_id
        self.status = FoiStatus.RECEIVED
        self.statutory_due_on = due_on  # the 20th working day after receipt (or after the clarification)
        self.due_on: date | None = due_on  # None while the clock is stopped
        self.clarification_sought_on: date | None = None
        self.disclosure: PinnedSource | None = None
        self.redactions: dict[UUID, tuple[str, Ground]] = {}  # in force: id -> (pointer, ground)
        self.withdrawn: set[UUID] = set()
        self.response: Response | None = None

    @event("FoiClarificationSought")
    def seek_clarification(self, question: str, sought_on: date) -> None:
        self.status = FoiStatus.AWAITING_CLARIFICATION
        self.clarification_sought_on = sought_on
        self.due_on = None

    @event("FoiClarificationReceived")
    def receive_clarification(self, clarification: str, received_on: date, due_on: date) -> None:
        self.status = FoiStatus.CLARIFIED
        self.clarification_sought_on = None
        self.statutory_due_on = self.due_on = due_on

    @event("FoiDeadlineExtended")
    def extend(self, previous_due_on: date, new_due_on: date, reason: str) -> None:
        self.status = FoiStatus.EXTENDED
        self.due_on = new_due_on

    @event("DisclosurePrepared")
    def prepare_disclosure(self, kind: SourceKind, source_id: UUID, position: int) -> None:
        self.disclosure = PinnedSource(kind=kind, id=source_id, position=position)

    @event("RedactionApplied")
    def redact(
        self,
        redaction_id: UUID,
        pointer: str,
        ground: Ground,
        reason: str,
        public_interest_note: str | None,
        reviewer_id: str,
    ) -> None:
        self.redactions[redaction_id] = (pointer, ground)

    @event("RedactionWithdrawn")
    def withdraw_redaction(self, redaction_id: UUID, reason: str) -> None:
        del self.redactions[redaction_id]
        self.withdrawn.add(redaction_id)

    @event("FoiResponded")
    def respond(
        self,
        outcome: Outcome,
        responded_on: date,
        due_on: date | None,
        late: bool,
        sha256: str | None,
        checkpoint_tree_size: int | None,
        refusal_grounds: tuple[Ground, ...],
    ) -> None:
        self.status = FoiStatus.RESPONDED
        self.response = Response(
            outcome=outcome,
            responded_on=responded_on,
            late=late,
            sha256=sha256,
            checkpoint_tree_size=checkpoint_tree_size,
        )


# -- commands ---------------------------------------------------------------------------------------


def _require_open(request: FoiRequest) -> None:
    if request.response is not None:
        raise RuleViolation(
            "request already responded",
            f"the response ({request.response.outcome}) was given on {request.response.responded_on}",
        )


def receive_request(ledger: Ledger, envelope: Envelope, command: ReceiveRequest) -> Recorded:
    # A request received by post on Friday and logged on Monday is effective on the Friday.
    received = effective(envelope, command.received_on, fact="receipt", field="$.received_on")
    if ledger.exists(foi_request_id_for(command.reference)):
        raise RuleViolation("request reference already used", f"a request {command.reference} is already recorded")
    if command.call_off_id is not None:
        ledger.load(CallOff, command.call_off_id)
    if command.supplier_id is not None:
        ledger.load(Supplier, command.supplier_id)
    return ledger.execute(
        received,
        lambda: FoiRequest(
            reference=command.reference,
            requester_name=command.requester_name,
            information_requested=command.information_requested,
            received_on=command.received_on,
            call_off_id=command.call_off_id,
            supplier_id=command.supplier_id,
            due_on=foi_due_date(command.received_on),
            calendar=working_days.CALENDAR_RULE,
        ),
    )


def seek_clarification(ledger: Ledger, envelope: Envelope, request_id: UUID, command: SeekClarification) -> Recorded:
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    if request.status is FoiStatus.AWAITING_CLARIFICATION:
        raise RuleViolation("clarification already sought", f"asked on {request.clarification_sought_on}")

    def seek() -> FoiRequest:
        request.seek_clarification(question=command.question, sought_on=envelope.recorded_at.date())
        return request

    return ledger.execute(msgspec.structs.replace(envelope, reason=command.question), seek)


def receive_clarification(
    ledger: Ledger, envelope: Envelope, request_id: UUID, command: ReceiveClarification
) -> Recorded:
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    if request.clarification_sought_on is None:
        raise RuleViolation("no clarification outstanding", "no clarification was sought from the requester")
    received = effective(envelope, command.received_on, fact="receipt", field="$.received_on")
    if command.received_on < request.clarification_sought_on:
        raise RuleViolation(
            "clarification received before it was sought", f"it was sought on {request.clarification_sought_on}"
        )

    def receive() -> FoiRequest:
        request.receive_clarification(
            clarification=command.clarification,
            received_on=command.received_on,
            due_on=foi_due_date(command.received_on),  # s.1(3): the clock starts again
        )
        return request

    return ledger.execute(received, receive)


def extend_deadline(ledger: Ledger, envelope: Envelope, request_id: UUID, command: ExtendDeadline) -> Recorded:
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    due = request.due_on
    if due is None:
        raise RuleViolation("no running deadline to extend", "the clock is stopped until the clarification arrives")
    reason = command.reason
    if not reason:
        raise RuleViolation("an extension needs a reason", "say why more time is needed for the public interest test")
    if command.new_due_on <= due:
        raise RuleViolation("an extension moves the deadline later", f"the deadline is already {due}")
    latest = working_days.add_working_days(request.statutory_due_on, EXTENSION_LIMIT)
    if command.new_due_on > latest:
        raise RuleViolation(
            f"extension of at most {EXTENSION_LIMIT} further working days",
            f"the statutory deadline is {request.statutory_due_on}: the latest extended deadline is {latest}",
        )

    def extend() -> FoiRequest:
        request.extend(previous_due_on=due, new_due_on=command.new_due_on, reason=reason)
        return request

    return ledger.execute(msgspec.structs.replace(envelope, reason=reason), extend)


def source_document(
    ledger: Ledger, conn: psycopg.Connection[Any], source: PinnedSource, *, checkpoint_at_most: int | None = None
) -> dict[str, Any]:
    """The record a disclosure is made from, exactly as at its pinned position (NotFound if none)."""
    horizon = history.Horizon(position=source.position)
    if source.kind is SourceKind.CALL_OFF_RECORD:
        record: msgspec.Struct = decisions.call_off_record(
            ledger, conn, source.id, horizon, checkpoint_at_most=checkpoint_at_most
        )
    else:
        record = decisions.qualification_record(ledger, conn, source.id, horizon, checkpoint_at_most=checkpoint_at_most)
    return decisions.as_document(record)


def prepare_disclosure(ledger: Ledger, envelope: Envelope, request_id: UUID, command: PrepareDisclosure) -> Recorded:
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    if request.disclosure is not None:
        raise RuleViolation(
            "disclosure already prepared",
            f"the {request.disclosure.kind} of {request.disclosure.id} at position {request.disclosure.position}",
        )
    source = PinnedSource(kind=command.kind, id=command.source_id, position=ledger.head())
    with ledger.datastore.get_connection() as conn:
        source_document(ledger, conn, source)  # NotFound when there is no such record

    def prepare() -> FoiRequest:
        request.prepare_disclosure(kind=source.kind, source_id=source.id, position=source.position)
        return request

    return ledger.execute(envelope, prepare)


def _disclosure_source(request: FoiRequest) -> PinnedSource:
    if request.disclosure is None:
        raise RuleViolation("no disclosure prepared", "prepare the document to disclose first")
    return request.disclosure


def apply_redaction(ledger: Ledger, envelope: Envelope, request_id: UUID, command: ApplyRedaction) -> Recorded:
    try:
        if not json_pointer.tokens(command.pointer):
            raise json_pointer.PointerError("the whole document cannot be withheld: respond with the outcome refused")
    except json_pointer.PointerError as exc:
        raise InvalidCommand([("$.pointer", str(exc))]) from None
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    source = _disclosure_source(request)
    if command.ground in QUALIFIED and not command.public_interest_note:
        raise RuleViolation(
            "a qualified exemption needs a public interest note",
            f"{EXEMPTIONS[command.ground]} is qualified: record why the public interest in withholding "
            "outweighs the public interest in disclosing",
        )
    for held, _ in request.redactions.values():
        if json_pointer.contains(held, command.pointer) or json_pointer.contains(command.pointer, held):
            raise RuleViolation("redactions must not overlap", f"{held} is already withheld")
    with ledger.datastore.get_connection() as conn:
        document = source_document(ledger, conn, source)
    try:
        json_pointer.resolve(document, command.pointer)
    except json_pointer.PointerError as exc:
        raise RuleViolation("pointer not in the disclosed document", str(exc)) from None

    def redact() -> FoiRequest:
        request.redact(
            redaction_id=new_id(),
            pointer=command.pointer,
            ground=command.ground,
            reason=command.reason,
            public_interest_note=command.public_interest_note,
            reviewer_id=envelope.actor_id,
        )
        return request

    return ledger.execute(msgspec.structs.replace(envelope, reason=command.reason), redact)


def withdraw_redaction(
    ledger: Ledger, envelope: Envelope, request_id: UUID, redaction_id: UUID, command: WithdrawRedaction
) -> Recorded:
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    if redaction_id in request.withdrawn:
        raise RuleViolation("redaction already withdrawn", f"redaction {redaction_id} is no longer in force")
    if redaction_id not in request.redactions:
        raise NotFound("redaction", redaction_id)

    def withdraw() -> FoiRequest:
        request.withdraw_redaction(redaction_id=redaction_id, reason=command.reason)
        return request

    return ledger.execute(msgspec.structs.replace(envelope, reason=command.reason), withdraw)


def respond(ledger: Ledger, envelope: Envelope, request_id: UUID, command: Respond) -> Recorded:
    if command.outcome is not Outcome.REFUSED and command.refusal_grounds:
        raise InvalidCommand([("$.refusal_grounds", "only a refusal names refusal grounds")])
    request = ledger.load(FoiRequest, request_id)
    _require_open(request)
    responded_on = command.responded_on or envelope.recorded_at.date()
    responded = envelope  # a response given now; one dated earlier is effective from its day
    if command.responded_on is not None:
        responded = effective(envelope, command.responded_on, fact="response", field="$.responded_on")
    if responded_on < request.received_on:
        raise RuleViolation("response before receipt", f"the request was received on {request.received_on}")
    sha256: str | None = None
    checkpoint_tree_size: int | None = None
    if command.outcome is Outcome.REFUSED:
        if not command.refusal_grounds or not command.reason:
            raise RuleViolation(
                "a refusal names its exemptions and reason",
                "a refusal notice (s.17) states the exemptions relied on and why they apply",
            )
    else:
        _disclosure_source(request)
        if command.outcome is Outcome.DISCLOSED_IN_FULL and request.redactions:
            raise RuleViolation(
                "a full disclosure withholds nothing",
                f"{len(request.redactions)} redaction(s) in force: respond in part, or withdraw them",
            )
        if command.outcome is Outcome.DISCLOSED_IN_PART and not request.redactions:
            raise RuleViolation("a partial disclosure withholds something", "no redaction is in force")
        with ledger.datastore.get_connection() as conn:
            disclosed = _disclosure(ledger, conn, request)
        sha256 = hashlib.sha256(disclosure_bytes(disclosed)).hexdigest()
        named = disclosed.document.get("checkpoint")
        checkpoint_tree_size = named["tree_size"] if isinstance(named, dict) else None
    due = request.due_on

    def answer() -> FoiRequest:
        request.respond(
            outcome=command.outcome,
            responded_on=responded_on,
            due_on=due,
            late=due is not None and responded_on > due,
            sha256=sha256,
            checkpoint_tree_size=checkpoint_tree_size,
            refusal_grounds=command.refusal_grounds,
        )
        return request

    return ledger.execute(responded, answer, reason=command.reason)


# -- reading: the case, the disclosure, suggestions, deadlines ----------------------------------------


class WithheldItem(msgspec.Struct, kw_only=True):
    """One line of a disclosure's schedule: what was withheld, on which ground, by whom and why."""

    redaction_id: UUID
    pointer: str
    ground: Ground
    exemption: str
    reviewer_id: str
    public_interest_note: str | None
    reason: str
    position: int  # of the RedactionApplied event
    recorded_at: datetime


class RedactionEntry(WithheldItem, kw_only=True):
    withdrawn_reason: str | None = None
    withdrawn_position: int | None = None


class Disclosure(msgspec.Struct, kw_only=True):
    """The pinned record with each withheld value replaced by a marker naming its exemption, and the schedule."""

    request_id: UUID
    source: PinnedSource
    withheld: list[WithheldItem]
    document: dict[str, Any]


def disclosure_bytes(disclosure: Disclosure) -> bytes:
    """The JSON bytes a disclosure is served as, and whose SHA-256 the response records."""
    return msgspec.json.encode(disclosure)


def _redactions(events: decisions.Decoded) -> list[RedactionEntry]:
    entries: dict[UUID, RedactionEntry] = {}
    for record, e in events:
        if record.type == "RedactionApplied":
            entries[e.redaction_id] = RedactionEntry(
                redaction_id=e.redaction_id,
                pointer=e.pointer,
                ground=e.ground,
                exemption=EXEMPTIONS[e.ground],
                reviewer_id=e.reviewer_id,
                public_interest_note=e.public_interest_note,
                reason=e.reason,
                position=record.position,
                recorded_at=record.recorded_at,
            )
        elif record.type == "RedactionWithdrawn":
            entry = entries[e.redaction_id]
            entry.withdrawn_reason, entry.withdrawn_position = e.reason, record.position
    return list(entries.values())


def _pinned_document(ledger: Ledger, conn: psycopg.Connection[Any], request: FoiRequest) -> dict[str, Any]:
    """The pinned record; once responded, naming the checkpoint it named then (0: none), so it rebuilds byte for
    byte."""
    at_most = None if request.response is None else request.response.checkpoint_tree_size or 0
    return source_document(ledger, conn, _disclosure_source(request), checkpoint_at_most=at_most)


def _disclosure(
    ledger: Ledger, conn: psycopg.Connection[Any], request: FoiRequest, document: dict[str, Any] | None = None
) -> Disclosure:
    """The disclosure; `document`, the pinned record when already read, has its withheld values replaced."""
    source = _disclosure_source(request)
    if document is None:
        document = _pinned_document(ledger, conn, request)
    withheld = []
    for entry in _redactions(decisions.read_stream(ledger, conn, request.id)):
        if entry.withdrawn_position is not None:
            continue
        json_pointer.replace(document, entry.pointer, marker(entry.ground))
        withheld.append(WithheldItem(**{f: getattr(entry, f) for f in WithheldItem.__struct_fields__}))
    return Disclosure(request_id=request.id, source=source, withheld=withheld, document=document)


def disclosure(ledger: Ledger, conn: psycopg.Connection[Any], request_id: UUID) -> Disclosure:
    """What is (or was) disclosed for the request: it contains none of the withheld values."""
    return _disclosure(ledger, conn, ledger.load(FoiRequest, request_id))


class SuggestedRedaction(msgspec.Struct, kw_only=True):
    """A value a reviewer may want to withhold: a suggestion only, nothing is withheld until applied."""

    pointer: str
    ground: Ground
    exemption: str
    supplier_id: UUID
    supplier_name: str | None
    field: str
    suggested_reason: str
    suggested_public_interest_note: str


_COMMERCIAL_REASON = "The {field} of an unsuccessful bidder ({supplier}) is commercially sensitive."
_COMMERCIAL_NOTE = (
    "Disclosing an unsuccessful bidder's {field} would be likely to prejudice its commercial interests in "
    "future competitions; the public interest in transparency is met by the published criteria, scores, "
    "ranking and award rationale."
)


def suggested_redactions(ledger: Ledger, conn: psycopg.Connection[Any], request_id: UUID) -> list[SuggestedRedaction]:
    """For a call-off record: each unsuccessful bidder's price, method statement and social value, under
    s.43(2), that is not already withheld."""
    request = ledger.load(FoiRequest, request_id)
    source = _disclosure_source(request)
    if source.kind is not SourceKind.CALL_OFF_RECORD:
        return []
    return _suggested(request, source_document(ledger, conn, source))


def _suggested(request: FoiRequest, document: dict[str, Any]) -> list[SuggestedRedaction]:
    """The suggestions for the pinned record (`document`, before any value is withheld)."""
    if _disclosure_source(request).kind is not SourceKind.CALL_OFF_RECORD:
        return []
    award = document["award"]
    winner = award["supplier"]["id"] if award else None
    held = [p for p, _ in request.redactions.values()]
    suggestions = []
    for i, stage in enumerate(document["tenders"]):
        for j, receipt in enumerate(stage["receipts"]):
            content = receipt["content"]
            if content is None or receipt["supplier_id"] == winner:
                continue
            for field in ("price", "method_statement", "social_value"):
                at = json_pointer.join("tenders", i, "receipts", j, "content", field)
                if content.get(field) is None or any(json_pointer.contains(h, at) for h in held):
                    continue
                suggestions.append(
                    SuggestedRedaction(
                        pointer=at,
                        ground=Ground.COMMERCIAL_INTERESTS,
                        exemption=EXEMPTIONS[Ground.COMMERCIAL_INTERESTS],
                        supplier_id=UUID(receipt["supplier_id"]),
                        supplier_name=receipt["supplier_name"],
                        field=field,
                        suggested_reason=_COMMERCIAL_REASON.format(
                            field=field.replace("_", " "), supplier=receipt["supplier_name"] or receipt["supplier_id"]
                        ),
                        suggested_public_interest_note=_COMMERCIAL_NOTE.format(field=field.replace("_", " ")),
                    )
                )
    return suggestions


class RequestSummary(msgspec.Struct, kw_only=True):
    """A request and where it stands against its deadline."""

    id: UUID
    reference: str
    requester_name: str
    information_requested: str
    received_on: date
    status: FoiStatus
    call_off_id: UUID | None
    supplier_id: UUID | None
    statutory_due_on: date
    due_on: date | None  # None while awaiting clarification
    extended: bool
    working_days_left: int | None  # negative once overdue; None when responded or the clock is stopped
    overdue: bool
    responded_on: date | None
    outcome: Outcome | None
    late: bool | None


def summary(request: FoiRequest, today: date) -> RequestSummary:
    due, response = request.due_on, request.response
    running = due if response is None else None  # the deadline that is still running, if any
    return RequestSummary(
        id=request.id,
        reference=request.reference,
        requester_name=request.requester_name,
        information_requested=request.information_requested,
        received_on=request.received_on,
        status=request.status,
        call_off_id=request.call_off_id,
        supplier_id=request.supplier_id,
        statutory_due_on=request.statutory_due_on,
        due_on=due,
        extended=due is not None and due != request.statutory_due_on,
        working_days_left=working_days.working_days_between(today, running) if running else None,
        overdue=running is not None and today > running,
        responded_on=response.responded_on if response else None,
        outcome=response.outcome if response else None,
        late=response.late if response else None,
    )


def list_requests(ledger: Ledger, today: date) -> list[RequestSummary]:
    """Every request, open ones first by due date (FOI requests are few: read from the event store)."""
    found = [summary(r, today) for r in ledger.load_all(FoiRequest)]
    return sorted(found, key=lambda s: (s.responded_on is not None, s.due_on or date.max, s.reference))


class FoiCase(msgspec.Struct, kw_only=True):
    request: RequestSummary
    information_requested: str
    disclosure: PinnedSource | None
    response: Response | None
    redactions: list[RedactionEntry]  # in force and withdrawn
    history: list[decisions.TimelineEntry]


def case(ledger: Ledger, conn: psycopg.Connection[Any], request_id: UUID, today: date) -> FoiCase:
    request = ledger.load(FoiRequest, request_id)
    events = decisions.read_stream(ledger, conn, request_id)
    return FoiCase(
        request=summary(request, today),
        information_requested=request.information_requested,
        disclosure=request.disclosure,
        response=request.response,
        redactions=_redactions(events),
        history=decisions.timeline("foi_request", events),
    )


class DisclosureContents(msgspec.Struct, kw_only=True):
    """The disclosure as a reviewer reads it: the pinned record's contents as labelled values (each withheld one its
    marker), the schedule of what is withheld, and the redactions suggested for what is not (none once responded)."""

    request_id: UUID
    source: PinnedSource
    title: str
    sections: list[contents.RecordSection]
    withheld: list[WithheldItem]
    suggested: list[SuggestedRedaction]


def disclosure_contents(ledger: Ledger, conn: psycopg.Connection[Any], request_id: UUID) -> DisclosureContents:
    request = ledger.load(FoiRequest, request_id)
    document = _pinned_document(ledger, conn, request)
    suggested = _suggested(request, document) if request.response is None else []
    disclosed = _disclosure(ledger, conn, request, document)
    readable = contents.record_contents(disclosed.document)
    return DisclosureContents(
        request_id=request.id,
        source=disclosed.source,
        title=readable.title,
        sections=readable.sections,
        withheld=disclosed.withheld,
        suggested=suggested,
    )
