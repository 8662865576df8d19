"""The framework's 14 service categories (lots) and its complexity levels: the one list of each."""

from __future__ import annotations

import enum

import msgspec


class CategoryKind(enum.StrEnum):
    """A call-off targets a need, a cohort, or a need for a cohort."""

    NEED = "need"
    COHORT = "cohort"


class Complexity(enum.StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ComplexityLevel(msgspec.Struct, frozen=True):
    code: Complexity
    name: str
    rank: int
    description: str


COMPLEXITY_LEVELS: tuple[ComplexityLevel, ...] = (
    ComplexityLevel(
        Complexity.LOW,
        "Low complexity",
        1,
        "Advice, guidance and support to access services; the person can largely act for themselves.",
    ),
    ComplexityLevel(
        Complexity.MEDIUM,
        "Medium complexity",
        2,
        "Builds on low: structured one-to-one or group work and active liaison with other agencies.",
    ),
    ComplexityLevel(
        Complexity.HIGH,
        "High complexity",
        3,
        "Builds on medium: intensive, multi-agency support for multiple or specialist needs.",
    ),
)


class ServiceCategory(msgspec.Struct, frozen=True):
    code: str
    name: str
    kind: CategoryKind
    complexity_levels: tuple[Complexity, ...]


_ALL = (Complexity.LOW, Complexity.MEDIUM, Complexity.HIGH)

# Restorative Justice and Service User Involvement are services any person may need, so they are
# needs; the market-engagement material names women, young adults and BAME as the cohorts.
# Cognitive and Behavioural Change has no HIGH level: high-complexity attitudes and thinking work
# goes to an accredited programme instead.
SERVICE_CATEGORIES: tuple[ServiceCategory, ...] = (
    ServiceCategory("accommodation", "Accommodation", CategoryKind.NEED, _ALL),
    ServiceCategory("ete", "Education, Training and Employment", CategoryKind.NEED, _ALL),
    ServiceCategory("fbd", "Finance, Benefits and Debt", CategoryKind.NEED, _ALL),
    ServiceCategory("dependency-and-recovery", "Dependency and Recovery", CategoryKind.NEED, _ALL),
    ServiceCategory("family-and-significant-others", "Family and Significant Others", CategoryKind.NEED, _ALL),
    ServiceCategory("lifestyle-and-associates", "Lifestyle and Associates", CategoryKind.NEED, _ALL),
    ServiceCategory("emotional-wellbeing", "Emotional Wellbeing", CategoryKind.NEED, _ALL),
    ServiceCategory("social-inclusion", "Social Inclusion", CategoryKind.NEED, _ALL),
    ServiceCategory(
        "cognitive-and-behavioural-change",
        "Cognitive and Behavioural Change",
        CategoryKind.NEED,
        (Complexity.LOW, Complexity.MEDIUM),
    ),
    ServiceCategory("women", "Women", CategoryKind.COHORT, _ALL),
    ServiceCategory("young-adults", "Young Adults (18-25)", CategoryKind.COHORT, _ALL),
    ServiceCategory("bame", "Black, Asian and Minority Ethnic (BAME)", CategoryKind.COHORT, _ALL),
    ServiceCategory("restorative-justice", "Restorative Justice", CategoryKind.NEED, _ALL),
    ServiceCategory("service-user-involvement", "Service User Involvement", CategoryKind.NEED, _ALL),
)

BY_CODE = {c.code: c for c in SERVICE_CATEGORIES}
