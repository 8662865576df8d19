"""The kinds of body that may commission through the framework: the one list of them."""

from __future__ import annotations

import msgspec


class CommissionerType(msgspec.Struct, frozen=True):
    code: str
    name: str


COMMISSIONER_TYPES: tuple[CommissionerType, ...] = (
    CommissionerType("probation-region", "Probation region (Regional Probation Director)"),
    CommissionerType("pcc", "Police and Crime Commissioner"),
    CommissionerType("mayoral-pcc", "Mayoral policing body (MOPAC, GMCA, WYCA)"),
    CommissionerType("local-authority", "Local authority"),
    CommissionerType("health-body", "Health body (NHS England, integrated care board)"),
    CommissionerType("prison-group", "Prison group or governor"),
    CommissionerType("devolved-government", "Devolved government (Welsh Government)"),
    CommissionerType("government-department", "Other government department"),
    CommissionerType("hmpps", "HMPPS national commissioning"),
)

BY_CODE = {c.code: c for c in COMMISSIONER_TYPES}
