"""Desired outcomes per service category, and the coded reasons a referral ends early: one list each."""

from __future__ import annotations

import enum

# Minimum outcomes per need (DOMAIN.md) and the outcomes practitioners choose from per category.
DESIRED_OUTCOMES: dict[str, tuple[str, ...]] = {
    "accommodation": (
        "Obtains or sustains suitable accommodation",
        "Homelessness is prevented",
        "Is helped to secure social or supported housing",
        "Is helped to keep their tenancy while in custody",
    ),
    "ete": (
        "Obtains suitable education, training or employment",
        "Gains a qualification or accredited skill",
        "Sustains employment for 13 weeks",
    ),
    "fbd": (
        "Has a stable, lawful income",
        "Reduces their debt",
        "Opens a bank account and manages a budget",
    ),
    "dependency-and-recovery": (
        "Engages with treatment services",
        "Reduces or stops substance misuse",
    ),
    "family-and-significant-others": (
        "Improves family relationships",
        "Develops parenting skills",
    ),
    "lifestyle-and-associates": (
        "Builds pro-social networks and activities",
        "Reduces contact with criminal associates",
    ),
    "emotional-wellbeing": (
        "Registers with a GP and accesses health services",
        "Develops skills to manage emotions",
    ),
    "social-inclusion": (
        "Takes part in community activities",
        "Accesses mainstream services",
    ),
    "cognitive-and-behavioural-change": (
        "Develops problem-solving skills",
        "Develops emotional management skills",
    ),
    "women": (
        "Accesses gender-specific support services",
        "Builds confidence and self-efficacy",
    ),
    "young-adults": (
        "Develops maturity and independent living skills",
        "Engages in education, training or employment",
    ),
    "bame": (
        "Accesses culturally appropriate support",
        "Builds trust with services",
    ),
    "restorative-justice": (
        "Takes part in a restorative process",
        "Understands the impact of their offending",
    ),
    "service-user-involvement": (
        "Takes part in service design or peer support",
        "Develops peer mentoring skills",
    ),
}


class EndReason(enum.StrEnum):
    """Coded reasons for withdrawing or cancelling a referral."""

    MADE_IN_ERROR = "INE"  # referral made in error, or person ineligible
    MOVED = "MOV"  # moved out of the contract's area
    NOT_ENGAGING = "ENG"
    IN_CUSTODY = "CUS"  # recalled or returned to custody
    SENTENCE_ENDED = "SRV"  # sentence revoked, expired or ended
    HEALTH = "HEA"
    DIED = "DEC"
    NEEDS_MET = "EAR"  # needs met before the planned end
    OTHER = "OTH"


class Achievement(enum.StrEnum):
    ACHIEVED = "achieved"
    PARTIALLY_ACHIEVED = "partially_achieved"
    NOT_ACHIEVED = "not_achieved"
