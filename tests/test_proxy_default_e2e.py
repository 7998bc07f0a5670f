"""The embedded default config end to end: real checks (presidio PHI, crisis lexicon), the
offline ``primum-demo`` model through litellm, the SQLite store at its default relative
path. No upstream server: this is what ``primum serve`` does out of the box."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guard.audit import AuditStore
from guard.build import resolve_policy
from guard.policy import load_policy
from proxy.config import load_config
from proxy.wiring import build_app
from tests.fakes.servers import ServerThread, wait_until

DEFAULT_VERSION = load_policy(resolve_policy("default")).version
"""The shipped default pack's version, as the proxy reports it."""


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning"),
]

AUTH = {"Authorization": "Bearer sk-primum-local"}


class Demo:
    def __init__(self, client: httpx.Client, workdir: Path) -> None:
        self.client = client
        self.workdir = workdir

    def chat(self, text: str, **body: object) -> httpx.Response:
        return self.client.post(
            "/v1/chat/completions", headers=AUTH,
            json={"model": "primum-demo", "messages": [{"role": "user", "content": text}],
                  **body},
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("default-config")
    previous = os.getcwd()
    os.chdir(workdir)  # the default store is sqlite:///var/primum.db, relative to the cwd
    try:
        app = build_app(load_config(None, environ={}))
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as c:
            wait_until(lambda: c.get("/readyz").status_code == 200, timeout_s=60)
            yield Demo(c, workdir)
    finally:
        os.chdir(previous)


def test_phi_reaches_the_demo_model_as_placeholders_and_comes_back_restored(demo: Demo) -> None:
    r = demo.chat("Hi, I am Jane Doe, call me at 415-555-0132. Is ibuprofen ok with asthma?")
    assert r.status_code == 200, r.text
    content = r.json()["choices"][0]["message"]["content"]
    assert content.startswith("(primum-demo, an offline demo model) You asked: «Hi, I am Jane Doe")
    assert "415-555-0132" in content
    primum = r.json()["primum"]
    assert primum["action"] == "redact"
    assert primum["policy"] == {"id": "primum-default", "version": DEFAULT_VERSION}
    assert "phi/person" in primum["categories"]


def test_crisis_message_gets_resources_first_and_a_case(demo: Demo) -> None:
    r = demo.chat("I want to end my life tonight")
    body = r.json()
    content = body["choices"][0]["message"]["content"]
    assert "988" in content.split("(primum-demo")[0]
    assert body["primum"]["action"] == "escalate"
    assert len(body["primum"]["case_ids"]) == 1


def test_an_emergency_is_sent_to_emergency_care_first_with_one_case(demo: Demo) -> None:
    body = demo.chat("My dad has crushing chest pain and is sweating a lot").json()
    content = body["choices"][0]["message"]["content"]
    if not content.startswith("This could be a medical emergency. Call 911 now"):
        # a check that failed closed (seen once in CI): name it and its reason from the store
        with AuditStore(f"sqlite:///{demo.workdir / 'var' / 'primum.db'}") as store:
            recorded = store.list_decisions(request_id=body["primum"]["request_id"])
        pytest.fail(f"no emergency direction first: {content!r}; failures "
                    f"{[d['failures'] for d in recorded]}")
    primum = body["primum"]
    assert (primum["input_action"], primum["action"]) == ("escalate", "escalate")
    assert "critical_illness/emergency.acs" in primum["categories"]
    # The demo model's answer gives no emergency direction: that failure joins the case the
    # question opened, named once.
    assert "critical_illness/answer.no_emergency_direction" in primum["categories"]
    [case_id] = primum["case_ids"]
    with AuditStore(f"sqlite:///{demo.workdir / 'var' / 'primum.db'}") as store:
        case = store.get_case(case_id)
        assert case is not None and (case["priority"], case["rule"]) == ("critical", "emergency")
        assert case["merged_count"] == 1


def test_streaming_with_the_demo_model(demo: Demo) -> None:
    r = demo.chat("What helps with a mild headache?", stream=True,
                  stream_options={"include_usage": True})
    assert r.status_code == 200
    assert r.text.endswith("data: [DONE]\n\n")
    assert "You asked: " in r.text


def test_models_and_store_at_the_default_path(demo: Demo) -> None:
    r = demo.client.get("/v1/models", headers=AUTH)
    assert [m["id"] for m in r.json()["data"]] == ["primum-demo"]
    db = demo.workdir / "var" / "primum.db"
    assert db.is_file()
    with AuditStore(f"sqlite:///{db}") as store:
        rows = store.list_decisions(limit=1000)
        assert rows
        assert all("Jane" not in row["excerpt"] and "415-555" not in row["excerpt"]
                   for row in rows)
        assert store.list_cases()


def test_a_dangerous_combination_is_answered_with_the_limit_and_its_source(demo: Demo) -> None:
    r = demo.chat("I'm on warfarin for my heart. Can I take ibuprofen for back pain?")
    assert r.status_code == 200, r.text
    content = r.json()["choices"][0]["message"]["content"]
    assert content.startswith("(primum-demo, an offline demo model) You asked:")
    assert "Important medicine safety information:" in content
    assert "ibuprofen + warfarin" in content and "Source:" in content
    assert r.json()["primum"]["action"] == "annotate"
