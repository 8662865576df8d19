"""The auditors' pages: the log, a record as of a moment and what changed, integrity and an inclusion proof checked in
the browser, and the personal-data read log. Every page runs the API's named operations as the signed-in person."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest

from api.web.format import gov_date
from tests import browser
from tests.market import Market
from tests.test_audit_history import attended_late

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def history(market: Market) -> dict[str, Any]:
    """A session attended and written down two days later (test_audit_history's), a personal-data read of its
    referral with the reader's purpose, and a signed checkpoint covering it all."""
    late_attendance = attended_late(market)
    read = market.client.simulate_get(
        f"/referrals/{late_attendance['referral']}",
        headers={
            **market.headers("probation_practitioner", "region-a", "po-jones"),
            "X-Purpose": "Planning the review",
        },
    )
    assert read.status_code == 200, read.text
    signed = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor", "hmpps-audit"))
    assert signed.status_code == 201, signed.text
    return late_attendance


# -- signing in with the test client ------------------------------------------------------------------------------


def form_token(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match, "every form carries a CSRF token"
    return match.group(1)


class Person:
    """A signed-in session driven through the falcon test client, as a browser without JavaScript would."""

    def __init__(self, market: Market, role: str, organisation: str, name: str, *, personal_data: bool = False) -> None:
        self.client = market.client
        page = self.client.simulate_get("/app/sign-in")
        self.cookie = page.cookies["ledger_session"].value
        body = f"role={role}&organisation={organisation}&name={name}&csrf_token={form_token(page.text)}"
        signed_in = self.client.simulate_post(
            "/app/sign-in/organisation",
            body=body + ("&personal_data=yes" if personal_data else ""),
            headers=self.headers(FORM),
        )
        assert signed_in.status_code == 303, signed_in.text
        self.cookie = signed_in.cookies["ledger_session"].value
        self.token = form_token(self.get("/app").text)

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        return {"Cookie": f"ledger_session={self.cookie}", **({"Content-Type": content_type} if content_type else {})}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.simulate_get(path, params=params or None, headers=self.headers())

    def post(self, path: str, *, token: str | None = None) -> Any:
        return self.client.simulate_post(path, body=f"csrf_token={token or self.token}", headers=self.headers(FORM))


@pytest.fixture(scope="module")
def auditor(market: Market, history: dict) -> Person:
    return Person(market, "auditor", "hmpps-audit", "Audrey", personal_data=True)


def rows_of(page: str, table: int = 0) -> list[list[str]]:
    """The cells of a page's table body, as text (tags stripped, spaces collapsed)."""
    body = re.findall(r"<tbody.*?</tbody>", page, flags=re.S)[table]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in re.findall(r"<tr.*?</tr>", body, re.S)]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in row] for row in cells]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def counts(market: Market) -> tuple[int, int]:
    """(events in the log, recorded verifications): a refused form changes neither."""
    with psycopg.connect(market.url) as conn:
        events = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
        runs = conn.execute("SELECT count(*) FROM audit_verifications").fetchone()
    assert events is not None and runs is not None
    return events[0], runs[0]


# -- the log ------------------------------------------------------------------------------------------------------


def test_the_log_filters_by_type_and_its_csv_is_the_rows_the_page_shows(auditor: Person, history: dict) -> None:
    page = auditor.get("/app/audit/events", type="AttendanceRecorded")
    assert page.status_code == 200
    rows = rows_of(page.text)
    assert rows and all(row[1].startswith("Attendance recorded") for row in rows)
    assert str(history["position"]) in [row[0] for row in rows]
    assert 'href="/app/audit/events?type=AttendanceRecorded&amp;format=csv"' in page.text
    exported = auditor.get("/app/audit/events", type="AttendanceRecorded", format="csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    lines = csv_rows(exported.text)
    assert [line["position"] for line in lines] == [row[0] for row in rows]
    ours = next(line for line in lines if line["position"] == str(history["position"]))
    assert ours["aggregate_id"] == history["referral"] and ours["type"] == "AttendanceRecorded"
    assert datetime.fromisoformat(ours["recorded_at"]) > datetime.fromisoformat(ours["effective_at"])  # ISO 8601


def test_the_log_pages_by_position_with_a_next_page_link(auditor: Person, history: dict) -> None:
    first = auditor.get("/app/audit/events")
    positions = [int(row[0]) for row in rows_of(first.text)]
    assert len(positions) == 50 and positions == sorted(positions)
    link = re.search(r'href="\?([^"#]*after=(\d+))#events" rel="next"', first.text)
    assert link and int(link.group(2)) == positions[-1]
    second = auditor.get("/app/audit/events", after=link.group(2))
    assert int(rows_of(second.text)[0][0]) > positions[-1]
    assert "First page" in second.text


def test_bad_filters_are_shown_against_their_fields_never_as_a_stack_trace(auditor: Person) -> None:
    page = auditor.get(
        "/app/audit/events",
        aggregate="not-an-id",
        **{"recorded-from-day": "31", "recorded-from-month": "2", "recorded-from-year": "2026"},
        **{"effective-to-day": "3", "effective-to-year": "2026"},
    )
    assert page.status_code == 422
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page.text, re.S)
    assert summary is not None
    for field, message in (
        ("aggregate", "Aggregate id must be an id like"),
        ("recorded-from", "Recorded on or after must be a real date"),
        ("effective-to", "Effective on or before must include a month"),
    ):
        assert f'href="#{field}">{message}' in summary.group(0)
        assert f'id="{field}-error"' in page.text
    assert "Traceback" not in page.text and 'value="not-an-id"' in page.text


