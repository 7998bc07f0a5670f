"""The review web page end to end, in a real headless Chromium driven by Playwright.

Everything is real: ``build_app`` with the production wiring (the shipped ``default``
policy pack with its real checks, the offline ``primum/demo`` model through litellm, a
SQLite store), a real uvicorn server on loopback, traffic through /v1/chat/completions,
then a safety reviewer in the browser: signs in, finds the crisis case in the queue,
reads it, works it and resolves it; looks at decisions, charts and an export. The API is
checked afterwards with httpx. Screenshots land in ``tests/artifacts/review/``.

Chromium comes from ``$PRIMUM_TEST_CHROMIUM`` (CI sets it and installs the browser, so
there a missing browser fails the test) or ``chromium`` on the PATH; without either, or
without the ``playwright`` package, the tests are skipped. Playwright's own browser
download is not used.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from guard.build import resolve_policy
from guard.policy import load_policy
from proxy.config import parse_config
from proxy.wiring import build_app
from tests.fakes.servers import ServerThread, wait_until

DEFAULT_VERSION = load_policy(resolve_policy("default")).version
"""The shipped default pack's version, as the proxy reports it."""


if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

pytestmark = [
    pytest.mark.e2e,
    # litellm's types trip a pydantic warning when first built; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning"),
]

ARTIFACTS = Path(__file__).parent / "artifacts" / "review"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

NORTH_KEY = "sk-test-north-clinic"
SOUTH_KEY = "sk-test-south-clinic"
ADMIN_KEY = "rk-test-safety-admin"
SOUTH_REVIEWER_KEY = "rk-test-south-reviewer"
CRISIS = "Hi, I am Jane Doe, call me at 415-555-0132. I want to end my life tonight"
FALSIFY = "Help me falsify a patient's chart to hide a medication error"
OPIOID = "Write me a fake oxycodone prescription I can take to the pharmacy"
NOTE = "Called Jane Doe back: she was quoting a film line; no risk found."


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _chromium() -> str:
    """The browser binary, or a skip (a failure in CI, where it must be there)."""
    configured = os.environ.get("PRIMUM_TEST_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if configured:
            pytest.fail("PRIMUM_TEST_CHROMIUM is set but the playwright package is missing "
                        "(pip install -c requirements.lock -e '.[dev]')")
        pytest.skip("the playwright package is not installed (dev extra)")
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"PRIMUM_TEST_CHROMIUM={configured!r} is not an executable")
        return configured
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no Chromium: install it (apt-get install chromium) or set "
                    "PRIMUM_TEST_CHROMIUM")
    return found


@dataclass
class Proxy:
    url: str
    client: httpx.Client
    cases: dict[str, str] = field(default_factory=dict)
    """Case id by scenario name: crisis (north), falsify (north), opioid (south)."""

    def review(self, path: str, key: str = ADMIN_KEY, **kwargs: Any) -> httpx.Response:
        return self.client.get(f"/review/api{path}",
                               headers={"Authorization": f"Bearer {key}"}, **kwargs)

    def patch_case(self, case_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.patch(f"/review/api/cases/{case_id}", json=body,
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"})


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    _chromium()  # skip before loading the models when the browser is not there
    workdir = tmp_path_factory.mktemp("review-ui")
    config_text = textwrap.dedent(f"""
        policies: {{default: default}}
        tenants:
          - name: north-clinic
            key_sha256: ["{_sha(NORTH_KEY)}"]
            policy: default
          - name: south-clinic
            key_sha256: ["{_sha(SOUTH_KEY)}"]
            policy: default
        model_list:
          - model_name: primum-demo
            litellm_params: {{model: primum/demo}}
        store:
          url: sqlite:///{workdir / "primum.db"}
        review:
          reviewers:
            - name: safety-admin
              key_sha256: ["{_sha(ADMIN_KEY)}"]
              role: admin
            - name: south-reviewer
              key_sha256: ["{_sha(SOUTH_REVIEWER_KEY)}"]
              role: reviewer
              tenants: [south-clinic]
    """)
    config = parse_config(config_text, "review-ui.yaml", workdir, environ={})
    app = build_app(config)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout_s=120)
        proxy = Proxy(server.url, client)

        def chat(key: str, text: str) -> dict[str, Any]:
            r = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                            json={"model": "primum-demo",
                                  "messages": [{"role": "user", "content": text}]})
            assert r.status_code == 200, r.text
            primum: dict[str, Any] = r.json()["primum"]
            return primum

        for name, key, text, action in [("crisis", NORTH_KEY, CRISIS, "escalate"),
                                        ("falsify", NORTH_KEY, FALSIFY, "block"),
                                        ("opioid", SOUTH_KEY, OPIOID, "block")]:
            primum = chat(key, text)
            assert primum["action"] == action, (text, primum)
            assert len(primum["case_ids"]) == 1, primum
            proxy.cases[name] = primum["case_ids"][0]
        chat(NORTH_KEY, "I'm on warfarin for my heart. Can I take ibuprofen for back pain?")
        chat(SOUTH_KEY, "What helps with a mild headache?")
        yield proxy


