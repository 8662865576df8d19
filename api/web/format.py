"""How the pages write values: GOV.UK dates and money, and names instead of codes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ledger.framework import categories, geography

LONDON = ZoneInfo("Europe/London")


def gov_date(value: date | datetime | str | None) -> str:
    """12 March 2026 (a moment is shown on its London day)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def gov_time(value: datetime | str | None) -> str:
    """12 March 2026 at 9:05am (London time, as GOV.UK writes times)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    clock = (
        "midday" if (local.hour, local.minute) == (12, 0) else f"{hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
    )
    return f"{gov_date(local)} at {clock}"


def iso(value: datetime | None) -> str:
    """The exact moment, for a machine-readable `datetime` attribute or an auditor's column."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def money(value: Decimal | str | int | None) -> str:
    """£1,250.00 (negative as -£12.50); money is Decimal end to end, never float."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def area_name(code: str | None) -> str:
    if not code:
        return ""
    area = geography.BY_CODE.get(code)
    return area.name if area else code


def category_name(code: str | None) -> str:
    if not code:
        return ""
    category = categories.BY_CODE.get(code)
    return category.name if category else code


def humanise(value: str | None) -> str:
    """A stored state or code as words: "awaiting_assessment" -> "Awaiting assessment"."""
    if not value:
        return ""
    words = str(value).replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:]