# -- a record as of a moment --------------------------------------------------------------------------------------


def test_a_record_as_recorded_before_a_late_fact_and_what_that_fact_changed(auditor: Person, history: dict) -> None:
    path = f"/app/audit/aggregates/{history['referral']}"
    session = history["session_at"]
    attended = f"/appointments/{history['appointment']}/attended"
    now = auditor.get(path)
    assert now.status_code == 200 and "moj-timeline__item" in now.text and "Attendance recorded" in now.text
    then = auditor.get(
        path,
        clock="recorded",
        **{"at-day": session.day, "at-month": session.month, "at-year": session.year},
    )
    state_then = re.search(r'id="state-then".*?</dl>', then.text, re.S)
    assert state_then is not None and f"as recorded at {gov_date(session)} at 11:59pm" in state_then.group(0)
    assert re.search(
        rf"{re.escape(attended)}</span></dt>\s*<dd[^>]*><span class=\"app-code\">None<", state_then.group(0)
    )
    change = {"axis": "position", "from-position": history["position"] - 1, "to-position": history["position"]}
    changed = auditor.get(path, **change)
    assert [attended, "Changed", "None", "yes"] in rows_of(changed.text)
    exported = csv_rows(auditor.get(path, **change, table="changes", format="csv").text)
    assert {"field": attended, "change": "changed", "before": "", "after": "yes"} in exported
    assert len(exported) == len(rows_of(changed.text))


def test_a_moment_that_is_no_date_is_shown_on_its_field(auditor: Person, history: dict) -> None:
    page = auditor.get(
        f"/app/audit/aggregates/{history['referral']}",
        clock="effective",
        **{"at-day": "30", "at-month": "2", "at-year": "2026", "at-time": "9am"},
        axis="position",
        **{"from-position": "x"},
    )
    assert page.status_code == 422
    for field, message in (
        ("at", "Date must be a real date"),
        ("at-time", "Time must be a time like 14:30"),
        ("from-position", "Log position to compare from must be a whole number, 0 or more"),
        ("to-position", "Enter the log position to compare to"),
    ):
        assert f'<a href="#{field}">{message}</a>' in page.text
    # What only the ledger can judge is its answer, shown on the field it concerns.
    path = f"/app/audit/aggregates/{history['referral']}"
    too_early = auditor.get(path, clock="recorded", **{"at-day": "1", "at-month": "1", "at-year": "1899"})
    backwards = auditor.get(path, axis="position", **{"from-position": "10", "to-position": "5"})
    assert too_early.status_code == backwards.status_code == 422
    assert '<a href="#at">' in too_early.text and '<a href="#to-position">must not be before from</a>' in backwards.text


def test_a_record_or_an_event_that_does_not_exist_is_a_page_not_found(auditor: Person) -> None:
    missing = auditor.get("/app/audit/aggregates/00000000-0000-0000-0000-000000000001")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert auditor.get("/app/audit/aggregates/nonsense").status_code == 404
    assert auditor.get("/app/audit/events/999999999/proof").status_code == 404
    assert auditor.get(f"/app/audit/events/{'9' * 5000}/proof").status_code == 404  # no number Python refuses
    assert auditor.get("/app/audit/integrity", position="9" * 5000).status_code == 422


