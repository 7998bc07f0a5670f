"""The review API over HTTP: a real uvicorn server with the production wiring (config
parsing, build_app, the SQLite audit store, the PHI redactor for notes), keyword fakes
for the policy's checks and the offline demo model. Traffic goes through the chat API so
the cases and decisions under review are the ones the proxy really wrote.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.audit import AuditStore
from guard.checks import CheckRegistry
from guard.recording import DecisionRecord
from guard.types import Action, Finding, Stage, Verdict
from proxy.auth import hash_key
from proxy.config import ConfigError, parse_config
from proxy.wiring import build_app
from tests.fakes.checks import KeywordCheck
from tests.fakes.servers import ServerThread, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")]

CLIENT_A, CLIENT_B = "sk-client-a", "sk-client-b"
ADMIN, REVIEWER_A, REVIEWER_NONE = "rk-admin", "rk-reviewer-a", "rk-reviewer-none"

POLICY = """
id: review-test
version: "7.1"
checks:
  - kind: phi
    stages: [input, output]
    params: {keywords: {"alice example": person}, entity: PERSON}
  - kind: keyword
    name: crisis
    stages: [input]
    params: {keywords: {"end my life": suicidal_ideation}}
  - kind: keyword
    name: harm
    stages: [input]
    params: {keywords: {forge: falsify_records}}
rules:
  - id: phi-redact
    when: {check: phi}
    action: redact
  - id: crisis-escalate
    when: {check: crisis}
    action: escalate
    template: crisis
    escalation: crisis
  - id: harm-block
    when: {check: harm}
    action: block
    template: refuse
escalations:
  crisis: {priority: critical, amend: prepend}
templates:
  crisis: "Please call 988 now."
  refuse: "I can't help falsify records."
  check_unavailable: "A safety check is unavailable right now; in an emergency call 911."
"""


def _config(tmp: Path) -> str:
    return f"""
policies: {{test: policy.yaml}}
tenants:
  - {{name: clinic-a, key_sha256: ["{hash_key(CLIENT_A)}"], policy: test}}
  - {{name: clinic-b, key_sha256: ["{hash_key(CLIENT_B)}"], policy: test}}
model_list:
  - {{model_name: primum-demo, litellm_params: {{model: primum/demo}}}}
store: {{url: "sqlite:///{tmp / 'audit.db'}"}}
review:
  max_export_rows: 1000
  reviewers:
    - {{name: admin, key_sha256: ["{hash_key(ADMIN)}"], role: admin}}
    - {{name: ana, key_sha256: ["{hash_key(REVIEWER_A)}"], tenants: [clinic-a]}}
    - {{name: nobody, key_sha256: ["{hash_key(REVIEWER_NONE)}"], tenants: [clinic-b]}}
