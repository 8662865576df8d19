"""Who a call-off invites, and why each near miss was not: the one rule, decided here only.

Publication records its result (`CallOffPublished.basis`); the catalogue's eligibility answer asks the same
function about the suppliers it holds. A supplier is a candidate when it holds any lot of the call-off,
appointed or passed but not yet appointed; a candidate is invited when it is appointed to every lot, active,
and its declared areas together cover the call-off's geography. Every other candidate is a near miss, with
each reason that kept it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import msgspec

from ledger.framework import geography
from ledger.framework.suppliers import LotStatus, SupplierStanding, SupplierStatus

# v1 needed one declared area containing the geography and left out suppliers yet to accept the terms;
# v2 covers by the union of declared areas and lists passed-but-not-appointed suppliers as near misses.
INVITATION_RULE = "invite-all-appointed-active-covering-v2"
_CANDIDATE_LOTS = (LotStatus.APPOINTED, LotStatus.PASSED)


class InvitationBasis(msgspec.Struct, frozen=True, kw_only=True):
    """Why one supplier was (or was not) invited, as the ledger saw it at publication."""

    supplier_id: UUID
    supplier_name: str
    invited: bool
    reasons: tuple[str, ...]
    uncovered: tuple[str, ...] = ()  # the parts of the geography its declared areas leave out


def _lot_reason(standing: SupplierStanding, lot: str) -> tuple[bool, str]:
    status = standing.lots.get(lot)
    if status is LotStatus.APPOINTED:
        return True, f"appointed to the {lot} lot"
    if status is LotStatus.PASSED:  # appointment follows acceptance of the terms at once
        return False, f"passed the {lot} lot but has not accepted the framework terms"
    return False, f"not appointed to the {lot} lot"


def _area_reason(standing: SupplierStanding, target: str) -> tuple[tuple[str, ...], str]:
    declared = standing.declared_areas
    listed = ", ".join(declared) or "none"
    containing = [a for a in declared if geography.covers(a, target)]
    if containing:
        return (), f"declared area {containing[0]} covers {target}"
    missing = geography.uncovered(target, declared)
    if not missing:
        inside = sorted(a for a in declared if geography.covers(target, a))
        return (), f"declared areas {', '.join(inside)} together cover {target}"
    if missing == (target,):
        return missing, f"no declared area covers {target} (declared: {listed})"
    return missing, f"declared areas leave {', '.join(missing)} of {target} uncovered (declared: {listed})"


def decide(standing: SupplierStanding, lots: tuple[str, ...], target: str) -> InvitationBasis | None:
    """One supplier's invitation to a call-off for `lots` in `target`; None when it holds none of the lots."""
    if not any(standing.lots.get(lot) in _CANDIDATE_LOTS for lot in lots):
        return None
    reasons: list[str] = []
    invited = True
    for lot in lots:
        ok, reason = _lot_reason(standing, lot)
        invited &= ok
        reasons.append(reason)
    if standing.status is not SupplierStatus.ACTIVE:
        invited = False
        reasons.append(f"supplier is {standing.status}")
    uncovered, reason = _area_reason(standing, target)
    invited &= not uncovered
    reasons.append(reason)
    return InvitationBasis(
        supplier_id=standing.supplier_id,
        supplier_name=standing.name,
        invited=invited,
        reasons=tuple(reasons),
        uncovered=uncovered,
    )


def invitation_basis(
    standings: Iterable[SupplierStanding], lots: tuple[str, ...], target: str
) -> tuple[InvitationBasis, ...]:
    """Every candidate supplier, invited or not, with the reasons, in name order."""
    ordered = sorted(standings, key=lambda s: (s.name.lower(), str(s.supplier_id)))
    return tuple(basis for s in ordered if (basis := decide(s, lots, target)) is not None)