# -- integrity ----------------------------------------------------------------------------------------------------


def test_verifying_from_the_page_records_the_run_and_writes_no_event(market: Market, auditor: Person) -> None:
    page = auditor.get("/app/audit/integrity")
    assert "Verify the log now" in page.text and "Sign a checkpoint now" in page.text
    events, runs = counts(market)
    ran = auditor.post("/app/audit/verifications")
    assert ran.status_code == 303 and ran.headers["location"].startswith("/app/audit/integrity?done=verified")
    assert counts(market) == (events, runs + 1)
    shown = auditor.get("/app/audit/integrity", done="verified")
    assert "The log verified" in shown.text
    latest = re.search(r'id="last-verification".*?</dl>', shown.text, re.S)
    assert latest and "Verified" in latest.group(0) and "Audrey" in latest.group(0)
    table = rows_of(shown.text, table=1)
    exported = csv_rows(auditor.get("/app/audit/integrity", table="verifications", format="csv").text)
    assert len(exported) == len(table) and exported[0]["ok"] == "true" and exported[0]["ran_by"] == "Audrey"
    checkpoints = csv_rows(auditor.get("/app/audit/integrity", table="checkpoints", format="csv").text)
    assert [c["root"] for c in checkpoints] == [row[1] for row in rows_of(shown.text, table=0)]


def test_the_integrity_page_shows_the_checkpoint_note_to_keep_and_its_key(market: Market, auditor: Person) -> None:
    signed = auditor.post("/app/audit/checkpoints")
    assert signed.status_code == 303
    page = auditor.get("/app/audit/integrity")
    served = market.client.simulate_get("/audit/checkpoint").text
    shown = re.search(r'<pre [^>]*id="checkpoint-note">(.*?)</pre>', page.text, re.S)
    assert shown and html.unescape(shown.group(1)) == served
    assert market.client.simulate_get("/audit/checkpoint/key").text.strip() in html.unescape(page.text)
    assert "ledger verify --checkpoint FILE" in page.text


def test_a_form_without_its_token_is_refused_and_writes_nothing(market: Market, auditor: Person) -> None:
    before = counts(market)
    for path in ("/app/audit/verifications", "/app/audit/checkpoints"):
        refused = auditor.post(path, token="forged")
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert counts(market) == before


def test_an_foi_officer_is_not_offered_verify_and_a_forced_post_is_refused(market: Market, history: dict) -> None:
    officer = Person(market, "foi_officer", "moj-foi", "Fiona")
    page = officer.get("/app/audit/integrity")
    assert page.status_code == 200 and "Signed checkpoints" in page.text
    assert "Verify the log now" not in page.text and "Sign a checkpoint now" not in page.text
    before = counts(market)
    forced = officer.post("/app/audit/verifications")
    assert forced.status_code == 403 and "text/html" in forced.headers["content-type"]
    assert officer.post("/app/audit/checkpoints").status_code == 403
    assert counts(market) == before
    assert officer.get("/app/audit/personal-data-reads").status_code == 403  # auditors only


@pytest.mark.parametrize("role", ["commissioner", "finance_officer"])
def test_people_outside_audit_cannot_read_the_log(market: Market, history: dict, role: str) -> None:
    organisation = next(iter(market.orgs.values())) if role == "commissioner" else "hmpps-finance"
    person = Person(market, role, organisation, "Someone")
    for path in ("/app/audit/events", f"/app/audit/aggregates/{history['referral']}"):
        refused = person.get(path)
        assert refused.status_code == 403 and "<h1" in refused.text


def test_tampering_shows_on_the_integrity_page_and_on_the_altered_events_proof(make_database, settings) -> None:
    market = Market(make_database(), settings)
    try:
        signed = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor", "hmpps-audit"))
        assert signed.status_code == 201
        with psycopg.connect(market.url, autocommit=True) as conn:  # what a superuser could do behind the ledger
            conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_no_update")
            conn.execute("UPDATE ledger_events SET actor_id = 'mallory' WHERE notification_id = 40")
            conn.execute("ALTER TABLE ledger_events ENABLE TRIGGER ledger_events_no_update")
        auditor = Person(market, "auditor", "hmpps-audit", "Audrey")
        assert auditor.post("/app/audit/verifications").status_code == 303
        page = auditor.get("/app/audit/integrity", done="verified")
        assert "Verification found tampering: Altered at position 40" in page.text
        latest = re.search(r'id="last-verification".*?</dl>', page.text, re.S)
        assert latest and "Tampering found" in latest.group(0)
        proof = auditor.get("/app/audit/events/40/proof")
        assert "Not verified" in proof.text and "mallory" in proof.text
        assert re.search(
            r'id="logged-leaf-hash">[0-9a-f]+</span><br>The ledger: <strong class="govuk-tag govuk-tag--red">',
            proof.text,
        )
    finally:
        market.close()


