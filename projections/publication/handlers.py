"""The publication view: each public event of procurement becomes one OCDS release of its process, written once in
log order (ADR 32). What is never published (sealed tenders, scores, drafts, people on probation) has no handler
that writes a release; the tables beside the releases only remember what the next release must name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import tuple_row

from ledger.framework import categories, geography
from ledger.framework.commissioners import Commissioner
from ledger.framework.reference import ReferenceList
from ledger.framework.suppliers import Supplier
from ledger.payments.accounts import ContractAccount
from ledger.procurement.call_offs import CallOff, DraftCallOff, ShortWindowGround
from ledger.procurement.contracts import Contract, add_months
from ledger.procurement.planning import Plan, PlannedCallOff
from projections.base import LoggedEvent, View
from projections.publication import ocds
from projections.publication.ocds import Notice

AUTHORITY = {"id": "hmpps", "name": "HM Prison and Probation Service"}
LOT_SCHEME = "x-probation-dynamic-framework-lot"


class PublicationView(View):
    name = "publication"
    code_version = "2"  # 2: planned call-offs as planning releases (ADR 38)
    tables = (
        "publication_releases",
        "publication_parties",
        "publication_call_offs",
        "publication_contracts",
        "publication_members",
        "publication_roles",
    )

    def register(self) -> None:
        self.on(ReferenceList.ServiceCategoryDefined, self.lot_defined)
        self.on(Supplier.SupplierRegistered, self.supplier_registered)
        self.on(Supplier.SupplierDetailsChanged, self.supplier_changed)
        self.on(Supplier.SupplierAppointedToLot, self.member_appointed)
        self.on(Supplier.SupplierWithdrewFromLot, self.member_withdrew)
        self.on(Supplier.SupplierExcluded, self.member_excluded)
        self.on(Supplier.SupplierReinstated, self.member_reinstated)
        self.on(Commissioner.CommissionerRegistered, self.commissioner_registered)
        self.on(PlannedCallOff.CallOffPlanned, self.call_off_planned)
        self.on(PlannedCallOff.PlannedCallOffRevised, self.plan_revised)
        self.on(PlannedCallOff.PlannedCallOffWithdrawn, self.plan_closed)
        self.on(PlannedCallOff.PlannedCallOffFulfilled, self.plan_closed)
        self.on(CallOff.CallOffDrafted, self.call_off_drafted)
        self.on(CallOff.CallOffPublished, self.call_off_published)
        self.on(CallOff.ClarificationPublished, self.clarification_published)
        self.on(CallOff.TendersOpened, self.tenders_opened)
        self.on(CallOff.AwardDecided, self.award_decided)
        self.on(CallOff.CallOffCancelled, self.call_off_closed)
        self.on(CallOff.NoAwardDecided, self.call_off_closed)
        self.on(Contract.ContractConcluded, self.contract_signed)
        self.on(Contract.ContractVaried, self.contract_varied)
        self.on(Contract.ContractExtended, self.contract_extended)
        self.on(Contract.ContractTerminated, self.contract_terminated)
        self.on(ContractAccount.ContractAccountOpened, self.account_opened)
        self.on(ContractAccount.PaymentMade, self.payment_made)
        self.on(ContractAccount.PaymentReversed, self.payment_reversed)

    # -- the dynamic market ------------------------------------------------------------------------

    @staticmethod
    def lot_defined(cur: Cursor[Any], logged: LoggedEvent) -> None:
        category = logged.event.category
        first = _one(cur, "SELECT 1 FROM publication_releases WHERE process = %s LIMIT 1", (ocds.MARKET,)) is None
        notice = Notice.MARKET_ESTABLISHMENT if first else Notice.MARKET_MODIFICATION
        tender = {
            "id": ocds.MARKET,
            "title": ocds.MARKET_TITLE,
            "description": "A dynamic market (Procurement Act 2023, s.34) of providers of probation services, "
            "in lots by need and by cohort; call-off competitions among its members award the contracts.",
            "status": "active",
            "mainProcurementCategory": "services",
            "procurementMethod": "selective",
            "procurementMethodDetails": "Dynamic market",
            "techniques": {"hasDynamicPurchasingSystem": True, "dynamicPurchasingSystem": {"type": "open"}},
            "items": [_lot_item(category.code)],
            "documents": [ocds.notice_document(notice, str(logged.position), logged.envelope.recorded_at)],
        }
        body = {
            "buyer": AUTHORITY,
            "parties": [{**AUTHORITY, "roles": ["buyer", "procuringEntity"]}],
            "tender": tender,
        }
        _publish(cur, logged, ocds.MARKET, ["tender" if first else "tenderUpdate"], notice, body)

    @staticmethod
    def supplier_registered(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO publication_parties (party_id, name, legal_identifier, organisation_type, is_small)"
            " VALUES (%s, %s, %s, %s, %s)",
            (logged.originator_id, e.name, e.legal_identifier, str(e.organisation_type), e.is_small),
        )

    @staticmethod
    def supplier_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "UPDATE publication_parties SET name = coalesce(%s, name),"
            " organisation_type = coalesce(%s, organisation_type), is_small = coalesce(%s, is_small)"
            " WHERE party_id = %s",
            (e.name, e.organisation_type and str(e.organisation_type), e.is_small, logged.originator_id),
        )

    @staticmethod
    def member_appointed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        sid, lot = logged.originator_id, logged.event.category
        cur.execute(
            "INSERT INTO publication_members (supplier_id, lot, active) VALUES (%s, %s, true)"
            " ON CONFLICT (supplier_id, lot) DO UPDATE SET active = true",
            (sid, lot),
        )
        _membership(cur, logged, sid, [lot], "active", "award")

    @staticmethod
    def member_withdrew(cur: Cursor[Any], logged: LoggedEvent) -> None:
        sid, lot = logged.originator_id, logged.event.category
        member = _one(cur, "SELECT active FROM publication_members WHERE supplier_id = %s AND lot = %s", (sid, lot))
        if member is None:  # withdrew an application before joining: never a member, nothing public
            return
        cur.execute("DELETE FROM publication_members WHERE supplier_id = %s AND lot = %s", (sid, lot))
        _membership(cur, logged, sid, [lot], "cancelled", "awardUpdate")

    @staticmethod
    def member_excluded(cur: Cursor[Any], logged: LoggedEvent) -> None:
        _set_members(cur, logged, active=False)

    @staticmethod
    def member_reinstated(cur: Cursor[Any], logged: LoggedEvent) -> None:
        _set_members(cur, logged, active=True)

    @staticmethod
    def commissioner_registered(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO publication_parties (party_id, name, organisation_id) VALUES (%s, %s, %s)",
            (logged.originator_id, e.name, e.organisation_id),
        )

    # -- planned call-offs: the forward pipeline, each plan a process of its own -------------------

    @staticmethod
    def call_off_planned(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        lead = _party(cur, e.lead_commissioner_id)
        body = _planned(logged, e.plan, ["planning"])
        body["buyer"] = ocds.commissioner_ref(lead)
        body["parties"] = [ocds.commissioner_party(lead, ["buyer", "procuringEntity"])]
        _publish(cur, logged, str(logged.originator_id), ["planning"], Notice.PLANNED_PROCUREMENT, body)

    @staticmethod
    def plan_revised(cur: Cursor[Any], logged: LoggedEvent) -> None:
        body = _planned(logged, logged.event.plan, ["planningUpdate"])
        body["tender"]["documents"][0]["description"] = f"Revised: {logged.event.reason}"
        _publish(cur, logged, str(logged.originator_id), ["planningUpdate"], Notice.PLANNED_PROCUREMENT, body)

    @staticmethod
    def plan_closed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """Withdrawn (the plan will not go ahead) or complete (its call-off was drafted; the call-off is published
        as a process of its own when it opens)."""
        withdrawn = isinstance(logged.event, PlannedCallOff.PlannedCallOffWithdrawn)
        at = logged.envelope.recorded_at
        tender = {
            "id": str(logged.originator_id),
            "status": "withdrawn" if withdrawn else "complete",
            "documents": [
                ocds.notice_document(
                    Notice.PLANNED_PROCUREMENT,
                    str(logged.position),
                    at,
                    description=f"Withdrawn: {logged.event.reason}" if withdrawn else "A call-off was drafted for it",
                )
            ],
        }
        _publish(
            cur, logged, str(logged.originator_id), ["planningUpdate"], Notice.PLANNED_PROCUREMENT, {"tender": tender}
        )

    # -- call-offs ---------------------------------------------------------------------------------

    @staticmethod
    def call_off_drafted(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """A draft is remembered for its publication, never published itself."""
        cur.execute(
            "INSERT INTO publication_call_offs (call_off_id, draft) VALUES (%s, %s)",
            (logged.originator_id, msgspec.json.encode(logged.event.draft).decode()),
        )

    @staticmethod
    def call_off_published(cur: Cursor[Any], logged: LoggedEvent) -> None:
        cid, at, e = logged.originator_id, logged.envelope.recorded_at, logged.event
        cur.execute("UPDATE publication_call_offs SET published = true WHERE call_off_id = %s", (cid,))
        draft = _draft(cur, cid)
        weights = ", ".join(f"{c.name} ({c.kind.replace('_', ' ')}) {c.weight}%" for c in draft.criteria)
        window = e.response_deadline - at
        tender: dict[str, Any] = {
            "id": str(cid),
            "title": draft.title,
            "description": draft.specification,
            "status": "active",
            "mainProcurementCategory": "services",
            "procurementMethod": "selective",
            "procurementMethodDetails": "Competitive flexible procedure: a call-off among the dynamic market's"
            " members in its lots and area",
            "techniques": {"hasDynamicPurchasingSystem": True},
            "competitive": True,
            "items": [_lot_item(code) for code in (draft.need, draft.cohort) if code],
            "value": ocds.value(draft.estimated_value),
            "tenderPeriod": {
                "startDate": ocds.stamp(at),
                "endDate": ocds.stamp(e.response_deadline),
                "durationInDays": window.days,
            },
            "awardCriteria": "ratedCriteria",
            "awardCriteriaDetails": f"Weighted criteria: {weights}",
            "contractPeriod": {"durationInMonths": draft.initial_term_months},
            "deliveryLocations": [{"description": geography.BY_CODE[draft.geography].name}],
            "documents": [ocds.notice_document(Notice.TENDER, str(logged.position), at)],
        }
        if e.short_window_ground:
            tender["procurementMethodRationale"] = (
                f"A response window shorter than 28 days, on the ground "
                f"{ShortWindowGround(e.short_window_ground).replace('_', ' ')}: {e.short_window_justification}"
            )
        _publish_call_off(cur, logged, ["tender"], Notice.TENDER, {"tender": tender}, draft)

    @staticmethod
    def clarification_published(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.recorded_at
        clarification = {
            "id": f"clarification-{logged.position}",
            "documentType": "clarifications",
            "title": "Clarification",
            "description": f"Question: {e.question}\nAnswer: {e.answer}",
            "datePublished": ocds.stamp(at),
        }
        tender = {
            "id": str(logged.originator_id),
            "documents": [clarification, ocds.notice_document(Notice.TENDER, str(logged.position), at)],
        }
        _publish_call_off(cur, logged, ["tenderUpdate"], Notice.TENDER, {"tender": tender})

    @staticmethod
    def tenders_opened(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """How many tenders were opened, at which stage: never who sent them or what they say."""
        e, at = logged.event, logged.envelope.recorded_at
        count = len(e.tenders)
        tender: dict[str, Any] = {
            "id": str(logged.originator_id),
            "documents": [ocds.notice_document(Notice.TENDER, str(logged.position), at)],
        }
        if e.stage == "initial":
            tender["numberOfTenderers"] = count
        statistic = {
            "id": f"bids-{e.stage}",
            "measure": "bids",
            "value": count,
            "date": ocds.stamp(at),
            "notes": "tenders opened at the initial stage" if e.stage == "initial" else "best and final offers opened",
        }
        body = {"tender": tender, "bids": {"statistics": [statistic]}}
        _publish_call_off(cur, logged, ["tenderUpdate"], Notice.TENDER, body)

    @staticmethod
    def award_decided(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """The supplier chosen and the standstill period: neither the ranking nor anyone's scores."""
        e, at = logged.event, logged.envelope.recorded_at
        supplier = _party(cur, e.supplier_id)
        award = {
            "id": _award_id(logged.originator_id),
            "status": "pending",
            "date": ocds.stamp(at),
            "suppliers": [ocds.supplier_ref(supplier)],
            "standstillPeriod": {"startDate": ocds.stamp(at), "endDate": ocds.stamp(e.standstill_ends)},
            "documents": [ocds.notice_document(Notice.CONTRACT_AWARD, str(logged.position), at)],
        }
        body = {
            "tender": {"id": str(logged.originator_id), "status": "complete"},
            "awards": [award],
            "parties": [ocds.supplier_party(supplier, ["supplier", "tenderer"])],
        }
        _publish_call_off(cur, logged, ["award"], Notice.CONTRACT_AWARD, body)

    @staticmethod
    def call_off_closed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """Cancelled, or closed without an award: public only if the call-off was published."""
        cid, at, e = logged.originator_id, logged.envelope.recorded_at, logged.event
        row = _one(cur, "SELECT published FROM publication_call_offs WHERE call_off_id = %s", (cid,))
        if not row or not row[0]:
            return
        status = "unsuccessful" if isinstance(e, CallOff.NoAwardDecided) else "cancelled"
        document = ocds.notice_document(Notice.PROCUREMENT_TERMINATION, str(logged.position), at, description=e.reason)
        tender = {"id": str(cid), "status": status, "documents": [document]}
        _publish_call_off(cur, logged, ["tenderCancellation"], Notice.PROCUREMENT_TERMINATION, {"tender": tender})

    # -- contracts ---------------------------------------------------------------------------------

    @staticmethod
    def contract_signed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at, contract_id = logged.event, logged.envelope.recorded_at, logged.originator_id
        cur.execute(
            "INSERT INTO publication_contracts (contract_id, call_off_id, supplier_id) VALUES (%s, %s, %s)",
            (contract_id, e.call_off_id, e.supplier_id),
        )
        longest = add_months(e.end_date, sum(e.extension_options_months))
        options = ", ".join(f"{months} months" for months in e.extension_options_months)
        contract = {
            "id": str(contract_id),
            "awardID": _award_id(e.call_off_id),
            "status": "active",
            "value": ocds.value(e.value),
            "period": {
                "startDate": ocds.day(e.start_date),
                "endDate": ocds.day(e.end_date),
                "maxExtentDate": ocds.day(longest),
            },
            "dateSigned": ocds.stamp(at),
            "description": f"Extension options: {options}." if options else "No extension options.",
            "documents": [ocds.notice_document(Notice.CONTRACT_DETAILS, str(logged.position), at)],
        }
        award = {"id": _award_id(e.call_off_id), "status": "active", "value": ocds.value(e.value)}
        body = {"awards": [award], "contracts": [contract]}
        _publish_call_off(cur, logged, ["contract"], Notice.CONTRACT_DETAILS, body, process=e.call_off_id)

    @staticmethod
    def contract_varied(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        changes = []
        contract: dict[str, Any] = {}
        if e.new_value is not None:
            contract["value"] = ocds.value(e.new_value)
            changes.append(f"value to {e.new_value} {ocds.CURRENCY}")
        if e.new_end_date is not None:
            contract["period"] = {"endDate": ocds.day(e.new_end_date)}
            changes.append(f"end date to {e.new_end_date}")
        _amend(cur, logged, contract, e.reason, f"Varied: {' and '.join(changes) or 'terms'}.")

    @staticmethod
    def contract_extended(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        contract = {"period": {"endDate": ocds.day(e.new_end_date)}}
        _amend(cur, logged, contract, e.reason, f"Extended by {e.months} months, an option of the contract.")

    @staticmethod
    def contract_terminated(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.recorded_at
        call_off_id = _call_off_of(cur, logged.originator_id)
        document = ocds.notice_document(Notice.CONTRACT_TERMINATION, str(logged.position), at, description=e.grounds)
        contract = {
            "id": str(logged.originator_id),
            "awardID": _award_id(call_off_id),
            "status": "terminated",
            "period": {"endDate": ocds.day(e.effective_date)},
            "documents": [document],
        }
        body = {"contracts": [contract]}
        _publish_call_off(cur, logged, ["contractTermination"], Notice.CONTRACT_TERMINATION, body, process=call_off_id)

    # -- payments ----------------------------------------------------------------------------------

    @staticmethod
    def account_opened(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "UPDATE publication_contracts SET account_id = %s, payer_id = %s WHERE contract_id = %s",
            (logged.originator_id, e.commissioner_id, e.contract_id),
        )

    @staticmethod
    def payment_made(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """A payment as a transaction of its contract: who paid whom, how much and when; never the invoice."""
        e, at = logged.event, logged.envelope.recorded_at
        row = _one(
            cur,
            "SELECT contract_id, call_off_id, supplier_id, payer_id FROM publication_contracts WHERE account_id = %s",
            (logged.originator_id,),
        )
        if row is None:  # an account of no published contract (none such is opened today): nothing to publish
            return
        contract_id, call_off_id, supplier_id, payer_id = row
        payer, payee = _party(cur, payer_id), _party(cur, supplier_id)
        transaction = {
            "id": str(e.payment_id),
            "date": ocds.day(e.paid_on),
            "value": ocds.value(e.amount),
            "payer": ocds.commissioner_ref(payer),
            "payee": ocds.supplier_ref(payee),
        }
        implementation = {
            "transactions": [transaction],
            "documents": [ocds.notice_document(Notice.PAYMENTS, str(logged.position), at)],
        }
        body = {
            "contracts": [
                {"id": str(contract_id), "awardID": _award_id(call_off_id), "implementation": implementation}
            ],
            "parties": [ocds.commissioner_party(payer, ["payer"]), ocds.supplier_party(payee, ["payee"])],
        }
        _publish_call_off(cur, logged, ["implementation"], Notice.PAYMENTS, body, process=call_off_id)

    @staticmethod
    def payment_reversed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """A reversed payment: a transaction of the opposite amount (the published payment stays as it was)."""
        e = logged.event
        row = _one(
            cur,
            "SELECT r.process, c->>'id', t::text FROM publication_releases AS r,"
            " jsonb_array_elements(r.release->'contracts') AS c,"
            " jsonb_array_elements(c->'implementation'->'transactions') AS t WHERE t->>'id' = %s",
            (str(e.payment_id),),
        )
        if row is None:  # paid before the publication knew the contract: nothing published to reverse
            return
        process, contract_id, paid = row[0], row[1], ocds.decode(row[2])
        reversal = {
            **paid,
            "id": f"{e.payment_id}-reversal",
            "date": ocds.stamp(logged.envelope.recorded_at),
            "value": ocds.value(-paid["value"]["amount"]),
        }
        implementation = {
            "transactions": [reversal],
            "documents": [ocds.notice_document(Notice.PAYMENTS, str(logged.position), logged.envelope.recorded_at)],
        }
        contract = {"id": contract_id, "awardID": _award_id(UUID(process)), "implementation": implementation}
        body = {"contracts": [contract]}
        _publish_call_off(cur, logged, ["implementationUpdate"], Notice.PAYMENTS, body, process=UUID(process))


# -- helpers -----------------------------------------------------------------------------------------


def _planned(logged: LoggedEvent, plan: Plan, tags: list[str]) -> dict[str, Any]:
    """A planned call-off as OCDS: its budget and the tender it plans, expected to open in its month."""
    at = logged.envelope.recorded_at
    year, month = (int(part) for part in plan.expected_publication.split("-"))
    volume = (
        f" Estimated annual volume: {plan.estimated_annual_volume:,} {plan.volume_unit}."
        if plan.estimated_annual_volume
        else ""
    )
    tender: dict[str, Any] = {
        "id": str(logged.originator_id),
        "title": plan.title,
        "description": plan.description + volume,
        "status": "planned",
        "mainProcurementCategory": "services",
        "items": [_lot_item(code) for code in (plan.need, plan.cohort) if code],
        "value": ocds.value(plan.estimated_value),
        "tenderPeriod": {"startDate": ocds.stamp(datetime(year, month, 1, tzinfo=UTC))},
        "deliveryLocations": [{"description": geography.BY_CODE[plan.geography].name}],
        "documents": [ocds.notice_document(Notice.PLANNED_PROCUREMENT, str(logged.position), at)],
    }
    if plan.initial_term_months:
        tender["contractPeriod"] = {"durationInMonths": plan.initial_term_months}
    budget = {"amount": ocds.value(plan.estimated_value), "description": f"Estimated value over the term.{volume}"}
    return {"planning": {"budget": budget}, "tender": tender}


def _one(cur: Cursor[Any], sql: str, params: Any = ()) -> Any:
    """One row, as a tuple, read on a cursor of its own (see `projections.base.fetch_one`)."""
    return cur.connection.cursor(row_factory=tuple_row).execute(sql, params).fetchone()


def _lot_item(code: str) -> dict[str, Any]:
    category = categories.BY_CODE.get(code)
    name = category.name if category else code
    return {
        "id": code,
        "description": name,
        "classification": {"scheme": LOT_SCHEME, "id": code, "description": name},
    }


def _award_id(call_off_id: UUID) -> str:
    return f"award-{call_off_id}"


def _party(cur: Cursor[Any], party_id: UUID) -> dict[str, Any]:
    row = _one(
        cur,
        "SELECT party_id, name, legal_identifier, organisation_type, is_small, organisation_id"
        " FROM publication_parties WHERE party_id = %s",
        (party_id,),
    )
    keys = ("party_id", "name", "legal_identifier", "organisation_type", "is_small", "organisation_id")
    return dict(zip(keys, row, strict=True))


def _draft(cur: Cursor[Any], call_off_id: UUID) -> DraftCallOff:
    row = _one(cur, "SELECT draft::text FROM publication_call_offs WHERE call_off_id = %s", (call_off_id,))
    return msgspec.json.decode(row[0], type=DraftCallOff)


def _call_off_of(cur: Cursor[Any], contract_id: UUID) -> UUID:
    return _one(cur, "SELECT call_off_id FROM publication_contracts WHERE contract_id = %s", (contract_id,))[0]


def _buyers(cur: Cursor[Any], draft: DraftCallOff) -> dict[str, Any]:
    """The lead commissioner as buyer and procuring entity, its partners as buyers."""
    lead = _party(cur, draft.lead_commissioner_id)
    partners = [_party(cur, pid) for pid in draft.partner_commissioner_ids]
    return {
        "buyer": ocds.commissioner_ref(lead),
        "parties": [
            ocds.commissioner_party(lead, ["buyer", "procuringEntity"]),
            *(ocds.commissioner_party(p, ["buyer"]) for p in partners),
        ],
    }


def _publish_call_off(
    cur: Cursor[Any],
    logged: LoggedEvent,
    tags: list[str],
    notice: str,
    body: dict[str, Any],
    draft: DraftCallOff | None = None,
    process: UUID | None = None,
) -> None:
    call_off_id = process or logged.originator_id
    draft = draft or _draft(cur, call_off_id)
    buyers = _buyers(cur, draft)
    parties = buyers["parties"] + body.pop("parties", [])
    _publish(cur, logged, str(call_off_id), tags, notice, {"buyer": buyers["buyer"], "parties": parties, **body})


def _amend(cur: Cursor[Any], logged: LoggedEvent, contract: dict[str, Any], rationale: str, description: str) -> None:
    at = logged.envelope.recorded_at
    call_off_id = _call_off_of(cur, logged.originator_id)
    amendment = {
        "id": f"amendment-{logged.position}",
        "date": ocds.stamp(at),
        "rationale": rationale,
        "description": description,
    }
    document = ocds.notice_document(Notice.CONTRACT_CHANGE, str(logged.position), at)
    changed = {
        "id": str(logged.originator_id),
        "awardID": _award_id(call_off_id),
        **contract,
        "amendments": [amendment],
        "documents": [document],
    }
    body = {"contracts": [changed]}
    _publish_call_off(cur, logged, ["contractAmendment"], Notice.CONTRACT_CHANGE, body, process=call_off_id)


def _membership(
    cur: Cursor[Any], logged: LoggedEvent, supplier_id: UUID, lots: list[str], status: str, tag: str
) -> None:
    """Joining or leaving the dynamic market's lots: an award of membership per lot, active or cancelled."""
    at = logged.envelope.recorded_at
    supplier = _party(cur, supplier_id)
    awards = [
        {
            "id": f"membership-{supplier_id}-{lot}",
            "title": f"Membership of the lot {_lot_item(lot)['description']}",
            "status": status,
            "date": ocds.stamp(at),
            "suppliers": [ocds.supplier_ref(supplier)],
            "items": [_lot_item(lot)],
        }
        for lot in lots
    ]
    body = {
        "buyer": AUTHORITY,
        "parties": [{**AUTHORITY, "roles": ["buyer", "procuringEntity"]}, ocds.supplier_party(supplier, ["supplier"])],
        "tender": {
            "id": ocds.MARKET,
            "documents": [ocds.notice_document(Notice.MARKET_MODIFICATION, str(logged.position), at)],
        },
        "awards": awards,
    }
    _publish(cur, logged, ocds.MARKET, [tag], Notice.MARKET_MODIFICATION, body)


def _set_members(cur: Cursor[Any], logged: LoggedEvent, *, active: bool) -> None:
    """Excluded from the market (its memberships cancelled) or reinstated (active again)."""
    sid = logged.originator_id
    rows = (
        cur.connection.cursor(row_factory=tuple_row)
        .execute(
            "SELECT lot FROM publication_members WHERE supplier_id = %s AND active = %s ORDER BY lot",
            (sid, not active),
        )
        .fetchall()
    )
    lots = [lot for (lot,) in rows]
    if not lots:
        return
    cur.execute("UPDATE publication_members SET active = %s WHERE supplier_id = %s", (active, sid))
    _membership(cur, logged, sid, lots, "active" if active else "cancelled", "awardUpdate")


def _parties(cur: Cursor[Any], process: str, parties: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each party once, with every role it has had in the process so far: a party's roles merge as a whole list
    (the latest release's stand), so each release names them all."""
    merged: dict[str, dict[str, Any]] = {}
    for party in parties:
        known = merged.get(party["id"])
        merged[party["id"]] = {**party, "roles": [*known["roles"], *party["roles"]]} if known else party
    for party in merged.values():
        earlier = _one(
            cur, "SELECT roles FROM publication_roles WHERE process = %s AND party = %s", (process, party["id"])
        )
        party["roles"] = list(dict.fromkeys([*(earlier[0] if earlier else []), *party["roles"]]))
        cur.execute(
            "INSERT INTO publication_roles (process, party, roles) VALUES (%s, %s, %s)"
            " ON CONFLICT (process, party) DO UPDATE SET roles = excluded.roles",
            (process, party["id"], party["roles"]),
        )
    return list(merged.values())


def _publish(
    cur: Cursor[Any], logged: LoggedEvent, process: str, tags: list[str], notice: str, body: dict[str, Any]
) -> None:
    if "parties" in body:
        body = {**body, "parties": _parties(cur, process, body["parties"])}
    release = {"date": ocds.stamp(logged.envelope.recorded_at), "tag": tags, "initiationType": "tender", **body}
    cur.execute(
        "INSERT INTO publication_releases (position, process, recorded_at, tags, notice_type, release)"
        " VALUES (%s, %s, %s, %s, %s, %s::jsonb)",
        (logged.position, process, logged.envelope.recorded_at, tags, notice, ocds.encode(release).decode()),
    )
