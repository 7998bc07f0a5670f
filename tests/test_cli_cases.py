"""``primum cases export --false-positives`` and ``primum policy test``, in-process through
``main()``, on stores filled by the real pipeline with fake (instant) checks; plus the golden
file format's validation and the case-to-golden rules (guard/golden.py)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from guard.audit import AuditStore
from guard.build import build_engine
from guard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, build_parser, main
from guard.golden import (
    Deployment,
    DeploymentError,
    GoldenError,
    Skipped,
    deployment_from_config,
    golden_case,
    load_golden,
)
from guard.pipeline import Pipeline
from guard.review import ReviewStore
from guard.types import Context, Stage
from tests.fakes.checks import fake_registry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

POLICY = """\
id: {id}
version: "1"
checks:
  - kind: phi
    stages: [{phi_stages}]
    scope: all
    params: {{keywords: {{alice: person}}, entity: PERSON}}
  - kind: keyword
    name: crisis
    stages: [input]
    params: {{keywords: {{"end my life": suicidal_ideation}}}}
  - kind: keyword
    name: meds
    stages: [output]
    params: {{keywords: {{"double the dose": dose_above_max}}}}
rules:
  - id: phi-redact
    when: {{check: phi}}
    action: redact
  - id: crisis-escalate
    when: {{check: crisis}}
{crisis}
  - id: meds-block
    when: {{check: meds}}
{meds}
escalations:
  crisis: {{priority: high}}
  med_review: {{priority: normal, amend: none}}
templates:
  crisis: "Support is available."
  stop: "That dose is not safe."
  check_unavailable: "Unavailable."
"""
CRISIS_ESCALATES = "    action: escalate\n    template: crisis\n    escalation: crisis"
CRISIS_FIXED = "    action: annotate\n    template: crisis"
MEDS_BLOCKS = "    action: block\n    template: stop\n    escalation: med_review"
MEDS_FIXED = "    action: annotate\n    template: stop"


def write_policy(path: Path, policy_id: str = "cli-golden", *, fixed: bool = False,
                 phi_stages: str = "input, output") -> Path:
    path.write_text(POLICY.format(
        id=policy_id, phi_stages=phi_stages,
        crisis=CRISIS_FIXED if fixed else CRISIS_ESCALATES,
        meds=MEDS_FIXED if fixed else MEDS_BLOCKS))
    return path


class World:
    """A SQLite audit store filled through the real pipeline, and its review store."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.url = f"sqlite:///{tmp / 'audit.db'}"
        self.store = AuditStore(self.url).open()
        self.policy = write_policy(tmp / "policy.yaml")
        self.nophi = write_policy(tmp / "nophi.yaml", "cli-nophi", phi_stages="output")
        self.other = write_policy(tmp / "other.yaml", "cli-other")
        self.fixed = write_policy(tmp / "fixed.yaml", fixed=True)
        self._pipes = {}
        for path in (self.policy, self.nophi, self.other):
            engine = build_engine(path, fake_registry())
            engine.load()
            self._pipes[path] = Pipeline(engine, recorder=self.store, clock=lambda: T0)

    def request(self, text: str, *, tenant: str = "clinic", policy: Path | None = None,
                answer: str | None = None) -> tuple[str, ...]:
        """One request through the pipeline (its own event loop: the CLI runs its own)."""
        pipe = self._pipes[policy or self.policy]
        ctx = Context(stage=Stage.INPUT, tenant=tenant, model="m1")

        async def go() -> tuple[str, ...]:
            inp = await pipe.guard_input([{"role": "user", "content": text}], ctx)
            ids = inp.case_ids
            if answer is not None:
                ids += (await pipe.guard_output(answer, ctx, inp)).case_ids
            return ids

        return asyncio.run(go())

    def resolve(self, case_id: str, resolution: str, at: datetime = T0,
                note: str | None = None) -> None:
        ReviewStore(self.store, clock=lambda: at).update_case(
            case_id, "reviewer", status="resolved", resolution=resolution, note=note)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.store.close()


def export(capsys: pytest.CaptureFixture[str], *args: str,
           parser: argparse.ArgumentParser | None = None) -> tuple[int, str]:
    code = main(["cases", "export", *args], parser=parser, registry=fake_registry())
    return code, capsys.readouterr().err


