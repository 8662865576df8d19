"""Market health: how the framework's market is judged, stated once (issue 19; ADR 36).

The source documents ask the framework to keep a healthy, local and diverse market: "avoid awarding large contracts
that will shut out small providers" and monitor arrangements in each area (seed 003), with conditions that let
smaller providers take part (seed 000). The report built from the views (`projections/catalogue/market_health.py`)
decides nothing of its own: who is qualified where is the invitation rule's answer, and the classes, the measures
of concentration and what counts as a gap are the functions here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

import msgspec

from ledger.framework.suppliers import OrganisationType

K = TypeVar("K")

# A lot in an area is a gap when fewer suppliers than this could be invited to a call-off for it there: below
# three, a competition has at most two bidders and one failure leaves none (the default; a reader may ask for
# another).
MINIMUM_QUALIFIED = 3


class SupplierSize(enum.StrEnum):
    SMALL = "small"  # small or medium-sized enterprise, as the supplier declared it on registration
    LARGE = "large"


class SupplierType(enum.StrEnum):
    """The report's supplier types: the registered organisation types, voluntary meaning voluntary/community."""

    VOLUNTARY = "voluntary"
    MUTUAL = "mutual"
    PUBLIC = "public"
    PRIVATE = "private"


def size_of(is_small: bool) -> SupplierSize:
    return SupplierSize.SMALL if is_small else SupplierSize.LARGE


def type_of(organisation_type: str | OrganisationType) -> SupplierType:
    return SupplierType(str(organisation_type))


class Concentration(msgspec.Struct, frozen=True, kw_only=True):
    """How concentrated an amount is among suppliers: the largest one's share and the Herfindahl-Hirschman index.

    Shares are percentages of the whole (to two places); the index is the sum of the squared percentage shares,
    from near 0 (many small shares) to 10,000 (one supplier has everything). Competition authorities read an
    index above 2,000 as highly concentrated and 1,000 to 2,000 as moderately so.
    """

    suppliers: int
    top_supplier_share: Decimal | None  # None when nothing was spent
    hhi: Decimal | None
    level: str | None  # "unconcentrated", "moderately concentrated", "highly concentrated"


_HUNDREDTH = Decimal("0.01")


def concentration(amounts: Mapping[K, Decimal]) -> Concentration:
    """The concentration of an amount shared among suppliers (each supplier's part, any key)."""
    parts = [amount for amount in amounts.values() if amount > 0]
    total = sum(parts, Decimal(0))
    if total <= 0:
        return Concentration(suppliers=len(parts), top_supplier_share=None, hhi=None, level=None)
    shares = [part * 100 / total for part in parts]
    hhi = sum((share * share for share in shares), Decimal(0)).quantize(_HUNDREDTH, ROUND_HALF_EVEN)
    return Concentration(
        suppliers=len(parts),
        top_supplier_share=max(shares).quantize(_HUNDREDTH, ROUND_HALF_EVEN),
        hhi=hhi,
        level=concentration_level(hhi),
    )


def concentration_level(hhi: Decimal) -> str:
    if hhi > 2000:
        return "highly concentrated"
    if hhi >= 1000:
        return "moderately concentrated"
    return "unconcentrated"


def gap_reasons(qualified: int, live_contracts: int, minimum: int = MINIMUM_QUALIFIED) -> tuple[str, ...]:
    """Why a lot in an area is a gap in the market (none when it is not one)."""
    reasons = []
    if qualified < minimum:
        reasons.append(f"{qualified} qualified supplier{'' if qualified == 1 else 's'}, fewer than {minimum}")
    if live_contracts == 0:
        reasons.append("no live contract")
    return tuple(reasons)


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """A part as a percentage of the whole, to two places (None of nothing)."""
    if whole <= 0:
        return None
    return (part * 100 / whole).quantize(_HUNDREDTH, ROUND_HALF_EVEN)


def mean(values: Iterable[int]) -> Decimal | None:
    """The mean of counts, to one place (None of none)."""
    counted = list(values)
    if not counted:
        return None
    return (Decimal(sum(counted)) / len(counted)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
