"""A market to test procurement with: its own database, worker and a clock the tests can move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from falcon import testing

from api.app import create_app
from api.auth import issue_development_token
from ledger.config import Settings
from ledger.framework.reference import seed
from ledger.store import Ledger
from projections.runner import ProjectionRunner
from tests.support import unique_legal_id


class Clock:
    """The ledger's "now" for a test market: starts on a fixed day and only moves forward."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Market:
    """Drives the API the way its users would: every helper is one or more real requests."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        ledger = Ledger(url, clock=self.clock)  # the reference data is there before the market opens
        seed(ledger)
        ledger.close()
        self.app = create_app(settings, database_url=url, clock=self.clock)
        self.client = testing.TestClient(self.app)
        self.runner = ProjectionRunner(url, batch_size=500)
        self.thread = threading.Thread(target=self.runner.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)
        self.thread.start()
        self.position = 0
        self.orgs: dict[str, str] = {}  # commissioner id -> the organisation its staff's tokens carry

    def close(self) -> None:
        self.runner.stop()
        self.thread.join(timeout=10)
        self.app.services.close()

    # -- plumbing ----------------------------------------------------------------------------------

    def headers(
        self,
        role: str = "authority",
        org: str | None = "hmpps-commercial",
        sub: str | None = None,
        privileges: tuple[str, ...] = (),
    ) -> dict:
        token = issue_development_token(self.settings, role=role, org=org, subject=sub, privileges=privileges)
        return {"Authorization": f"Bearer {token}", "X-Purpose": "testing the service"}

    def caller(self, method: str, path: str, body: Any, role: str | None, org: str | None, sub: str | None) -> dict:
        """The legitimate user for a request: the policy's first role that may make it, acting for the
        organisation that owns the resource (explicit role, org or sub win)."""
        from api import policy

        name, params = self.operation_at(method, path)
        rule = policy.RULES[name]
        if role is None:
            acting = (
                "commissioner",
                "supplier_bid_manager",
                "provider_caseworker",
                "probation_practitioner",
                "finance_officer",
                "authority",
                "administrator",
                "auditor",
                "foi_officer",
            )
            reading = ("authority", "finance_officer", "auditor", "foi_officer", "administrator", *acting[:4])
            role = next(r for r in (reading if method == "GET" else acting) if r in rule.roles)
        needed = org is None or (sub is None and role == "probation_practitioner")
        owner = self._owner(role, params, body) if needed else {}
        if org is None:
            org = owner.get("org", {"authority": "hmpps-commercial", "finance_officer": "hmpps-finance"}.get(role))
        if sub is None:
            sub = owner.get("sub")
        privileges = ("personal_data",) if role == "auditor" else ()
        return self.headers(role=role, org=org, sub=sub, privileges=privileges)

    def _owner(self, role: str, params: dict[str, str], body: Any) -> dict[str, str]:
        """Who acts on what a request names, found as its users find it: by reading the resource through the API
        (a call-off's or a planned call-off's lead commissioner, a contract's supplier and commissioners, a referral's
        provider, region and practitioner, an Unpaid Work order's or a programme group's provider)."""
        if role not in ("supplier_bid_manager", "provider_caseworker", "commissioner", "probation_practitioner"):
            return {}  # the other roles act for the framework, not for an organisation that owns resources
        body = body if isinstance(body, dict) else {}
        supplier = params.get("supplier_id") or body.get("supplier_id")
        commissioners: list[str] = []
        region = sub = None
        if "call_off_id" in params and (call_off := self._look_up(f"/call-offs/{params['call_off_id']}")):
            commissioners = [call_off["lead_commissioner_id"]]
        if "plan_id" in params and (plan := self._look_up(f"/planned-call-offs/{params['plan_id']}")):
            commissioners = [plan["lead_commissioner_id"]]
        contract_id = params.get("contract_id") or body.get("contract_id")
        if contract_id and (contract := self._look_up(f"/contracts/{contract_id}")):
            supplier = supplier or contract["supplier_id"]
            commissioners = contract["commissioner_ids"]
        if "referral_id" in params and (referral := self._look_up(f"/referrals/{params['referral_id']}")):
            supplier, region, sub = referral["supplier_id"], referral["region"], referral["practitioner_id"]
        if "order_id" in params and (order := self._look_up(f"/unpaid-work/{params['order_id']}")):
            supplier = order["supplier_id"]
        if "group_id" in params and (group := self._look_up(f"/programmes/{params['group_id']}")):
            supplier = group["supplier_id"]
        commissioners = commissioners or [params.get("commissioner_id") or body.get("lead_commissioner_id") or ""]
        if role in ("supplier_bid_manager", "provider_caseworker"):
            return {"org": supplier} if supplier else {}
        if role == "commissioner":
            return {"org": self.orgs.get(commissioners[0], "")} if commissioners[0] else {}
        return {k: v for k, v in (("org", region or "region-a"), ("sub", sub)) if v}

    def _look_up(self, path: str) -> dict | None:
        """A resource as an auditor reads it (once the views have caught up with this market's writes); None
        for an unknown id, which the request itself will answer."""
        headers = self.headers("auditor", "hmpps-audit", "market-look-up", privileges=("personal_data",))
        result = self.client.simulate_get(path, params={"min_position": self.position}, headers=headers)
        if result.status_code == 404:
            return None
        assert result.status_code == 200, f"looking up GET {path}: {result.status_code} {result.text}"
        return result.json

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        expect: int | None = 200,
        method: str = "POST",
        role: str | None = None,
        org: str | None = None,
        sub: str | None = None,
    ) -> Any:
        headers = self.caller(method, path, body, role, org, sub)
        result = self.client.simulate_request(method, path, json=body, headers=headers)
        if expect is not None:
            assert result.status_code == expect, f"{method} {path}: {result.status_code} {result.text}"
        if result.status_code < 300:
            self.position = max(self.position, result.json["position"])
        return result

    def get(
        self,
        path: str,
        *,
        expect: int = 200,
        params: dict | None = None,
        role: str | None = None,
        org: str | None = None,
        sub: str | None = None,
    ) -> Any:
        query = {"min_position": self.position, **(params or {})}
        headers = self.caller("GET", path, None, role or "auditor" if self._personal(path) else role, org, sub)
        result = self.client.simulate_get(path, params=query, headers=headers)
        assert result.status_code == expect, f"GET {path}: {result.status_code} {result.text}"
        media = result.headers.get("content-type", "").split(";")[0]
        return result.json if media.endswith("json") else result.text  # application/json, problem+json

    def operation_at(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        """The operation a request runs (found in the app's registry), with its path parameters."""
        parts = path.split("?")[0].strip("/").split("/")
        operations = self.app.operations
        for name in operations.names():
            m, template = operations.route(name)
            pieces = template.strip("/").split("/")
            if m != method or len(pieces) != len(parts):
                continue
            params: dict[str, str] = {}
            for piece, part in zip(pieces, parts, strict=True):
                if piece.startswith("{"):
                    params[piece[1:-1]] = part
                elif piece != part:
                    break
            else:
                return name, params
        raise AssertionError(f"no operation for {method} {path}")

    def _personal(self, path: str) -> bool:
        from api import policy

        name, _ = self.operation_at("GET", path)
        return policy.RULES[name].personal_data

    # -- the market's actors ---------------------------------------------------------------------

    def commissioner(self, org: str = "region-a", area: str = "region-a", *, sign: bool = True) -> str:
        organisation = f"{org}-{unique_legal_id().lower()}"
        cid = self.post(
            "/commissioners",
            {
                "name": f"Commissioner {org}",
                "organisation_id": organisation,
                "commissioner_type": "probation-region",
                "area": area,
            },
            expect=201,
        ).json["id"]
        self.orgs[cid] = organisation
        if sign:
            self.post(f"/commissioners/{cid}/user-agreement", {"signatory": "Regional Probation Director"})
        return cid

    def supplier(
        self,
        name: str = "Supplier",
        lots: tuple[str, ...] = ("accommodation",),
        areas: tuple[str, ...] = ("region-a",),
        *,
        accept_terms: bool = True,
        organisation_type: str = "voluntary",
        is_small: bool = True,
    ) -> str:
        sid = self.post(
            "/suppliers",
            {
                "name": name,
                "legal_identifier": unique_legal_id(),
                "organisation_type": organisation_type,
                "is_small": is_small,
            },
            expect=201,
        ).json["id"]
        qid = self.questionnaire(sid, lots, areas)
        for lot in lots:
            self.assess(sid, qid, lot, "pass")
        if accept_terms:
            self.post(f"/suppliers/{sid}/terms-acceptances", {}, role="supplier_bid_manager", org=sid)
        return sid

    def questionnaire(self, sid: str, lots: tuple[str, ...], areas: tuple[str, ...], *, expect: int = 201) -> Any:
        """Submit a questionnaire as the supplier: its id, from the answer (or, when refused, the answer)."""
        body = {
            "lots": [
                {"category": lot, "case_studies": [{"title": f"{lot} case", "summary": "Delivered for 3 years."}]}
                for lot in lots
            ],
            "declared_areas": list(areas),
        }
        result = self.post(
            f"/suppliers/{sid}/questionnaires", body, expect=expect, role="supplier_bid_manager", org=sid
        )
        if result.status_code != 201:
            return result
        assert result.headers["location"].endswith(f"/suppliers/{sid}/questionnaires/{result.json['questionnaire_id']}")
        return result.json["questionnaire_id"]

    def assess(self, sid: str, qid: str, lot: str, outcome: str, *, expect: int = 200) -> Any:
        return self.post(
            f"/suppliers/{sid}/questionnaires/{qid}/assessments",
            {
                "category": lot,
                "outcome": outcome,
                "reason": f"evidence {'meets' if outcome == 'pass' else 'misses'} the bar",
            },
            expect=expect,
            sub="assessor-jane",
        )

    def draft(self, lead: str, *, expect: int = 201, **overrides: Any) -> Any:
        body = {
            "title": "Accommodation services, North East",
            "specification": "Help people on probation find and keep suitable accommodation.",
            "lead_commissioner_id": lead,
            "need": "accommodation",
            "geography": "northumbria",
            "award_type": "contract",
            "estimated_value": "1200000.00",
            "initial_term_months": 36,
            "extension_options_months": [12, 12],
            "criteria": [
                {"name": "quality", "kind": "quality", "weight": 60},
                {"name": "price", "kind": "price", "weight": 30},
                {"name": "social value", "kind": "social_value", "weight": 10},
            ],
            "response_deadline": (self.clock.now + timedelta(days=30)).isoformat(),
            **overrides,
        }
        result = self.post("/call-offs", body, expect=expect, role="commissioner")
        return result.json["id"] if expect == 201 else result

    def tender(self, call_off: str, supplier: str, price: str = "1000000.00", *, expect: int = 201) -> Any:
        return self.post(
            f"/call-offs/{call_off}/tenders",
            {"supplier_id": supplier, "content": {"price": price, "method_statement": f"Our method ({price})"}},
            expect=expect,
            role="supplier_bid_manager",
            org=supplier,
        )

    def score(
        self, call_off: str, supplier: str, quality: int, price: int, social: int, *, moderate: bool = True
    ) -> None:
        scores = {"quality": str(quality), "price": str(price), "social value": str(social)}
        for evaluator in ("evaluator-1", "evaluator-2"):
            self.post(
                f"/call-offs/{call_off}/scores",
                {"supplier_id": supplier, "scores": scores, "comments": "Clear and credible."},
                role="commissioner",
                sub=evaluator,
            )
        if moderate:
            self.post(
                f"/call-offs/{call_off}/moderations",
                {"supplier_id": supplier, "scores": scores, "rationale": "Evaluators agreed."},
                role="commissioner",
            )

    def contract(
        self,
        *,
        need: str = "accommodation",
        cohort: str | None = None,
        geography: str = "region-a",
        eligibility: dict | None = None,
        lead: str | None = None,
        areas: tuple[str, ...] | None = None,
        supplier: str | None = None,
        value: str = "900000.00",
        budget_line: str | None = None,
        starts_in_days: int = 0,
    ) -> tuple[str, str]:
        """A live contract (and its supplier, a new one unless given), run through a whole competition; starts
        today; delivered in `areas` of the geography (all of it when not given)."""
        lead = lead or self.commissioner()
        lots = tuple(code for code in (need, cohort) if code)
        supplier = supplier or self.supplier(
            f"Provider for {'/'.join(lots)} in {geography}", lots=lots, areas=(geography,)
        )
        call_off = self.draft(lead, need=need, cohort=cohort, geography=geography)
        self.post(f"/call-offs/{call_off}/publication")
        self.tender(call_off, supplier)
        self.clock.advance(days=31)
        self.post(f"/call-offs/{call_off}/tender-opening")
        self.score(call_off, supplier, quality=70, price=70, social=70)
        self.post(f"/call-offs/{call_off}/evaluation")
        self.post(f"/call-offs/{call_off}/award", {"supplier_id": supplier, "rationale": "Only tender"})
        self.clock.advance(days=10, seconds=1)
        today = self.clock.now.date() + timedelta(days=starts_in_days)
        contract = self.post(
            f"/call-offs/{call_off}/contract",
            {
                "value": value,
                "start_date": today.isoformat(),
                "end_date": today.replace(year=today.year + 3).isoformat(),
                "eligibility": eligibility or {"gender": "any"},
                **({"areas": list(areas)} if areas else {}),
                **({"budget_line": budget_line} if budget_line else {}),
            },
            expect=201,
        ).json["id"]
        return contract, supplier

    def innovation_partner(self, region: str = "region-a", **contract: Any) -> tuple[str, str]:
        """A contract won by the region's own competition, designated its Innovation Partner by the Authority: the
        contract Unpaid Work orders and programme groups are placed under (and its supplier)."""
        contract_id, supplier = self.contract(need="lifestyle-and-associates", geography=region, **contract)
        self.post("/innovation-partners", {"region": region, "contract_id": contract_id}, role="authority")
        return contract_id, supplier

    def referral(self, contract: str, *, expect: int = 201, practitioner: str = "po-jones", **overrides: Any) -> Any:
        body = {
            "contract_id": contract,
            "crn": "X123456",
            "person": {"given_name": "Alex", "family_name": "Smith", "date_of_birth": "1990-05-17", "gender": "male"},
            "area": "northumbria",
            "category": "accommodation",
            "complexity": "MEDIUM",
            "desired_outcomes": ["Obtains or sustains suitable accommodation", "Homelessness is prevented"],
            "max_enforceable_days": 10,
            "sentence_type": "community_order",
            "risk_summary": "Low risk of serious harm; history of rent arrears.",
            "completion_deadline": (self.clock.now.date() + timedelta(days=120)).isoformat(),
            **overrides,
        }
        result = self.post(
            "/referrals", body, expect=expect, role="probation_practitioner", org="region-a", sub=practitioner
        )
        return result.json["id"] if expect == 201 else result