def policy_test(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["policy", "test", *args], registry=fake_registry())
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------- export
def test_export_writes_each_false_positive_with_its_expectation(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (crisis_fp,) = world.request("Alice here. Will the new diet end my life expectancy?")
    (meds_fp,) = world.request("How should I take it?",
                                     answer="Never double the dose if you miss one.")
    (confirmed,) = world.request("I want to end my life.")
    world.request("This job will end my life, haha.")  # a case left open: not exported
    (withheld,) = world.request("Will this end my life?", tenant="lab",
                                      policy=world.nophi)
    world.resolve(crisis_fp, "false_positive", note="Alice is fine: a figure of speech.")
    world.resolve(meds_fp, "false_positive")
    world.resolve(confirmed, "confirmed")
    world.resolve(withheld, "false_positive")
    out = tmp_path / "golden.yaml"

    code, err = export(capsys, "--false-positives", "--store", world.url, "--out", str(out))

    assert code == EXIT_OK, err
    assert f"warning: skipped case {withheld}: the input excerpt was withheld" in err
    assert "no policy file with id 'cli-golden' found; run it with --policy" in err
    assert "wrote 2 cases" in err and "(1 skipped)" in err
    text = out.read_text()
    assert "Alice" not in text and "figure of speech" not in text
    assert text.startswith("# Golden cases")
    data = yaml.safe_load(text)
    by_id = {c["id"]: c for c in data["cases"]}
    assert set(by_id) == {f"fp-{crisis_fp}", f"fp-{meds_fp}"}
    crisis = by_id[f"fp-{crisis_fp}"]
    assert crisis["stage"] == "input"
    assert crisis["messages"] == [{"role": "user", "content":
                                   "[PERSON_1] here. Will the new diet end my life expectancy?"}]
    assert crisis["expect"] == {"action_below": "escalate", "not_escalations": ["crisis"]}
    assert crisis["audience"] == "patient"  # no config: the tenant is unknown
    assert "policy" not in crisis
    assert "pending" not in crisis
    assert crisis["origin"]["policy_id"] == "cli-golden"
    assert set(crisis["origin"]["recorded_rules"]) == {"phi-redact", "crisis-escalate"}
    meds = by_id[f"fp-{meds_fp}"]
    assert meds["stage"] == "output"
    assert meds["messages"] == [{"role": "user", "content": "How should I take it?"}]
    assert meds["response"] == "Never double the dose if you miss one."
    assert meds["expect"] == {"action_below": "block", "not_escalations": ["med_review"]}

    # Both reproduce on the policy that made them, and pass on the fixed one.
    code, stdout, err = policy_test(capsys, str(out), "--policy", str(world.policy))
    assert code == EXIT_ERROR
    assert stdout.count("FAIL ") == 2
    assert f"FAIL fp-{crisis_fp} (golden.yaml, input, cli-golden 1): action escalate, " \
           "expected less severe than escalate; escalation crisis fired" in stdout
    assert "2 cases: 2 fail" in err
    code, stdout, err = policy_test(capsys, str(out), "--policy", str(world.fixed))
    assert code == EXIT_OK, stdout
    assert stdout.count("PASS ") == 2
    assert f"PASS fp-{meds_fp} (golden.yaml, output, cli-golden 1): annotate, escalations: " \
           "none" in stdout


def test_export_filters_by_tenant_time_and_policy(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (a,) = world.request("end my life", tenant="clinic")
    (b,) = world.request("end my life", tenant="ward")
    (c,) = world.request("end my life", tenant="clinic", policy=world.other)
    world.resolve(a, "false_positive", at=T0 + timedelta(days=1))
    world.resolve(b, "false_positive", at=T0 + timedelta(days=3))
    world.resolve(c, "false_positive", at=T0 + timedelta(days=5))

    def ids(*args: str) -> set[str]:
        out = tmp_path / "g.yaml"
        code, err = export(capsys, "--false-positives", "--store", world.url, "--out",
                           str(out), *args)
        assert code == EXIT_OK, err
        return {c["origin"]["case_id"] for c in yaml.safe_load(out.read_text())["cases"]}

    assert ids() == {a, b, c}
    assert ids("--tenant", "clinic") == {a, c}
    assert ids("--tenant", "clinic", "--tenant", "ward") == {a, b, c}
    assert ids("--since", "2026-03-04") == {b, c}  # resolved on or after, UTC
    assert ids("--since", "2026-03-05T09:00:00+00:00") == {b, c}
    assert ids("--since", "2026-03-05T09:00:01Z") == {c}
    assert ids("--since", "2026-03-08") == set()
    assert ids("--policy", "cli-other") == {c}
    assert ids("--policy", "cli-golden", "--tenant", "ward") == {b}


def test_pending_cases_are_reported_but_do_not_fail_until_fixed(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (case_id,) = world.request("end my life")
    world.resolve(case_id, "false_positive")
    out = tmp_path / "pending.yaml"
    code, err = export(capsys, "--false-positives", "--store", world.url, "--pending",
                       "--out", str(out))
    assert code == EXIT_OK, err
    assert yaml.safe_load(out.read_text())["cases"][0]["pending"] is True

    code, stdout, err = policy_test(capsys, str(out), "--policy", str(world.policy))
    assert code == EXIT_OK
    assert stdout.startswith(f"PENDING fp-{case_id}")
    assert "1 case: 1 pending" in err
    code, stdout, err = policy_test(capsys, str(out), "--policy", str(world.fixed))
    assert code == EXIT_ERROR  # fixed: the flag must go so the case guards the fix
    assert stdout.startswith(f"FIXED fp-{case_id}")
    assert "remove 'pending: true'" in stdout


def test_export_needs_the_kind_of_case_and_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "g.yaml")
    code, err = export(capsys, "--store", f"sqlite:///{tmp_path / 'a.db'}", "--out", out)
    assert code == EXIT_USAGE and "--false-positives" in err
    code, err = export(capsys, "--false-positives", "--out", out)
    assert code == EXIT_USAGE and "give the audit store: --store URL" in err
    code, err = export(capsys, "--false-positives", "--config", "proxy.yaml", "--out", out)
    assert code == EXIT_USAGE and "--config needs the proxy's config loader" in err
    code, err = export(capsys, "--false-positives", "--store",
                       f"sqlite:///{tmp_path / 'missing.db'}", "--out", out)
    assert code == EXIT_USAGE and "no audit store at" in err
    assert not (tmp_path / "missing.db").exists()  # a typo does not create an empty store
    code, err = export(capsys, "--false-positives", "--store", "not a url", "--out", out)
    assert code == EXIT_USAGE and "not a SQLAlchemy URL" in err
    code, err = export(capsys, "--false-positives", "--store", "sqlite://", "--since",
                       "last week", "--out", out)
    assert code == EXIT_USAGE and "not an ISO 8601" in err
    assert not Path(out).exists()


# ------------------------------------------------------------------- export with a config
CONFIG = """\
policies:
  main: policy.yaml
tenants:
  - name: clinic
    key_sha256: ["{digest}"]
    policy: main
    audience: clinician
    country: GB
model_list:
  - model_name: m1
    litellm_params: {{model: primum/demo}}
store:
  url: {url}
"""


def _config_parser() -> argparse.ArgumentParser:
    """``guard.cli``'s parser with the proxy config loader, as ``proxy.cli`` wires it."""
    from proxy.config import ConfigError, load_config

    def load(path: str | None) -> Deployment:
        try:
            return deployment_from_config(load_config(path))
        except ConfigError as exc:
            raise DeploymentError(str(exc)) from None

    parser = build_parser()
    parser.set_defaults(load_deployment=load)
    return parser


def test_export_reads_store_tenants_and_policies_from_the_proxy_config(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (case_id,) = world.request("end my life")
    world.resolve(case_id, "false_positive")
    config = tmp_path / "proxy.yaml"
    config.write_text(CONFIG.format(digest="a" * 64, url=world.url))
    out = tmp_path / "golden" / "fp.yaml"

    code, err = export(capsys, "--false-positives", "--config", str(config), "--out",
                       str(out), parser=_config_parser())

    assert code == EXIT_OK, err
    (case,) = yaml.safe_load(out.read_text())["cases"]
    assert case["audience"] == "clinician" and case["country"] == "GB"
    assert case["policy"] == "../policy.yaml"  # the tenant's policy, relative to the file
    code, stdout, _ = policy_test(capsys, str(out))
    assert code == EXIT_ERROR and stdout.startswith(f"FAIL fp-{case_id}")

    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants: []\n")
    code, err = export(capsys, "--false-positives", "--config", str(bad), "--out", str(out),
                       parser=_config_parser())
    assert code == EXIT_USAGE and "bad.yaml" in err


def test_the_primum_command_passes_the_proxy_config_loader() -> None:
    from proxy.cli import build_parser as proxy_parser

    if proxy_parser().get_default("load_deployment") is None:
        pytest.skip("proxy/cli.py does not set load_deployment yet: `primum cases export "
                    "--config` needs it (see guard/golden.py, deployment_from_config)")
    args = proxy_parser().parse_args(["cases", "export", "--false-positives", "--out", "x"])
    assert callable(args.load_deployment)


# ---------------------------------------------------------------------------- policy test
GOLDEN = """\
format: primum-golden/1
cases:
  - id: c1
    policy: {policy}
    messages: [{{role: user, content: "end my life"}}]
    expect: {{action_below: escalate, not_escalations: [crisis]}}
"""


def test_policy_test_resolves_policies_relative_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(tmp_path / "fixed.yaml", fixed=True)
    (tmp_path / "cases").mkdir()
    golden = tmp_path / "cases" / "g.yaml"
    golden.write_text(GOLDEN.format(policy="../fixed.yaml"))
    code, stdout, _ = policy_test(capsys, str(golden))
    assert code == EXIT_OK and stdout.startswith("PASS c1 (g.yaml, input, cli-golden 1)")

    golden.write_text(GOLDEN.format(policy="no-such-pack"))
    code, stdout, err = policy_test(capsys, str(golden))
    assert code == EXIT_ERROR and stdout.startswith("ERROR c1")
    assert "1 case: 1 error" in err
    golden.write_text(GOLDEN.format(policy="x").replace("    policy: x\n", ""))
    code, stdout, _ = policy_test(capsys, str(golden))
    assert code == EXIT_ERROR and "names no policy: give one with --policy" in stdout


@pytest.mark.parametrize(("text", "message"), [
    ("format: primum-golden/2\ncases: []\n", ":1: format: Input should be 'primum-golden/1'"),
    ("- a list\n", "a golden file is a YAML mapping"),
    ("format: primum-golden/1\ncases:\n  - id: x\n    messages: [{content: hi}]\n"
     "    expect: {action_below: block}\n    extra: 1\n", "6: cases.0.extra: Extra inputs"),
    ("format: primum-golden/1\ncases:\n  - id: x\n    stage: output\n"
     "    messages: [{content: hi}]\n    expect: {action_below: block}\n",
     "needs the response to check"),
    ("format: primum-golden/1\ncases:\n  - id: x\n    messages: [{content: hi}]\n"
     "    expect: {action_below: allow}\n", "no action is below allow"),
    ("format: primum-golden/1\ncases:\n  - id: x\n    messages: [{content: hi}]\n"
     "    expect: {}\n", "expect needs action_below and/or not_escalations"),
    ("format: primum-golden/1\ncases:\n"
     "  - {id: x, messages: [{content: hi}], expect: {action_below: block}}\n"
     "  - {id: x, messages: [{content: hi}], expect: {action_below: block}}\n",
     "case ids must be unique in a file, repeated: x"),
    ("format: [\n", "invalid YAML"),
])
def test_bad_golden_files_name_the_line(tmp_path: Path, text: str, message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(text)
    with pytest.raises(GoldenError) as raised:
        load_golden(path)
    assert message in str(raised.value)
    code, _, err = policy_test(capsys, str(path))
    assert code == EXIT_USAGE and message in err


def test_policy_test_without_cases_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.yaml").write_text("format: primum-golden/1\ncases: []\n")
    code, _, err = policy_test(capsys, str(tmp_path))
    assert code == EXIT_USAGE and "no golden cases" in err
    code, _, err = policy_test(capsys, str(tmp_path / "missing.yaml"))
    assert code == EXIT_USAGE and "cannot read golden file" in err


# ---------------------------------------------------------------------- case -> golden
def _decision(stage: str, action: str, excerpt: str, case_id: str | None = None,
              categories: list[str] | None = None) -> dict[str, Any]:
    return {"stage": stage, "action": action, "excerpt": excerpt, "case_id": case_id,
            "categories": categories or [], "rules": []}


def _detail(decisions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"case_id": "c9", "request_id": "r9", "tenant": "t", "rule": "crisis",
            "categories": ["crisis/suicidal_ideation"], "time": "2026-03-02T09:00:00Z",
            "resolution": "false_positive", "decisions": decisions, **extra}


def test_golden_case_rules() -> None:
    second = golden_case(_detail([
        _decision("input", "escalate", "text", case_id="c1",
                  categories=["crisis/suicidal_ideation"])]))
    # A decision that opened two cases names the first only: found by its categories.
    assert not isinstance(second, Skipped) and second.origin is not None
    assert second.origin.stage is Stage.INPUT

    assert golden_case(_detail([])) == Skipped("c9", "no stored decision of its request "
                                                     "opened it")
    only_output = golden_case(_detail([_decision("output", "block", "answer", "c9")]))
    assert isinstance(only_output, Skipped) and "input decision" in only_output.reason
    empty = golden_case(_detail([_decision("input", "escalate", "  ", "c9")]))
    assert isinstance(empty, Skipped) and "withheld or is empty" in empty.reason
    withheld_answer = golden_case(_detail([
        _decision("input", "allow", "question"),
        _decision("output", "block", "[excerpt withheld: no PHI check ran on this text]",
                  "c9")]))
    assert isinstance(withheld_answer, Skipped) and "answer" in withheld_answer.reason

    allowed = golden_case(_detail([_decision("input", "allow", "question", "c9")]))
    assert not isinstance(allowed, Skipped)
    assert allowed.expect.action_below is None  # nothing is below allow
    assert allowed.expect.not_escalations == ["crisis"]