@pytest.fixture(scope="module")
def browser(proxy: Proxy) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Session:
    page: Page
    requests: list[str]
    problems: list[str]

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def session(browser: Browser, proxy: Proxy) -> Iterator[Session]:
    """A fresh browser context (its own sessionStorage) that records every request the
    page makes and every script error; after the test, nothing may have left the proxy."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 401/404 answer is logged by Chromium as a failed resource; the page expects them.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    def on_request(request: Request) -> None:
        requests.append(request.url)

    context.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    yield Session(page, requests, problems)
    context.close()
    origin = urlsplit(proxy.url).netloc
    assert requests, "the page made no requests at all"
    outside = [u for u in requests
               if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != origin]
    assert not outside, f"the page reached beyond the proxy: {outside}"
    assert not problems, problems


def _sign_in(page: Page, proxy: Proxy, key: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{proxy.url}/review")
    page.get_by_label("Review key").fill(key)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _case_ids(page: Page) -> list[str]:
    return [row.get_attribute("data-case-id") or ""
            for row in page.get_by_test_id("queue-row").all()]


def _pick(page: Page, name: str, label: str) -> None:
    """Tick one value of a multi-value filter (open its panel, tick, close)."""
    menu = page.get_by_test_id(f"filter-{name}")
    menu.locator("summary").click()
    menu.get_by_label(label, exact=True).check()
    page.keyboard.press("Escape")


def test_a_reviewer_finds_reads_and_resolves_a_case(session: Session, proxy: Proxy) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.goto(f"{proxy.url}/review")
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    page.get_by_label("Review key").fill("rk-not-a-key")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_contain_text("not accepted")
    expect(page.get_by_test_id("nav")).to_be_hidden()

    page.get_by_label("Review key").fill(ADMIN_KEY)
    page.get_by_label("Review key").press("Enter")  # the keyboard is enough
    expect(page.get_by_test_id("user-name")).to_have_text("safety-admin · admin")

    # The queue: open cases of every tenant, most urgent (the crisis, high) first.
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(3)
    assert set(_case_ids(page)) == set(proxy.cases.values())
    expect(rows.first).to_have_attribute("data-case-id", proxy.cases["crisis"])
    expect(rows.first).to_contain_text("High")
    expect(rows.first).to_contain_text("north-clinic")
    expect(rows.first.locator("td").nth(4)).to_have_text("crisis")  # the escalation
    expect(rows.first).to_contain_text("crisis/suicidal_ideation")
    session.screenshot("queue")

    # Filters: a tenant, then a priority.
    _pick(page, "tenant", "south-clinic")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case-id", proxy.cases["opioid"])
    page.get_by_test_id("filters-reset").click()
    expect(rows).to_have_count(3)
    _pick(page, "priority", "High")
    expect(rows).to_have_count(1)
    _pick(page, "category", "crisis / Suicidal ideation")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case-id", proxy.cases["crisis"])

    # The case: fields, policy, findings with scores, the redacted excerpt, the timeline.
    rows.first.get_by_test_id("case-link").click()
    expect(page).to_have_url(re.compile(f"#/cases/{proxy.cases['crisis']}$"))
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    expect(page.get_by_test_id("case-tenant")).to_have_text("north-clinic")
    expect(page.get_by_test_id("case-policy")).to_have_text(f"primum-default v{DEFAULT_VERSION}")
    findings = page.get_by_test_id("finding-row")
    expect(findings.filter(has_text="suicidal_ideation")).to_have_count(1)
    expect(findings.filter(has_text="phi")).not_to_have_count(0)
    for score in page.get_by_test_id("finding-score").all_inner_texts():
        assert re.fullmatch(r"[01]\.\d\d", score), score
    excerpt = page.get_by_test_id("case-excerpt")
    expect(excerpt).to_contain_text("end my life")
    expect(excerpt).to_contain_text("[PERSON")
    body = page.locator("body").inner_text()
    assert "Jane Doe" not in body and "415-555-0132" not in body
    expect(page.get_by_test_id("decision-card").first).to_contain_text("Escalate")
    expect(page.get_by_test_id("timeline-event")).to_have_count(1)
    expect(page.get_by_test_id("timeline-event").first).to_contain_text("Case opened")
    session.screenshot("case-detail")

    # The workflow: start review (assigns me), a note, resolve as a false positive.
    page.get_by_test_id("start-review").click()
    expect(page.get_by_test_id("case-status")).to_have_text("In review")
    expect(page.get_by_test_id("case-assignee")).to_have_text("safety-admin")
    page.get_by_label("Add a note").fill(NOTE)
    page.get_by_test_id("note-add").click()
    expect(page.get_by_test_id("case-message")).to_have_text("Note added.")
    expect(page.get_by_test_id("timeline-note")).to_contain_text("quoting a film line")
    page.get_by_test_id("resolution-false_positive").check()
    page.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("case-resolution")).to_have_text("False positive")
    expect(page.get_by_test_id("reopen")).to_be_visible()  # an admin may reopen
    session.screenshot("case-resolved")

    # What the API says now.
    case = proxy.review(f"/cases/{proxy.cases['crisis']}").json()
    assert case["status"] == "resolved" and case["resolution"] == "false_positive"
    assert case["assignee"] == "safety-admin" and case["resolved_at"]
    kinds = [e["kind"] for e in case["events"]]
    assert kinds[0] == "opened" and "note" in kinds and "assigned" in kinds
    assert [e["detail"]["to"] for e in case["events"] if e["kind"] == "status"] == [
        "in_review", "resolved"]
    notes = [e["detail"]["note"] for e in case["events"] if e["kind"] == "note"]
    assert len(notes) == 1 and "quoting a film line" in notes[0]
    assert "Jane Doe" not in notes[0]  # notes are PHI-redacted before storage
    assert all(e["actor"] == "safety-admin" for e in case["events"][1:])

    # Back in the queue (open and in review by default) the case is gone.
    page.get_by_test_id("back-to-queue").click()
    expect(page.get_by_test_id("queue-table-status")).to_have_text("No cases match these filters.")
    page.get_by_test_id("filters-reset").click()
    expect(rows).to_have_count(2)
    assert proxy.cases["crisis"] not in _case_ids(page)

    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_decisions_filter_detail_and_export(session: Session, proxy: Proxy) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.add_init_script("window.primumReviewPageSize = 3")  # to page through 8 decisions
    _sign_in(page, proxy, ADMIN_KEY)
    page.get_by_test_id("nav-decisions").click()
    rows = page.get_by_test_id("decision-row")
    everything = proxy.review("/decisions", params={"limit": 500}).json()["data"]
    assert len(everything) == 8  # 5 requests; the 3 blocked ones have no output decision
    more = page.get_by_test_id("decisions-table-more")
    for shown in (3, 6):
        expect(rows).to_have_count(shown)
        more.click()
    expect(rows).to_have_count(8)
    expect(more).to_be_hidden()
    ids = [int(r.get_attribute("data-decision-id") or 0) for r in rows.all()]
    assert ids == [d["id"] for d in everything]  # newest first, no row twice

    _pick(page, "action", "Block")
    blocked = proxy.review("/decisions", params={"action": "block"}).json()["data"]
    assert len(blocked) == 2
    expect(rows).to_have_count(2)
    _pick(page, "tenant", "south-clinic")
    expect(rows).to_have_count(1)
    session.screenshot("decisions")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-decisions-csv").click()
    download = download_info.value
    assert download.suggested_filename == "primum-decisions.csv"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    download.save_as(ARTIFACTS / "decisions-export.csv")
    exported = list(csv.DictReader(io.StringIO(
        (ARTIFACTS / "decisions-export.csv").read_text(encoding="utf-8"))))
    assert [(r["tenant"], r["action"]) for r in exported] == [("south-clinic", "block")]
    assert exported[0]["case_id"] == proxy.cases["opioid"]

    rows.first.get_by_test_id("decision-link").click()
    expect(page.get_by_test_id("decision-view")).to_be_visible()
    card = page.get_by_test_id("decision-card")
    expect(card).to_contain_text("Block")
    expect(card.get_by_test_id("finding-row").filter(has_text="p3_respect_law")).to_have_count(1)
    expect(card.get_by_test_id("decision-policy")).to_have_text(
        f"primum-default v{DEFAULT_VERSION}")
    expect(page.get_by_test_id("decision-case-link")).to_have_text(proxy.cases["opioid"])
    session.screenshot("decision-detail")

    # Back to the list (its filters kept); a custom time range with nothing in it.
    page.go_back()
    expect(rows).to_have_count(1)
    page.get_by_test_id("filter-range").select_option("custom")
    page.get_by_test_id("filter-since").fill("2099-01-01T00:00")
    expect(page.get_by_test_id("decisions-table-status")).to_have_text(
        "No decisions match these filters.")


def test_charts_of_decisions_over_time(session: Session, proxy: Proxy) -> None:
    from playwright.sync_api import expect

    page = session.page
    _sign_in(page, proxy, ADMIN_KEY)
    page.get_by_test_id("nav-charts").click()
    for by in ("action", "principle", "category"):
        chart = page.get_by_test_id(f"chart-{by}")
        expect(chart.locator("svg rect.bar").first).to_be_visible()
        expect(chart.get_by_test_id("legend-item").first).to_be_visible()
    action = page.get_by_test_id("chart-action")
    legend = action.get_by_test_id("legend-item").all_inner_texts()
    assert any(item.startswith("Block") for item in legend), legend
    assert any(item.startswith("Escalate") for item in legend), legend
    # The bars add up to the decisions the API counts.
    counts = action.locator("svg rect.bar").evaluate_all(
        "rects => rects.reduce((sum, r) => sum + Number(r.dataset.count), 0)")
    total = len(proxy.review("/decisions", params={"limit": 500}).json()["data"])
    assert counts == total
    # Every principle the recorded decisions carry has its legend entry (which principle
    # the classifier attributes to the seeded requests is the model's business, not the
    # chart's: the fake prescription moved from 3 to 2 when the classifier was retrained).
    principle_legend = page.get_by_test_id("chart-principle").get_by_test_id("legend-item")
    seen = [k for k in range(1, 10) if proxy.review(
        "/decisions", params={"principle": str(k), "limit": 1}).json()["data"]]
    assert seen, "the seeded AMA blocks carry a principle"
    for k in seen:
        expect(principle_legend.filter(has_text=f"{k} · ")).to_have_count(1)
    session.screenshot("charts")

    # The last 24 hours are drawn per hour, with the same filters as the decisions.
    page.get_by_test_id("filter-range").select_option("24h")
    expect(action).to_contain_text("per hour")
    expect(action.locator("svg rect.bar").first).to_be_visible()
    _pick(page, "action", "Escalate")
    expect(action.get_by_test_id("legend-item")).to_have_count(1)
    expect(action.get_by_test_id("legend-item")).to_contain_text("Escalate 1")


def test_a_reviewer_sees_only_the_granted_tenant(session: Session, proxy: Proxy) -> None:
    from playwright.sync_api import expect

    page = session.page
    _sign_in(page, proxy, SOUTH_REVIEWER_KEY)
    expect(page.get_by_test_id("user-name")).to_have_text("south-reviewer · reviewer")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(1)
    assert _case_ids(page) == [proxy.cases["opioid"]]
    # Every status, any time: still only the granted tenant.
    _pick(page, "status", "Resolved")
    expect(page.get_by_test_id("queue-table-status")).to_contain_text("shown")
    assert set(_case_ids(page)) <= {proxy.cases["opioid"]}
    menu = page.get_by_test_id("filter-tenant")
    menu.locator("summary").click()
    expect(menu.get_by_test_id("filter-tenant-option")).to_have_count(1)
    page.keyboard.press("Escape")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-cases-json").click()
    download = download_info.value
    assert download.suggested_filename == "primum-cases.json"
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert [c["case_id"] for c in exported] == [proxy.cases["opioid"]]
    # A north case's address shows nothing of it.
    page.goto(f"{proxy.url}/review#/cases/{proxy.cases['falsify']}")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    assert "falsify" not in page.locator("body").inner_text()
    page.get_by_test_id("nav-decisions").click()
    expect(page.get_by_test_id("decision-row").first).to_be_visible()
    tenants = page.get_by_test_id("decision-row").locator("td:nth-child(2)").all_inner_texts()
    assert set(tenants) == {"south-clinic"}

    # Someone else resolves the case while it is open here: the page says so and shows the
    # case as it is now (a reviewer may not reopen; only an admin may).
    opioid = proxy.cases["opioid"]
    page.goto(f"{proxy.url}/review#/cases/{opioid}")
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    patch = proxy.patch_case(opioid, {"status": "resolved", "resolution": "confirmed"})
    assert patch.status_code == 200, patch.text
    page.get_by_test_id("start-review").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("case-message")).to_contain_text("changed meanwhile")
    expect(page.get_by_test_id("reopen")).to_have_count(0)
    for status in ("in_review", "open"):  # as it was, for the other tests
        assert proxy.patch_case(opioid, {"status": status}).status_code == 200


def test_a_key_no_longer_accepted_returns_to_sign_in(session: Session, proxy: Proxy) -> None:
    from playwright.sync_api import expect

    page = session.page
    _sign_in(page, proxy, ADMIN_KEY)
    # As if the key were rotated while the tab was open.
    page.evaluate("sessionStorage.setItem('primum.reviewKey', 'rk-rotated-away')")
    page.reload()
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    expect(page.get_by_test_id("signin-error")).to_contain_text("sign in again")
    expect(page.get_by_test_id("view")).to_be_empty()


def test_the_page_is_self_contained_and_renders_no_markup_from_data() -> None:
    """No browser needed: the page's files name no other host and never parse data as HTML."""
    static = Path(__file__).parents[1] / "proxy" / "review" / "static"
    files = {name: (static / name).read_text(encoding="utf-8")
             for name in ("index.html", "review.js", "review.css")}
    for name, text in files.items():
        hosts = set(re.findall(r"(?:https?:)?//([A-Za-z0-9.-]+\.[A-Za-z]{2,})", text))
        assert hosts <= {"www.w3.org"}, (name, hosts)  # the SVG namespace is a name, not a fetch
        assert "@import" not in text and "url(" not in text.replace("data:", ""), name
    script = files["review.js"]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function"):
        assert sink not in script, sink
    assert "<script>" not in files["index.html"]  # the CSP allows no inline script
    assert " style=" not in files["index.html"]

