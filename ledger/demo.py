"""A small, realistic demo dataset, loaded through the same commands the API uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.envelope import Actor, make_envelope
from ledger.framework.suppliers import OrganisationType, RegisterSupplier, register_supplier, supplier_id_for
from ledger.roles import Role
from ledger.store import Ledger

AUTHORITY = Actor(id="demo-authority-officer", role=Role.AUTHORITY, organisation_id="hmpps-commercial")

# Fictional organisations of every type and size, spread across the regions.
SUPPLIERS: tuple[RegisterSupplier, ...] = (
    RegisterSupplier(
        name="Tyne & Wear Housing Partnership",
        legal_identifier="CE012345",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=True,
    ),
    RegisterSupplier(
        name="Pennine Pathways CIC",
        legal_identifier="11223344",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=True,
    ),
    RegisterSupplier(
        name="Mersey Employment Trust",
        legal_identifier="1187654",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=False,
    ),
    RegisterSupplier(
        name="Cymru Resettlement Services Ltd",
        legal_identifier="09876543",
        organisation_type=OrganisationType.PRIVATE,
        is_small=True,
    ),
    RegisterSupplier(
        name="Nationwide Rehabilitation Services plc",
        legal_identifier="04455667",
        organisation_type=OrganisationType.PRIVATE,
        is_small=False,
    ),
    RegisterSupplier(
        name="London Women's Centre Network",
        legal_identifier="1099887",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=True,
    ),
    RegisterSupplier(
        name="Midlands Recovery Mutual",
        legal_identifier="IP031234",
        organisation_type=OrganisationType.MUTUAL,
        is_small=False,
    ),
    RegisterSupplier(
        name="Kent County Council Adult Learning",
        legal_identifier="GB-LAE-KEN",
        organisation_type=OrganisationType.PUBLIC,
        is_small=False,
    ),
    RegisterSupplier(
        name="Solent Money Advice",
        legal_identifier="1154321",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=True,
    ),
    RegisterSupplier(
        name="Yorkshire Family Links",
        legal_identifier="1177665",
        organisation_type=OrganisationType.VOLUNTARY,
        is_small=True,
    ),
)


@dataclass(frozen=True)
class DemoReport:
    created: int
    skipped: int


def load_demo(ledger: Ledger, *, progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Register the demo organisations that are not yet registered; a re-run creates nothing."""
    created = skipped = 0
    total = len(SUPPLIERS)
    for done, command in enumerate(SUPPLIERS, start=1):
        if ledger.exists(supplier_id_for(command.legal_identifier)):
            skipped += 1
        else:
            envelope = make_envelope(AUTHORITY, correlation_id="demo-load", reason="demo data")
            register_supplier(ledger, envelope, command)
            created += 1
        if progress is not None:
            progress(done, total)
    return DemoReport(created=created, skipped=skipped)
