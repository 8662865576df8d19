"""Ring-fenced funds and their terms, as data: what each may fund, who may hold it, who approves its overruns.

A budget line marked ring-fenced carries the code of a fund listed here; a commitment against it is refused, naming
the term it breaks, unless the contract meets every term; an overrun of it is approved by the fund's own approver,
not by whoever approves overruns of a commissioner's core budget (issue 19, item 2; ADR 37).

The Regional Outcome and Innovation Fund (seed 000, "Regional Outcome and Innovation Fund: Aims" and "how it could
be used"; DOMAIN.md, Money): £20m a year, ring-fenced, "to be spent on cross-cutting approaches to reduce
re-offending"; "intended to be used to fund services that are not part of sentence delivery" through grants,
co-commissioning and proof-of-concept services, working directly with smaller providers. So: held by the probation
regions (a regional fund) and HMPPS nationally, paying only for services within the holder's area; any of the
framework's rehabilitative lots, never sentence delivery (Unpaid Work and accredited programmes, the Innovation
Partners' work, which are no lot); awarded as a grant or a contract; its overruns approved by the Authority, which
holds the fund nationally.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from ledger.errors import RuleViolation
from ledger.framework import categories, geography
from ledger.procurement.call_offs import AwardType
from ledger.roles import Role


class RingFence(msgspec.Struct, frozen=True, kw_only=True):
    code: str  # the budget line code that marks a line as this fund's
    name: str
    source: str  # where its terms come from
    holders: frozenset[str]  # commissioner types that may hold a line of it
    categories: frozenset[str]  # the lots it may fund
    award_types: frozenset[AwardType]
    within_holder_area: bool  # funds only services in the area of the commissioner holding the line
    overrun_approver: Role


RING_FENCES: dict[str, RingFence] = {
    fence.code: fence
    for fence in (
        RingFence(
            code="roif",
            name="Regional Outcome and Innovation Fund",
            source="seed 000: the fund's aims and how it could be used (grants, co-commissioning, proof of concept)",
            holders=frozenset({"probation-region", "hmpps"}),
            categories=frozenset(c.code for c in categories.SERVICE_CATEGORIES),
            award_types=frozenset({AwardType.GRANT, AwardType.CONTRACT}),
            within_holder_area=True,
            overrun_approver=Role.AUTHORITY,
        ),
    )
}


def terms_of(code: str) -> RingFence:
    """The fund a ring-fenced line's code names; a ring-fenced line of no known fund is refused."""
    fence = RING_FENCES.get(code)
    if fence is None:
        known = ", ".join(sorted(RING_FENCES))
        raise RuleViolation("ring-fenced fund terms", f"no ring-fenced fund has the code {code!r} (funds: {known})")
    return fence


def check_holder(code: str, ring_fenced: bool, commissioner_type: str) -> None:
    """May a commissioner of this type hold a line with this code, ring-fenced or not?"""
    if code in RING_FENCES and not ring_fenced:
        raise RuleViolation(
            "ring-fenced fund terms", f"{code} is the {RING_FENCES[code].name}: its lines are ring-fenced"
        )
    if not ring_fenced:
        return
    fence = terms_of(code)
    if commissioner_type not in fence.holders:
        raise RuleViolation(
            "ring-fenced fund terms",
            f"the {fence.name} is held by {', '.join(sorted(fence.holders))} commissioners, not {commissioner_type}",
        )


class Funded(msgspec.Struct, frozen=True, kw_only=True):
    """What a fund is asked to pay for: a contract's award type, lots and areas."""

    contract_id: UUID
    award_type: str
    lots: tuple[str, ...]
    areas: tuple[str, ...]


def check_commitment(fence: RingFence, funded: Funded, holder_area: str) -> None:
    """May this fund, held for `holder_area`, pay for this contract? Refused naming the first term it breaks."""
    if AwardType(funded.award_type) not in fence.award_types:
        allowed = " or ".join(sorted(fence.award_types))
        raise RuleViolation("ring-fenced fund terms", f"the {fence.name} funds a {allowed}, not a {funded.award_type}")
    outside = [lot for lot in funded.lots if lot not in fence.categories]
    if outside or not funded.lots:
        raise RuleViolation(
            "ring-fenced fund terms", f"the {fence.name} does not fund {', '.join(outside) or 'a contract with no lot'}"
        )
    if fence.within_holder_area:
        beyond = [a for a in funded.areas if not geography.covers(holder_area, a)]
        if beyond:
            raise RuleViolation(
                "ring-fenced fund terms",
                f"this {fence.name} line is held for {geography.names([holder_area])}: it does not fund services in"
                f" {geography.names(beyond)}",
            )


def check_overrun_approver(code: str, ring_fenced: bool, role: str) -> None:
    """A ring-fenced line's overrun is approved by its fund's approver; any other line's by a finance officer."""
    approver, what = (
        (terms_of(code).overrun_approver, f"the {terms_of(code).name}") if ring_fenced else (Role.FINANCE_OFFICER, code)
    )
    if role != approver:
        raise RuleViolation("overrun approval", f"an overrun of {what} is approved by a {approver}, not a {role}")