# -- an inclusion proof -------------------------------------------------------------------------------------------


def test_the_proof_page_shows_every_step_and_its_csv(auditor: Person, history: dict) -> None:
    page = auditor.get(f"/app/audit/events/{history['position']}/proof")
    assert page.status_code == 200
    assert 'data-result="not-checked"' in page.text  # until the browser has redone it
    assert "The event as stored now leads to the signed root" in page.text  # the ledger's own conclusion
    steps = [row[:4] for row in rows_of(page.text, table=1)]
    exported = csv_rows(auditor.get(f"/app/audit/events/{history['position']}/proof", format="csv").text)
    assert [[e["step"], e["side"], e["sibling"], e["node"]] for e in exported] == steps
    assert '<script type="module" src="/app/static/inclusion-proof.js"></script>' in page.text
    assert "probation-ledger checkpoint\n" in page.text and "BEGIN PUBLIC KEY" in page.text


# -- personal-data reads ------------------------------------------------------------------------------------------


def test_the_read_log_names_who_read_which_record_and_why_never_the_data(auditor: Person, history: dict) -> None:
    page = auditor.get("/app/audit/personal-data-reads", actor="po-jones")
    rows = rows_of(page.text)
    assert len(rows) == 1
    read = rows[0]
    assert read[1] == "po-jones Probation practitioner" and read[3] == "referrals.get"
    assert read[4] == history["referral"] and read[5] == "Planning the review" and read[6] == "Yes"
    assert f'href="/app/audit/aggregates/{history["referral"]}"' in page.text
    assert "Z111111" not in page.text and "crn" not in page.text.lower()
    exported = csv_rows(auditor.get("/app/audit/personal-data-reads", actor="po-jones", format="csv").text)
    assert [(e["actor_id"], e["operation"], e["subject_id"], e["purpose"]) for e in exported] == [
        ("po-jones", "referrals.get", history["referral"], "Planning the review")
    ]
    by_record = rows_of(auditor.get("/app/audit/personal-data-reads", subject=history["referral"]).text)
    assert read in by_record
    bad = auditor.get("/app/audit/personal-data-reads", subject="nope", **{"read-from-day": "1"})
    assert bad.status_code == 422 and '<a href="#subject">' in bad.text and '<a href="#read-from">' in bad.text


# -- in a real browser --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(market: Market, history: dict) -> Iterator[tuple[browser.Site, Any]]:
    yield from browser.browser_session(market.app)


def test_an_auditor_goes_from_the_log_to_a_record_as_it_was_to_a_proof_their_browser_checks(
    site: tuple[browser.Site, Any], history: dict
) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Auditor", None, "Audrey Auditor", personal_data=True)
    page.wait_for_url("**/app/audit/events")
    browser.check_accessibility(page)

    page.get_by_label("Event type").select_option(label="Attendance recorded")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**type=AttendanceRecorded**")
    browser.check_accessibility(page)
    browser.screenshot(page, "audit-events")
    row = page.locator("tbody tr", has_text=str(history["position"])).first
    row.get_by_role("link", name=re.compile("^Referral")).click()
    page.wait_for_url(f"**/app/audit/aggregates/{history['referral']}")
    browser.check_accessibility(page)
    assert "Attendance recorded" in browser.text_of(page, ".moj-timeline")

    # As the ledger knew it on the day of the session: the attendance was not yet written down.
    session = history["session_at"]
    state = page.locator("form", has=page.get_by_role("button", name="Show the state then"))
    state.get_by_label("As recorded: what the ledger knew then").check()
    state.get_by_label("Day").fill(str(session.day))
    state.get_by_label("Month").fill(str(session.month))
    state.get_by_label("Year").fill(str(session.year))
    state.get_by_role("button", name="Show the state then").click()
    page.wait_for_url("**clock=recorded**")
    earlier = browser.text_of(page, "#state-then + p")
    assert "later event not counted" in earlier
    attended = page.locator(".app-state").first.locator(
        ".govuk-summary-list__row", has_text=f"/appointments/{history['appointment']}/attended"
    )
    assert attended.locator("dd").inner_text().strip() == "None"
    browser.check_accessibility(page)
    browser.screenshot(page, "audit-aggregate")

    # The attendance's proof, redone by the browser from the page alone.
    page.get_by_role("link", name=f"Proof it is in the log (position {history['position']})").click()
    page.wait_for_url(f"**/app/audit/events/{history['position']}/proof")
    page.wait_for_selector("#browser-check[data-result=verified]")
    assert page.locator("[data-check][data-result=failed]").count() == 0
    assert page.locator("[data-check=signature][data-result=verified]").count() == 1
    assert page.locator("[data-check^=step-][data-result=verified]").count() == page.locator("[data-step]").count()
    browser.check_accessibility(page)
    browser.screenshot(page, "audit-proof")

    # A value altered on the page no longer checks.
    page.evaluate("document.querySelector('[data-step] [data-sibling]').textContent = '00'.repeat(32)")
    page.get_by_role("button", name="Check again in your browser").click()
    page.wait_for_selector("#browser-check[data-result=failed]")
    assert page.locator("[data-check=step-1][data-result=failed]").count() == 1
    assert page.locator("[data-check=signed-root][data-result=failed]").count() == 1
    browser.check_accessibility(page)


