"""The whole API, fuzzed from its own OpenAPI document with schemathesis: every operation, as every role, with data
the document allows and data it does not. No answer is a server error, every answer conforms to the document
(status, media type, schema), and a refused command writes no event."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from typing import Any

import hypothesis
import psycopg
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import policy
from ledger.roles import Role
from tests.market import Market
from tests.support import routes_of

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "32"))  # about 3,900 requests: a minute on 2 cores
# On a machine slower or busier than that, the operations still to come once the budget is spent get a few cases
# each, so every operation is fuzzed and the run stays within about three minutes of the suite.
BUDGET_SECONDS = 150
EXAMPLES_ONCE_OVER_BUDGET = 3
# A request valid by the document may still be refused, rightly: an id that names nothing (404), another
# organisation's resource (404/403), a domain rule (409), a min_position beyond the log (422). The document
# cannot say which, so "schema-valid data is accepted" is not checked; everything else schemathesis checks is.
NOT_SENSIBLE = [positive_data_acceptance]
# What refuses data the document does not allow: schemathesis's own list, and 413 (the body limit).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


def _world(market: Market) -> dict[str, str]:
    """Real resources, so that fuzzed requests reach past 404: a live contract, its supplier, a referral."""
    contract, supplier = market.contract()
    referral = market.referral(contract)
    lead = next(iter(market.orgs))
    return {
        "contract_id": contract,
        "supplier_id": supplier,
        "referral_id": referral,
        "commissioner_id": lead,
        "commissioner_org": market.orgs[lead],
    }


def _headers(market: Market, world: dict[str, str]) -> dict[Role, dict[str, str]]:
    orgs = {
        Role.SUPPLIER_BID_MANAGER: world["supplier_id"],
        Role.PROVIDER_CASEWORKER: world["supplier_id"],
        Role.COMMISSIONER: world["commissioner_org"],
        Role.PROBATION_PRACTITIONER: "region-a",
    }
    return {
        role: market.headers(role, orgs.get(role, "hmpps-commercial"), privileges=(policy.PERSONAL_DATA,))
        for role in Role
    }


def test_the_whole_api_fuzzed_as_every_role_answers_no_5xx_conforms_and_refusals_write_nothing(market) -> None:
    world = _world(market)
    log = psycopg.connect(market.url, autocommit=True)  # one connection to count the log with, not one per count

    def events() -> int:
        row = log.execute("SELECT count(*) FROM ledger_events").fetchone()
        return int(row[0]) if row else 0

    headers = _headers(market, world)
    routes = routes_of(market.app)
    # Unknown query parameters are ignored, as HTTP APIs do, so negative cases do not invent them; and each role's
    # own token is sent, so the security scheme is not generated (nor negated).
    # A body beyond MAX_BODY_BYTES is refused 413 before it is read: a rejection as good as 400 or 422.
    config = schemathesis.Config.from_dict(
        {
            "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
            "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/openapi.json", market.app, config=config)
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    refused_commands: Counter[int] = Counter()  # each checked to have written nothing
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        rule = policy.RULES.get(routes.get((operation.method.upper(), operation.path), ""))
        allowed = sorted(rule.roles) if rule else []
        refused_roles = [r for r in Role if r not in allowed][:1]
        known = {name: world[name] for name in re.findall(r"{(\w+)}", operation.path) if name in world}
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        strategies = [operation.as_strategy(mode) for mode in modes]
        if known:  # half the cases name the real resources, so that they reach past 404
            strategies += [operation.as_strategy(mode, path_parameters=known) for mode in modes]

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION
            if time.monotonic() - started < BUDGET_SECONDS
            else EXAMPLES_ONCE_OVER_BUDGET,
            deadline=None,
            database=None,
            derandomize=not os.environ.get("FUZZ_RANDOM"),  # the suite's run is repeatable; FUZZ_RANDOM=1 explores
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies), role=st.sampled_from(allowed * 3 + refused_roles or list(Role)))
        def exercise(case: Any, role: Role) -> None:
            writes = case.method.upper() != "GET"
            before = events() if writes else 0
            response = case.call(headers=headers[role])
            statuses[response.status_code] += 1
            assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
            if writes and response.status_code >= 300:
                refused_commands[response.status_code] += 1
                assert events() == before, "a refused command wrote an event"
            case.validate_response(response, headers=headers[role], excluded_checks=NOT_SENSIBLE)

        # Every operation's findings are collected (schemathesis raises a group of them), then reported together.
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
    elapsed = time.monotonic() - started
    log.close()
    print(
        f"schemathesis: {operations} operations, {sum(statuses.values())} requests in {elapsed:.0f} s: {statuses};"
        f" {sum(refused_commands.values())} refused commands wrote nothing: {refused_commands}"
    )
    assert operations >= 100 and sum(refused_commands.values()) > 1000
    assert not failures, "\n\n".join(failures)
    assert not any(status >= 500 for status in statuses)
