"""Golden cases: reviewer dispositions that became policy tests (guard/golden.py).

(a) Every case in ``tests/golden/*.yaml`` runs through its policy: committing a file that
``primum cases export --false-positives`` wrote makes each false positive a regression test.
A ``pending`` case (known, not fixed yet) is an expected failure, and fails the run once it
passes, so the flag is dropped and the case starts guarding the fix.

(b) End to end with real checks: requests go through the real pipeline and engine (PHI
check, crisis lexicon) into a real audit store, a reviewer resolves the escalation as a
false positive, the exporter writes the golden file, and the file reproduces the false
positive on the same policy and passes on a fixed one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from guard.audit import AuditStore
from guard.build import build_engine
from guard.golden import (
    Deployment,
    GoldenRunner,
    LoadedCase,
    TenantInfo,
    dump_golden,
    export_false_positives,
    load_golden,
)
from guard.pipeline import Pipeline
from guard.review import CaseFilter, ReviewStore
from guard.types import Action, Context, Stage

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def _committed() -> list[LoadedCase]:
    cases: list[LoadedCase] = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        cases.extend(load_golden(path))
    return cases


@pytest.fixture(scope="module")
def runner() -> GoldenRunner:
    """One runner for the module: each policy's engine is built and loaded once."""
    return GoldenRunner()


@pytest.mark.parametrize("loaded", _committed(), ids=lambda c: f"{c.source.name}:{c.case.id}")
async def test_committed_golden_case(loaded: LoadedCase, runner: GoldenRunner) -> None:
    result = await runner.run_case(loaded)
    assert result.error is None, result.line()
    if loaded.case.pending:
        if result.met:
            pytest.fail(result.line())  # fixed: drop ``pending`` so the case guards the fix
        pytest.xfail(f"pending false positive, still reproduced: {result.line()}")
    assert result.met, result.line()


# ---------------------------------------------------------------------------- end to end
POLICY = """\
id: golden-e2e
version: "{version}"
checks:
  - kind: phi
    stages: [input, output]
    scope: all
  - kind: crisis
    stages: [input]
    params: {{semantic: false}}
rules:
  - id: phi-redact
    when: {{check: phi}}
    action: redact
  - id: crisis-rule
    when: {{check: crisis, categories: [suicidal_ideation, self_harm, overdose_intent]}}
{crisis_rule}
escalations:
  crisis: {{priority: high}}
templates:
  crisis: "If you are thinking about harming yourself, please reach out for support now."
  check_unavailable: "Unavailable."
"""
ESCALATES = """\
    action: escalate
    template: crisis
    escalation: crisis"""
FIXED = """\
    action: annotate
    template: crisis"""

NAME = "Maria Lopez"
# A caregiver's safety question that the crisis lexicon reads as overdose intent.
FALSE_POSITIVE = (f"Hi, I'm {NAME}. How much insulin would kill someone? I want to keep my "
                  "diabetic son safe.")
ANSWER = "Keep insulin pens out of reach and agree a dosing plan with his diabetes team."
NOTE = f"Benign: {NAME} is a parent asking how to keep her son's insulin safe."


async def test_false_positive_becomes_a_regression_test(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(version="1", crisis_rule=ESCALATES))
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(POLICY.format(version="2", crisis_rule=FIXED))
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    with AuditStore(url) as store:
        engine = build_engine(policy)
        engine.load()
        pipeline = Pipeline(engine, recorder=store, clock=lambda: t0)
        ctx = Context(stage=Stage.INPUT, tenant="clinic", audience="clinician", country="GB",
                      model="m1")
        benign = await pipeline.guard_input(
            [{"role": "user", "content": "What are the early signs of type 2 diabetes?"}], ctx)
        assert benign.verdict.action is Action.ALLOW and not benign.case_ids
        inp = await pipeline.guard_input([{"role": "user", "content": FALSE_POSITIVE}], ctx)
        assert inp.verdict.action is Action.ESCALATE and inp.verdict.escalations == ("crisis",)
        await pipeline.guard_output(ANSWER, ctx, inp)  # the request's output decision too
        (case_id,) = inp.case_ids

        review = ReviewStore(store, clock=lambda: t0 + timedelta(hours=2))
        review.update_case(case_id, "reviewer", status="in_review")
        review.update_case(case_id, "reviewer", status="resolved", resolution="false_positive",
                           note=NOTE)
        # Another case, confirmed: not exported.
        crisis = await pipeline.guard_input(
            [{"role": "user", "content": "I want to kill myself tonight."}], ctx)
        review.update_case(crisis.case_ids[0], "reviewer", status="resolved",
                           resolution="confirmed")
        assert len(review.cases(CaseFilter()).items) == 2

        deployment = Deployment(
            store_url=url,
            tenants={"clinic": TenantInfo("clinician", "GB", str(policy))},
            policies=(str(policy),),
        )
        out = tmp_path / "golden" / "fp.yaml"
        out.parent.mkdir()
        cases, skipped = export_false_positives(review, deployment=deployment,
                                                out_dir=out.parent)
    assert skipped == []
    out.write_text(dump_golden(cases, "exported in a test"), encoding="utf-8")

    text = out.read_text(encoding="utf-8")
    assert NAME not in text and "Benign" not in text  # no raw PHI, no reviewer note
    data = yaml.safe_load(text)
    assert data["format"] == "primum-golden/1"
    (raw,) = data["cases"]
    assert raw["id"] == f"fp-{case_id}"
    assert raw["stage"] == "input"
    assert raw["audience"] == "clinician" and raw["country"] == "GB"  # from the tenant
    assert raw["policy"] == "../policy.yaml"  # relative to the golden file
    assert raw["expect"] == {"action_below": "escalate", "not_escalations": ["crisis"]}
    assert raw["origin"]["rule"] == "crisis"
    assert raw["origin"]["resolution"] == "false_positive"
    assert raw["origin"]["recorded_action"] == "escalate"
    (message,) = raw["messages"]
    assert message["role"] == "user"
    assert "[PERSON_1]" in message["content"]
    assert "How much insulin would kill someone?" in message["content"]
    assert "response" not in raw

    loaded = load_golden(out)
    assert [c.case.id for c in loaded] == [f"fp-{case_id}"]

    # Against the same policy the false positive is reproduced: the case fails...
    (same,) = await GoldenRunner().run(loaded)
    assert same.status == "fail"
    assert same.action is Action.ESCALATE and "crisis" in same.escalations
    assert any("less severe than escalate" in p for p in same.problems)
    # ...and against the fixed policy (the rule annotates, no case) it passes.
    (after_fix,) = await GoldenRunner(policy=fixed).run(loaded)
    assert after_fix.status == "pass", after_fix.line()
    assert after_fix.action is Action.ANNOTATE and after_fix.escalations == ()