def test_an_auditor_verifies_the_log_and_reads_the_read_log(site: tuple[browser.Site, Any], history: dict) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Auditor", None, "Audrey Auditor", personal_data=True)
    page.goto("/app/audit/integrity")
    browser.check_accessibility(page)
    page.get_by_role("button", name="Verify the log now").click()
    page.wait_for_url("**done=verified**")
    assert "The log verified" in browser.text_of(page, ".govuk-notification-banner")
    assert "Audrey Auditor" in browser.text_of(page, "#last-verification + dl")
    browser.check_accessibility(page)
    browser.screenshot(page, "audit-integrity")
    page.get_by_label("The event's log position").fill("first")
    page.get_by_role("button", name="Show the proof").click()
    assert "must be a whole number" in browser.text_of(page, ".govuk-error-summary")
    browser.check_accessibility(page)
    page.get_by_label("The event's log position").fill(str(history["position"]))
    page.get_by_role("button", name="Show the proof").click()
    page.wait_for_selector("#browser-check[data-result=verified]")

    page.goto("/app/audit/personal-data-reads")
    browser.check_accessibility(page)
    page.get_by_label("Who read it (actor id)").fill("po-jones")
    page.get_by_role("button", name="Apply filters").click()
    assert "Planning the review" in browser.text_of(page, "table")
    browser.check_accessibility(page)
    browser.screenshot(page, "audit-personal-data-reads")
    page.get_by_label("Record id").fill("not a record")
    page.get_by_role("button", name="Apply filters").click()
    assert "The record's id must be an id like" in browser.text_of(page, ".govuk-error-summary")
    browser.check_accessibility(page)


def test_the_log_works_without_javascript_and_passes_axe_with_errors_shown(
    site: tuple[browser.Site, Any], history: dict
) -> None:
    server, chromium = site
    context = chromium.new_context(base_url=server.url, bypass_csp=True, java_script_enabled=False)
    page = context.new_page()
    browser.sign_in(page, "Auditor", None, "Audrey Auditor", personal_data=True)
    page.goto(f"/app/audit/events/{history['position']}/proof")
    assert page.locator("#browser-check").get_attribute("data-result") == "not-checked"
    assert "it needs JavaScript" in browser.text_of(page, "#browser-check")
    page.goto("/app/audit/events?recorded-from-day=40&recorded-from-month=1&recorded-from-year=2026")
    assert "Recorded on or after must be a real date" in browser.text_of(page, ".govuk-error-summary")
    context.close()
    checked = browser.new_page(chromium, server)  # axe needs script: the same page, checked with it on
    browser.sign_in(checked, "Auditor", None, "Audrey Auditor", personal_data=True)
    checked.goto("/app/audit/events?recorded-from-day=40&recorded-from-month=1&recorded-from-year=2026")
    browser.check_accessibility(checked)
    checked.goto(f"/app/audit/aggregates/{history['referral']}?axis=effective&from-day=1&from-month=3&from-year=2026")
    assert "Enter the date to compare to" in browser.text_of(checked, ".govuk-error-summary")
    browser.check_accessibility(checked)
