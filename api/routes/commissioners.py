"""Commissioning bodies and the framework user agreement they sign before any call-off."""

from __future__ import annotations

from api.specs import Command, Query, Route, route
from ledger.framework import commissioners
from projections.catalogue import models, queries

TAGS = ("commissioners",)
COMMISSIONER = "/commissioners/{commissioner_id}"


def routes() -> list[Route]:
    return [
        route(
            "/commissioners",
            post=Command(
                "commissioners.register",
                "Register a commissioning body",
                commissioners.register_commissioner,
                commissioners.RegisterCommissioner,
                status=201,
                errors=(409,),
                location="commissioners.get",
                tags=TAGS,
            ),
            get=Query(
                "commissioners.list",
                "List commissioning bodies",
                lambda q: queries.list_commissioners(q.conn),
                models.CommissionerList,
                tags=TAGS,
            ),
        ),
        route(
            COMMISSIONER,
            get=Query(
                "commissioners.get",
                "A commissioning body",
                lambda q, i: queries.get_commissioner(q.conn, i),
                models.CommissionerRecord,
                etag=True,
                tags=TAGS,
            ),
        ),
        route(
            f"{COMMISSIONER}/user-agreement",
            post=Command(
                "commissioners.sign_user_agreement",
                "Sign the framework user agreement (needed before any call-off)",
                commissioners.sign_user_agreement,
                commissioners.SignUserAgreement,
                tags=TAGS,
            ),
        ),
    ]