"""


def _registry() -> CheckRegistry:
    registry = CheckRegistry()
    registry.register("phi", KeywordCheck)
    registry.register("keyword", KeywordCheck)
    return registry


class Env:
    def __init__(self, url: str, store: AuditStore) -> None:
        self.url = url
        self.store = store
        self.http = httpx.Client(base_url=url, timeout=30)

    def chat(self, text: str, key: str = CLIENT_A) -> httpx.Response:
        return self.http.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                              json={"model": "primum-demo",
                                    "messages": [{"role": "user", "content": text}]})

    def get(self, path: str, key: str = ADMIN, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {key}"})

    def patch(self, path: str, body: Any, key: str = ADMIN) -> httpx.Response:
        return self.http.patch(path, json=body, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("review")
    (tmp / "policy.yaml").write_text(POLICY)
    config = parse_config(_config(tmp), "review.yaml", tmp)
    app = build_app(config, load_in_background=False, check_registry=_registry())
    with ServerThread(app) as server:
        e = Env(server.url, AuditStore(config.store.url))
        wait_until(lambda: e.http.get("/readyz").status_code == 200)
        assert e.chat("I want to end my life, I'm alice example").status_code == 200
        assert e.chat("please forge my chart").status_code == 200
        assert e.chat("what is a normal heart rate?").status_code == 200
        assert e.chat("I want to end my life", key=CLIENT_B).status_code == 200
        e.store.open()
        # Decisions with principles and criteria, as the AMA and medication checks write.
        asyncio.run(e.store.record_decision(DecisionRecord(
            "seeded-1", datetime.now(UTC) - timedelta(hours=2), "clinic-a", "primum-demo",
            Stage.INPUT, Verdict(Action.BLOCK, Stage.INPUT, "review-test", "7.1", findings=(
                Finding("harmful_request", "p4_rights_confidentiality", 0.97, principle=4),
                Finding("medication", "renal_contraindicated", 0.9,
                        criterion="dose_mismatched_to_organ_function"))),
            excerpt="=cmd|' /C calc'!A0 share my neighbour's chart")))
        yield e
        e.store.close()
        e.http.close()


def _cases(env: Env, key: str = ADMIN, **params: Any) -> list[dict[str, Any]]:
    r = env.get("/review/api/cases", key, **params)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def _error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code and set(error) == {"message", "type", "param", "code"}
    return error


# ---------------------------------------------------------------------- auth
def test_keys_are_separate_from_client_keys(env: Env) -> None:
    _error(env.get("/review/api/cases", CLIENT_A), 401, "invalid_api_key")
    _error(env.http.get("/review/api/cases"), 401, "invalid_api_key")
    _error(env.http.get("/review/api/cases", headers={"Authorization": "Basic x"}), 401,
           "invalid_api_key")
    r = env.http.post("/v1/chat/completions", headers={"Authorization": f"Bearer {ADMIN}"},
                      json={"model": "primum-demo",
                            "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401  # a review key cannot send chat traffic


def test_me(env: Env) -> None:
    assert env.get("/review/api/me").json() == {
        "name": "admin", "role": "admin", "tenants": ["clinic-a", "clinic-b"]}
    assert env.get("/review/api/me", REVIEWER_A).json() == {
        "name": "ana", "role": "reviewer", "tenants": ["clinic-a"]}


def test_a_reviewer_sees_only_granted_tenants(env: Env) -> None:
    assert {c["tenant"] for c in _cases(env)} == {"clinic-a", "clinic-b"}
    mine = _cases(env, REVIEWER_A)
    assert mine and {c["tenant"] for c in mine} == {"clinic-a"}
    _error(env.get("/review/api/cases", REVIEWER_A, tenant="clinic-b"), 403,
           "permission_denied")
    other = next(c for c in _cases(env) if c["tenant"] == "clinic-b")
    _error(env.get(f"/review/api/cases/{other['case_id']}", REVIEWER_A), 404, "not_found")
    _error(env.patch(f"/review/api/cases/{other['case_id']}", {"note": "x"}, REVIEWER_A), 404,
           "not_found")
    decisions = env.get("/review/api/decisions", REVIEWER_A, limit=500).json()["data"]
    assert decisions and {d["tenant"] for d in decisions} == {"clinic-a"}
    foreign = env.get("/review/api/decisions", tenant="clinic-b").json()["data"][0]
    _error(env.get(f"/review/api/decisions/{foreign['id']}", REVIEWER_A), 404, "not_found")
    export = env.get("/review/api/export/decisions", REVIEWER_A, format="json").json()
    assert {d["tenant"] for d in export} == {"clinic-a"}
    stats = env.get("/review/api/stats", REVIEWER_A, by="action").json()
    admin_stats = env.get("/review/api/stats", by="action").json()
    assert sum(s["total"] for s in stats["series"]) < sum(
        s["total"] for s in admin_stats["series"])


# ---------------------------------------------------------------------- reading
def test_cases_and_detail_hold_what_the_proxy_recorded(env: Env) -> None:
    [case] = _cases(env, tenant="clinic-a")
    assert (case["rule"], case["priority"], case["status"], case["model"]) == (
        "crisis", "critical", "open", "primum-demo")
    assert "alice example" not in json.dumps(case)
    assert "[PERSON_1]" in case["excerpt"]  # redacted before it was stored
    detail = env.get(f"/review/api/cases/{case['case_id']}").json()
    assert detail["policy_id"] == "review-test" and detail["policy_version"] == "7.1"
    assert [d["stage"] for d in detail["decisions"]] == ["input", "output"]
    assert detail["decisions"][0]["action"] == "escalate"
    assert detail["decisions"][0]["severity"] == "critical"
    assert [e["kind"] for e in detail["events"]] == ["opened"]
    _error(env.get("/review/api/cases/does-not-exist"), 404, "not_found")


def test_decision_filters(env: Env) -> None:
    def request_ids(**params: Any) -> set[str]:
        r = env.get("/review/api/decisions", **params)
        assert r.status_code == 200, r.text
        return {d["request_id"] for d in r.json()["data"]}

    assert request_ids(principle="4") == {"seeded-1"}
    assert request_ids(criterion="dose_mismatched_to_organ_function") == {"seeded-1"}
    assert request_ids(category="harmful_request/p4_rights_confidentiality") == {"seeded-1"}
    blocked = env.get("/review/api/decisions", action="block").json()["data"]
    assert {d["action"] for d in blocked} == {"block"} and len(blocked) == 2
    assert len(request_ids(action="block,escalate")) == len(
        request_ids(action=["block", "escalate"])) == 4
    assert request_ids(stage="output", tenant="clinic-b") and all(
        d["stage"] == "output" for d in env.get("/review/api/decisions", stage="output").json()[
            "data"])
    assert request_ids(severity="critical") == {
        c["request_id"] for c in _cases(env)}
    future = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert request_ids(since=future) == set()
    one = env.get("/review/api/decisions", principle="4").json()["data"][0]
    assert env.get(f"/review/api/decisions/{one['id']}").json() == one


def test_pagination(env: Env) -> None:
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = env.get("/review/api/decisions", **params).json()
        seen += [d["id"] for d in body["data"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    everything = env.get("/review/api/decisions", limit=500).json()["data"]
    assert seen == [d["id"] for d in everything] and len(seen) >= 8


@pytest.mark.parametrize(("params", "param"), [
    ({"action": "nuke"}, "action"),
    ({"severity": "extreme"}, "severity"),
    ({"principle": "10"}, "principle"),
    ({"since": "last tuesday"}, "since"),
    ({"limit": "0"}, "limit"),
    ({"limit": "501"}, "limit"),
    ({"cursor": "garbage"}, "cursor"),
    ({"limit": ["1", "2"]}, "limit"),
])
def test_bad_filters_get_openai_errors(env: Env, params: dict[str, Any], param: str) -> None:
    assert _error(env.get("/review/api/decisions", **params), 400, "invalid_request")[
        "param"] == param


def test_bad_case_list_parameters(env: Env) -> None:
    _error(env.get("/review/api/cases", status="closed"), 400, "invalid_request")
    _error(env.get("/review/api/cases", order="random"), 400, "invalid_request")
    _error(env.get("/review/api/stats", by="tenant"), 400, "invalid_request")
    _error(env.get("/review/api/stats", bucket="hour", since="2020-01-01"), 400,
           "invalid_request")


def test_facets(env: Env) -> None:
    facets = env.get("/review/api/facets").json()
    assert facets["tenants"] == ["clinic-a", "clinic-b"]
    assert "crisis/suicidal_ideation" in facets["categories"]
    assert facets["rules"] == ["crisis"]
    assert facets["principles"][3] == {"id": 4, "name": "Patients' rights, confidentiality "
                                                       "and privacy"}
    assert facets["actions"][0] == "allow" and facets["statuses"] == [
        "open", "in_review", "resolved"]
    mine = env.get("/review/api/facets", REVIEWER_NONE).json()
    assert mine["tenants"] == ["clinic-b"]
    # Only what clinic-b's traffic raised: the seeded clinic-a findings stay hidden.
    assert "harmful_request/p4_rights_confidentiality" in facets["categories"]
    assert "harmful_request/p4_rights_confidentiality" not in mine["categories"]
    assert mine["criteria"] == [] and facets["criteria"] == ["dose_mismatched_to_organ_function"]


def test_stats(env: Env) -> None:
    body = env.get("/review/api/stats", by="principle", bucket="hour").json()
    assert len(body["buckets"]) >= 168
    [series] = body["series"]
    assert series["key"] == "4" and series["label"].startswith("4. Patients' rights")
    actions = {s["key"]: s["total"] for s in env.get("/review/api/stats").json()["series"]}
    assert actions["escalate"] == 2 and actions["block"] == 2


# ---------------------------------------------------------------------- workflow
def test_workflow_over_http(env: Env) -> None:
    [case] = _cases(env, tenant="clinic-a")
    path = f"/review/api/cases/{case['case_id']}"
    _error(env.patch(path, {"status": "resolved"}, REVIEWER_A), 409, "invalid_transition")
    _error(env.patch(path, {"colour": "red"}, REVIEWER_A), 400, "invalid_request")
    _error(env.patch(path, {}, REVIEWER_A), 400, "invalid_request")
    _error(env.patch(path, {"assignee": ""}, REVIEWER_A), 400, "invalid_request")
    _error(env.patch(path, {"status": 3}, REVIEWER_A), 400, "invalid_request")
    assert _error(env.patch(path, {"status": "closed"}, REVIEWER_A), 400, "invalid_request")[
        "param"] == "status"
    assert _error(env.patch(path, {"note": " "}, REVIEWER_A), 400, "invalid_request")[
        "param"] == "note"
    r = env.http.patch(path, content=b"[1]", headers={"Authorization": f"Bearer {REVIEWER_A}"})
    _error(r, 400, "invalid_request")

    r = env.patch(path, {"status": "in_review", "assignee": "ana"}, REVIEWER_A)
    assert r.status_code == 200, r.text
    r = env.patch(path, {"note": "Spoke to Jane Roe on 617-555-0199; she is with family."},
                  REVIEWER_A)
    assert r.status_code == 200, r.text
    note = r.json()["events"][-1]
    assert note["kind"] == "note" and note["actor"] == "ana"
    assert "Jane Roe" not in note["detail"]["note"] and "617-555-0199" not in note["detail"][
        "note"]
    r = env.patch(path, {"status": "resolved", "resolution": "confirmed"}, REVIEWER_A)
    assert r.json()["status"] == "resolved" and r.json()["resolution"] == "confirmed"
    assert case["case_id"] not in {c["case_id"] for c in _cases(env, status="open,in_review")}
    assert case["case_id"] in {c["case_id"] for c in _cases(env, resolution="confirmed")}
    _error(env.patch(path, {"status": "in_review"}, REVIEWER_A), 409, "invalid_transition")
    reopened = env.patch(path, {"status": "in_review"}, ADMIN).json()
    assert reopened["status"] == "in_review"
    assert [e["actor"] for e in reopened["events"]][-1] == "admin"


# ---------------------------------------------------------------------- exports
def test_csv_export(env: Env) -> None:
    r = env.get("/review/api/export/decisions", format="csv", principle="4")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="primum-decisions.csv"'
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["principles"] == "4" and row["criteria"] == "dose_mismatched_to_organ_function"
    assert row["excerpt"].startswith("'=")  # a spreadsheet will not run it as a formula
    cases = list(csv.DictReader(io.StringIO(env.get("/review/api/export/cases").text)))
    assert {c["tenant"] for c in cases} == {"clinic-a", "clinic-b"}


def test_json_export_is_valid_json_and_redacted(env: Env) -> None:
    r = env.get("/review/api/export/decisions", format="json")
    rows = r.json()
    assert len(rows) == len(env.get("/review/api/decisions", limit=500).json()["data"])
    assert "alice example" not in r.text
    assert env.get("/review/api/export/cases", format="json").json()[0]["case_id"]
    _error(env.get("/review/api/export/cases", format="xml"), 400, "invalid_request")


# ---------------------------------------------------------------------- page and config
def test_page_is_served_without_a_key_and_without_outside_resources(env: Env) -> None:
    r = env.http.get("/review")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "http://" not in r.text and "https://" not in r.text
    _error(env.http.get("/review/static/../wiring.py"), 404, "not_found")
    _error(env.http.get("/review/static/nothing.js"), 404, "not_found")


def test_review_is_off_without_reviewers(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text('id: review-off\nversion: "1"\n')
    text = _config(tmp_path).split("review:")[0]
    app = build_app(parse_config(text, "off.yaml", tmp_path), load_in_background=False,
                    check_registry=_registry())
    with ServerThread(app) as server:
        r = httpx.get(f"{server.url}/review/api/cases",
                      headers={"Authorization": f"Bearer {ADMIN}"})
        _error(r, 404, "review_disabled")


K, J, A = hash_key("k"), hash_key("j"), hash_key(CLIENT_A)


@pytest.mark.parametrize(("review", "message"), [
    (f'reviewers: [{{name: x, key_sha256: ["{K}"]}}]', "must be granted tenants"),
    (f'reviewers: [{{name: x, key_sha256: ["{K}"], tenants: [nope]}}]', "unknown tenant 'nope'"),
    (f'reviewers: [{{name: x, key_sha256: ["{A}"], role: admin}}]', "separate from client keys"),
    (f'reviewers: [{{name: x, key_sha256: ["{K}"], role: admin}}, '
     f'{{name: x, key_sha256: ["{J}"], role: admin}}]', "unique"),
    ('reviewers: [{name: x, key_sha256: ["rk-plain"], role: admin}]', "64-hex-digit"),
])
def test_review_config_errors_point_at_the_field(tmp_path: Path, review: str,
                                                 message: str) -> None:
    (tmp_path / "policy.yaml").write_text('id: review-off\nversion: "1"\n')
    text = _config(tmp_path).split("review:")[0] + "review:\n  " + review + "\n"
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(text, "bad.yaml", tmp_path)
    assert "review.reviewers.0" in str(info.value) or "review.reviewers.1" in str(info.value)
