"""The framework's geography tree and its "covers" relation: the one list of areas.

Region letters (A-L) are the MoJ "Refer and monitor an intervention" service's own `nps_region` codes, the
authoritative source for the live framework: its published contract definitions put West Midlands
contracts (e.g. FBD-WM, Dependency and Recovery West Midlands) under E and East Midlands ones (FBD-EM,
Accommodation East Midlands) under F, and its PCC-area table nests Staffordshire, Warwickshire, West Mercia
and West Midlands in E. The 2019 Clinks briefing in the source documents (seed 003) letters the two the
other way round (E = East Midlands, F = West Midlands); the ledger follows the service, not the briefing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import cache

import msgspec


class AreaKind(enum.StrEnum):
    COUNTRY = "country"
    NATION = "nation"
    PROBATION_REGION = "probation-region"
    POLICE_AREA = "police-area"


class Area(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: AreaKind
    parent_code: str | None
    attributes: dict[str, str] = {}


ENGLAND_AND_WALES = "england-and-wales"

# The 12 probation regions (codes A-L as used by the MoJ referral service, see the module's docstring; L,
# Greater Manchester, was split from the North West) and the nation each lies in.
_REGIONS = (
    ("A", "North East", "england"),
    ("B", "North West", "england"),
    ("C", "Yorkshire and the Humber", "england"),
    ("D", "Wales", "wales"),
    ("E", "West Midlands", "england"),
    ("F", "East Midlands", "england"),
    ("G", "South West", "england"),
    ("H", "South Central", "england"),
    ("I", "East of England", "england"),
    ("J", "London", "england"),
    ("K", "Kent, Surrey and Sussex", "england"),
    ("L", "Greater Manchester", "england"),
)

# The 43 police force areas, the probation region each lies in and who holds the police and
# crime commissioner function. 41 rows follow the MoJ referral service's pcc_region table;
# Metropolitan (MOPAC) and Greater Manchester (the Mayor) are added because it leaves them out.
_POLICE_AREAS = (
    ("avon-and-somerset", "Avon & Somerset", "G", "PCC"),
    ("bedfordshire", "Bedfordshire", "I", "PCC"),
    ("cambridgeshire", "Cambridgeshire", "I", "PCC"),
    ("cheshire", "Cheshire", "B", "PCC"),
    ("city-of-london", "City of London", "J", "City of London Corporation"),
    ("cleveland", "Cleveland", "A", "PCC"),
    ("cumbria", "Cumbria", "B", "PCC"),
    ("derbyshire", "Derbyshire", "F", "PCC"),
    ("devon-and-cornwall", "Devon & Cornwall", "G", "PCC"),
    ("dorset", "Dorset", "G", "PCC"),
    ("durham", "Durham", "A", "PCC"),
    ("dyfed-powys", "Dyfed-Powys", "D", "PCC"),
    ("essex", "Essex", "I", "PCC"),
    ("gloucestershire", "Gloucestershire", "G", "PCC"),
    ("gwent", "Gwent", "D", "PCC"),
    ("hampshire", "Hampshire", "H", "PCC"),
    ("hertfordshire", "Hertfordshire", "I", "PCC"),
    ("humberside", "Humberside", "C", "PCC"),
    ("kent", "Kent", "K", "PCC"),
    ("lancashire", "Lancashire", "B", "PCC"),
    ("leicestershire", "Leicestershire", "F", "PCC"),
    ("lincolnshire", "Lincolnshire", "F", "PCC"),
    ("merseyside", "Merseyside", "B", "PCC"),
    ("norfolk", "Norfolk", "I", "PCC"),
    ("north-wales", "North Wales", "D", "PCC"),
    ("north-yorkshire", "North Yorkshire", "C", "PCC"),
    ("northamptonshire", "Northamptonshire", "I", "PCC"),
    ("northumbria", "Northumbria", "A", "PCC"),
    ("nottinghamshire", "Nottinghamshire", "F", "PCC"),
    ("south-wales", "South Wales", "D", "PCC"),
    ("south-yorkshire", "South Yorkshire", "C", "PCC"),
    ("staffordshire", "Staffordshire", "E", "PCC"),
    ("suffolk", "Suffolk", "I", "PCC"),
    ("surrey", "Surrey", "K", "PCC"),
    ("sussex", "Sussex", "K", "PCC"),
    ("thames-valley", "Thames Valley", "H", "PCC"),
    ("warwickshire", "Warwickshire", "E", "PCC"),
    ("west-mercia", "West Mercia", "E", "PCC"),
    ("west-midlands", "West Midlands", "E", "PCC"),
    ("west-yorkshire", "West Yorkshire", "C", "WYCA Mayor"),
    ("wiltshire", "Wiltshire", "G", "PCC"),
    ("metropolitan", "Metropolitan Police (London)", "J", "MOPAC"),
    ("greater-manchester", "Greater Manchester", "L", "GMCA Mayor"),
)


def region_code(letter: str) -> str:
    return f"region-{letter.lower()}"


def _build() -> tuple[Area, ...]:
    areas = [
        Area(code=ENGLAND_AND_WALES, name="England and Wales", kind=AreaKind.COUNTRY, parent_code=None),
        Area(code="england", name="England", kind=AreaKind.NATION, parent_code=ENGLAND_AND_WALES),
        Area(code="wales", name="Wales", kind=AreaKind.NATION, parent_code=ENGLAND_AND_WALES),
    ]
    areas += [
        Area(
            code=region_code(letter),
            name=name,
            kind=AreaKind.PROBATION_REGION,
            parent_code=nation,
            attributes={"region_letter": letter},
        )
        for letter, name, nation in _REGIONS
    ]
    areas += [
        Area(
            code=code,
            name=name,
            kind=AreaKind.POLICE_AREA,
            parent_code=region_code(letter),
            attributes={"policing_body": body},
        )
        for code, name, letter, body in _POLICE_AREAS
    ]
    return tuple(areas)


AREAS: tuple[Area, ...] = _build()
BY_CODE = {a.code: a for a in AREAS}
CHILDREN: dict[str, tuple[str, ...]] = {a.code: tuple(c.code for c in AREAS if c.parent_code == a.code) for a in AREAS}


@cache
def ancestors(code: str) -> tuple[str, ...]:
    """The area itself and every area containing it, innermost first."""
    chain = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = BY_CODE[current].parent_code
    return tuple(chain)


def covers(outer: str, inner: str) -> bool:
    """True when area `outer` contains (or is) area `inner`."""
    return outer in ancestors(inner)


def uncovered(target: str, areas: Iterable[str]) -> tuple[str, ...]:
    """The parts of `target` that none of `areas` covers, as the largest whole areas (empty: covered).

    Areas cover by union: the three police areas of a region together cover the region. A part is named
    as high up the tree as it is wholly uncovered (a whole region, not its police areas one by one).
    """
    declared = frozenset(areas)

    def walk(code: str) -> tuple[str, ...]:
        if declared.intersection(ancestors(code)):
            return ()  # an area containing (or equal to) this one is declared
        if not CHILDREN[code] or not any(covers(code, area) for area in declared):
            return (code,)  # nothing declared inside it: wholly uncovered
        return tuple(part for child in CHILDREN[code] for part in walk(child))

    return walk(target)


def names(codes: Iterable[str]) -> str:
    """Areas as people read them: "Durham, Cleveland"."""
    return ", ".join(BY_CODE[code].name for code in codes)


def probation_regions(areas: tuple[str, ...] | list[str]) -> list[str]:
    """The probation regions an area list touches: a region containing each area, or all regions within it."""
    regions: set[str] = set()
    for code in areas:
        inside = [c for c in ancestors(code) if BY_CODE[c].kind is AreaKind.PROBATION_REGION]
        if inside:
            regions.add(inside[0])
        else:
            regions.update(a.code for a in AREAS if a.kind is AreaKind.PROBATION_REGION and covers(code, a.code))
    return sorted(regions)
