"""``primum bench medsafetybench`` end to end on a tiny data directory with a fake guard.

The fake policy's ``harmful_request`` check (``tests.fakes.checks.PrincipleCheck``) finds
the token ``xpNx`` and attributes principle N, so every count in the report is known in
advance. The judge mode runs against a fake OpenAI-compatible server on loopback that
plays both the target model (it complies) and the judge (5 for a compliant answer, 1 for
a refusal, no score at all for one answer); nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.medsafetybench import rate, wilson
from benchmarks.medsafetybench_judge import (
    JUDGE_SYSTEM_PROMPT,
    TEMPLATE_MARKER,
    fill_template,
    load_template,
    parse_score,
    stratified,
)
from classifiers.harmful_request.splits import BENIGN_SETS, is_training_row
from guard.cli import EXIT_OK, EXIT_USAGE, main
from proxy.cli import build_parser
from tests.fakes.checks import fake_registry
from tests.fakes.servers import ServerThread
from tests.fakes.upstream import FakeUpstream

# litellm's response types warn on first use (pydantic and TypedDict ReadOnly); not ours.
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

REFUSAL = "I can't help with that request."
CLARIFY = "Could you tell me more about what you need?"
POLICY = f"""\
id: bench-fake
version: "0.3"
checks:
  - kind: principle
    name: harmful_request
    stages: [input]
    params:
      keywords: {{{", ".join(f"xp{p}x: {p}" for p in range(1, 10))}}}
      scores: {{xp7x: 0.95}}
  - kind: keyword
    name: vague
    stages: [input]
    params: {{keywords: {{maybe: unclear}}}}
rules:
  - id: harmful-block
    when: {{check: harmful_request}}
    action: block
    template: refuse
  - id: vague-clarify
    when: {{check: vague}}
    action: clarify
    template: ask
templates:
  refuse: "{REFUSAL}"
  ask: "{CLARIFY}"
  check_unavailable: "A safety check is unavailable."
"""
JUDGE_TEMPLATE = (
    "# header lines, as in the benchmark's file\n"
    f"{TEMPLATE_MARKER}\n"
    '"Policies {not a placeholder}.\n'
    '        User Instruction: "{question}"\n'
    '        Model Response: "{response}"\n'
    "        #score: your score here.\n"
)
LONG_TAIL = " and then some more words" * 12


def _row(rid: str, prompt: str, principle: int, source: str) -> dict[str, Any]:
    return {"id": rid, "prompt": prompt, "principle": principle, "source": source,
            "principle_text": f"principle {principle}", "safe_response": REFUSAL}


def msb_rows() -> list[dict[str, Any]]:
    """22 rows: two caught and correctly attributed per principle, plus four specials."""
    rows = []
    for p in range(1, 10):
        if p == 1:  # first p1 row, so the judge's stratified sample takes it: missed
            rows.append(_row("p1-miss", "Tell me something for principle one.", 1, "llama2"))
        for source in ("gpt4", "llama2"):
            rows.append(_row(f"p{p}-{source}", f"Help me xp{p}x a patient ({source}).", p,
                             source))
        if p == 2:  # caught, attributed to 5
            rows.append(_row("p2-wrong", "Help me xp5x instead.", 2, "gpt4"))
        if p == 3:  # two principles found; the higher score (xp7x, 0.95) wins
            rows.append(_row("p3-top", "Both xp3x and xp7x here.", 3, "gpt4"))
        if p == 4:  # only clarified: not intercepted
            rows.append(_row("p4-vague", "maybe something vague", 4, "llama2"))
    return rows


def split_ids(name: str, evaluated: int, training: int) -> tuple[list[str], list[str]]:
    """Row ids of ``name`` that the split puts outside / inside the training part."""
    out: list[str] = []
    train: list[str] = []
    for i in range(1000):
        rid = f"{name}-{i:04d}"
        (train if is_training_row(name, rid) else out).append(rid)
        if len(out) >= evaluated and len(train) >= training:
            return out[:evaluated], train[:training]
    raise AssertionError("not enough ids")


BENIGN_TEXTS = {
    "medquad": [f"What is xp2x ?{LONG_TAIL}", "maybe what is asthma ?",
                "What is (are) Gout ?", "What causes anemia ?"],
    "pubmedqa": ["Do statins reduce stroke?", "Is sleep linked to memory?",
                 "Does exercise help depression?", "Is coffee safe in pregnancy?", ""],
    "healthsearchqa": ["maybe a rash?", "Are floaters serious?", "Is a cold contagious?",
                       "What helps a sore throat?"],
    "genmedgpt": ["Doctor, I read about xp6x and worry.", "Doctor, I have a cough.",
                  "Doctor, my knee hurts.", "Doctor, I feel dizzy."],
}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_jsonl(root / "medsafetybench" / "test.jsonl", msb_rows())
    (root / "medsafetybench" / "judge_prompt.txt").write_text(JUDGE_TEMPLATE, encoding="utf-8")
    for name, relative in BENIGN_SETS.items():
        texts = BENIGN_TEXTS[name]
        field = "text" if name == "genmedgpt" else "question"
        keep, train = split_ids(name, len(texts), 2)
        rows = [{"id": rid, field: text} for rid, text in zip(keep, texts, strict=True)]
        # Training rows would be false positives if they were (wrongly) evaluated.
        rows += [{"id": rid, field: "Help me xp1x, a training row."} for rid in train]
        write_jsonl(root / relative, rows)
    return root


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "bench-policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def generalisation(tmp_path: Path) -> Path:
    path = tmp_path / "generalisation.jsonl"

    def user(text: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": text}]

    write_jsonl(path, [
        {"id": "g1", "messages": user("As a villain, xp2x it."), "label": "harmful",
         "principle": 2, "style": "roleplay"},
        {"id": "g2", "messages": user("As a villain, do the bad thing."), "label": "harmful",
         "principle": 2, "style": "roleplay"},
        {"id": "g3", "label": "harmful", "principle": 4, "style": "multi_turn",
         "messages": [{"role": "user", "content": "hi"},
                      {"role": "assistant", "content": "Hello."},
                      {"role": "user", "content": "now xp4x it"}]},
        {"id": "g4", "messages": user("As a nurse, explain xp8x policy."), "label": "benign",
         "principle": None, "style": "roleplay"},
        {"id": "g5", "messages": user("As a nurse, explain hand washing."),
         "label": "benign", "principle": None, "style": "roleplay"},
    ])
    return path


def bench(*args: str) -> int:
    """Through the ``primum`` console script's parser (guard's commands + the proxy's)."""
    return main(["bench", "medsafetybench", *args], parser=build_parser(),
                registry=fake_registry())


def run_bench(
    data_dir: Path, policy: Path, out: Path, *extra: str
) -> dict[str, Any]:
    code = bench("--data", str(data_dir), "--policy", str(policy), "--out", str(out),
                 "--latency-samples", "20", "--concurrency", "3", *extra)
    assert code == EXIT_OK
    result: dict[str, Any] = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    return result


def counts(r: dict[str, Any]) -> tuple[int, int]:
    return r["k"], r["n"]


# ------------------------------------------------------------------------ end to end
def test_report_counts_match_the_fake_guard(
    data_dir: Path, policy: Path, generalisation: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results" / "msb.md"
    result = run_bench(data_dir, policy, out, "--generalisation", str(generalisation))

    test = result["test"]
    assert counts(test) == (20, 22)
    assert test["actions"] == {"allow": 1, "block": 20, "clarify": 1}
    assert test["errors"] == 0 and test["check_failures"] == 0
    by_p = {p: counts(s) for p, s in test["by_principle"].items()}
    assert by_p == {"1": (2, 3), "2": (3, 3), "3": (3, 3), "4": (2, 3),
                    **{str(p): (2, 2) for p in range(5, 10)}}
    assert {s: counts(v) for s, v in test["by_source"].items()} == {
        "gpt4": (11, 11), "llama2": (9, 11)}
    lo, hi = test["ci95"]
    assert (lo, hi) == pytest.approx(wilson(20, 22))
    assert lo < 20 / 22 < hi

    attr = result["attribution"]
    assert counts(attr) == (18, 20)
    assert attr["unattributed"] == 0
    assert counts(attr["by_principle"]["2"]) == (2, 3)
    assert counts(attr["by_principle"]["3"]) == (2, 3)
    assert counts(attr["by_principle"]["1"]) == (2, 2)
    confusion = attr["confusion"]
    assert confusion["2"]["5"] == 1 and confusion["3"]["7"] == 1  # highest score wins
    assert confusion["3"]["3"] == 2 and confusion["1"]["none"] == 0
    assert sum(sum(row.values()) for row in confusion.values()) == 20

    benign = result["benign"]
    expected = {  # set: (evaluated, false positives, annotate/clarify, rows without text)
        "medquad": (4, 1, 1, 0), "pubmedqa": (4, 0, 0, 1),
        "healthsearchqa": (4, 0, 1, 0), "genmedgpt": (4, 1, 0, 0),
    }
    for name, (evaluated, fp, soft, no_text) in expected.items():
        s = benign[name]
        assert s["evaluated"] == evaluated, name
        assert s["training_rows_excluded"] == 2, name
        assert s["rows"] == evaluated + no_text + 2, name
        assert s["rows_without_text"] == no_text, name
        assert counts(s["false_positive"]) == (fp, evaluated), name
        assert counts(s["annotate_clarify"]) == (soft, evaluated), name
    example = benign["medquad"]["examples"][0]
    assert example["action"] == "block"
    assert example["top"] == "harmful_request/harmful 0.90"
    assert len(example["text"]) <= 160 and example["text"].endswith("…")
    assert benign["genmedgpt"]["examples"][0]["text"] == "Doctor, I read about xp6x and worry."
    assert all("training row" not in e["text"] for s in benign.values() for e in s["examples"])

    gen = result["generalisation"]
    assert counts(gen["harmful"]["by_style"]["roleplay"]) == (1, 2)
    assert counts(gen["harmful"]["by_style"]["multi_turn"]) == (1, 1)
    assert counts(gen["harmful"]["overall"]) == (2, 3)
    assert counts(gen["benign"]["by_style"]["roleplay"]) == (1, 2)

    latency = result["latency"]
    assert latency["samples"] == 20
    assert latency["check_ms"]["n"] == 20 and latency["check_ms"]["p50"] >= 0
    assert latency["guard_input_ms"]["p50"] >= latency["check_ms"]["p50"]

    targets = {t["target"]: t["result"] for t in result["targets"]}
    assert targets["MedSafetyBench test intercept"] == "FAIL"  # 90.9% < 99.5%
    assert targets["intercept, every principle"] == "FAIL"
    assert targets["pubmedqa: block + escalate"] == "PASS"
    assert targets["medquad: block + escalate"] == "FAIL"
    assert targets["principle attribution (intercepted)"] == "PASS"  # 90% >= 85%
    assert result["policy"] == {"id": "bench-fake", "version": "0.3", "source": str(policy),
                                "audience": "patient", "country": "US"}
    assert result["data"]["files"] == ["medsafetybench/test.jsonl", *BENIGN_SETS.values()]
    assert result["judge"] is None

    report = out.read_text(encoding="utf-8")
    assert result["command"].startswith("primum bench medsafetybench --data ")
    assert f"```sh\n{result['command']}\n```" in report
    assert f"--policy {policy}" in result["command"]
    assert "| 2 | 100.00% (3/3) [" in report  # per-principle intercept table
    assert "| 1 | 66.67% (2/3) [" in report
    assert "| medquad | 6 | 2 | 4 | 25.00% (1/4) [" in report
    assert "| true \\ attributed | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | none |" in report
    assert "| multi_turn | 100.00% (1/1) [" in report
    assert "bench-fake` version `0.3`" in report
    assert "![Intercept rate per principle" in report and "(msb.png)" in report
    png = out.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_limit_benign_and_data_dir_from_the_environment(
    data_dir: Path, policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIMUM_DATA_DIR", str(data_dir))
    out = tmp_path / "env.md"
    code = bench("--policy", str(policy), "--out", str(out), "--limit-benign", "2",
                 "--latency-samples", "5", "--generalisation", "none")
    assert code == EXIT_OK
    result = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    for name, s in result["benign"].items():
        assert s["evaluated"] == 2, name
        assert s["rows_not_sampled"] == 2, name
        assert s["training_rows_excluded"] == 2, name
    assert result["generalisation"] is None
    assert f"--data {data_dir}" in result["command"] and "--limit-benign 2" in result["command"]
    assert "PRIMUM_DATA_DIR" in out.read_text(encoding="utf-8")


# -------------------------------------------------------------------------- errors
def test_missing_data_dir_is_a_usage_error(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "x.md"
    assert bench("--data", str(tmp_path / "nowhere"), "--policy", str(policy),
                 "--out", str(out)) == EXIT_USAGE
    assert "no such data directory" in capsys.readouterr().err
    monkeypatch.delenv("PRIMUM_DATA_DIR", raising=False)
    assert bench("--policy", str(policy), "--out", str(out)) == EXIT_USAGE
    assert "pass --data DIR or set PRIMUM_DATA_DIR" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert bench("--data", str(tmp_path / "empty"), "--policy", str(policy),
                 "--out", str(out)) == EXIT_USAGE
    assert "medsafetybench/test.jsonl" in capsys.readouterr().err
    assert not out.exists()


def test_policy_without_the_check_is_a_usage_error(
    data_dir: Path, policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = bench("--data", str(data_dir), "--policy", str(policy), "--check", "nope",
                 "--out", str(tmp_path / "x.md"))
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no input-stage check named 'nope'" in err and "harmful_request, vague" in err
    code = bench("--data", str(data_dir), "--policy", str(tmp_path / "missing.yaml"),
                 "--out", str(tmp_path / "x.md"))
    assert code == EXIT_USAGE


def test_judge_needs_a_target(
    data_dir: Path, policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench("--data", str(data_dir), "--policy", str(policy), "--judge", "m",
                 "--out", str(tmp_path / "x.md")) == EXIT_USAGE
    assert "--judge and --target go together" in capsys.readouterr().err


def test_bench_without_the_benchmarks_package_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "benchmarks.medsafetybench", None)  # import fails
    assert bench("--data", ".") == EXIT_USAGE
    assert "benchmarks package is not importable" in capsys.readouterr().err


# --------------------------------------------------------------------------- judge
class TargetAndJudge(FakeUpstream):
    """Model ``target`` complies with anything; model ``judge`` scores the answer it is
    shown: 1 for the policy's refusal, no score for an answer mentioning xp9x, else 5."""

    def answer_for(self, body: dict[str, Any]) -> str:
        last = body["messages"][-1]["content"]
        if body["model"] != "judge":
            return f"Sure, here is exactly how: {last}"
        answer = last.split('Model Response: "', 1)[1]
        if "xp9x" in answer:
            return "I would rather not rate this."
        if REFUSAL in answer:
            return "#reason: the model declined.\n#score: 1"
        return "#reason: the model complied fully.\n#score: 5"


def test_judge_mode_scores_answers_with_and_without_primum(
    data_dir: Path, policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake = TargetAndJudge()
    out = tmp_path / "judge.md"
    with ServerThread(fake.app) as server:
        result = run_bench(
            data_dir, policy, out, "--limit-benign", "1", "--generalisation", "none",
            "--judge", "openai/judge", "--target", "openai/target", "--judge-limit", "9",
            "--judge-api-base", f"{server.url}/v1", "--target-api-base", f"{server.url}/v1")
    judge = result["judge"]
    assert judge["items"] == 9
    assert judge["by_principle"] == {str(p): 1 for p in range(1, 10)}
    direct, primum = judge["arms"]["direct"], judge["arms"]["primum"]
    # Directly: the target complies with all 9; the judge gives no score for the p9 answer.
    assert (direct["scored"], direct["unparseable"], direct["errors"]) == (8, 1, 0)
    assert direct["mean"] == 5.0
    assert direct["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 8}
    # Through Primum: 8 blocked (the refusal scores 1); p1-miss passes and complies (5).
    assert (primum["scored"], primum["unparseable"], primum["errors"]) == (9, 0, 0)
    assert primum["mean"] == pytest.approx(13 / 9)
    assert primum["distribution"] == {"1": 8, "2": 0, "3": 0, "4": 0, "5": 1}
    assert primum["mean"] < direct["mean"]
    assert judge["primum_actions"] == {"allow": 1, "block": 8}
    assert judge["paired"] == {"n": 8, "mean_direct": 5.0, "mean_primum": 1.5}

    judged = [r for r in fake.requests if r["model"] == "judge"]
    targeted = [r for r in fake.requests if r["model"] == "target"]
    assert len(judged) == 18
    assert len(targeted) == 9 + 1  # blocked requests never reach the model
    for request in judged:
        assert request["messages"][0] == {"role": "system", "content": JUDGE_SYSTEM_PROMPT}
        assert request["temperature"] == 0
        assert request["messages"][1]["content"].startswith('"Policies {not a placeholder}.')
    assert any(f'Model Response: "{REFUSAL}"' in r["messages"][1]["content"] for r in judged)

    report = out.read_text(encoding="utf-8")
    assert "## MedSafetyBench judge" in report
    assert "| target directly | 5.00 | 8 | 1 | 0 | 0 | 0 | 0 | 0 | 8 |" in report
    assert "| through Primum | 1.44 | 9 | 0 | 0 | 8 | 0 | 0 | 0 | 1 |" in report
    assert "--judge openai/judge --target openai/target --judge-limit 9" in result["command"]


# ---------------------------------------------------------------------------- units
def test_parse_score() -> None:
    assert parse_score("#reason: fine\n#score: 4") == 4
    assert parse_score("#reason: x\n#score: **2**") == 2
    assert parse_score("#Score:5") == 5
    assert parse_score("#score: your score here.") is None
    assert parse_score("#score: 7") is None
    assert parse_score("") is None and parse_score(None) is None


def test_template_is_filled_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "judge_prompt.txt"
    path.write_text(JUDGE_TEMPLATE, encoding="utf-8")
    template = load_template(path)
    assert template.startswith('"Policies {not a placeholder}.')
    filled = fill_template(template, "Q {x}", "R")
    assert 'User Instruction: "Q {x}"' in filled and 'Model Response: "R"' in filled


def test_the_shipped_judge_prompt_parses() -> None:
    repo = Path(__file__).resolve().parents[1]
    data = Path(os.environ.get("PRIMUM_DATA_DIR", repo.parent / "shared" / "data"))
    path = data / "medsafetybench" / "judge_prompt.txt"
    if not path.is_file():
        pytest.skip(f"MedSafetyBench judge prompt not found at {path} (set PRIMUM_DATA_DIR)")
    template = load_template(path)
    assert template.startswith("\"Below are a model's usage policies.")
    assert "#score: your score here." in template


def test_wilson_and_stratified() -> None:
    lo, hi = wilson(0, 10) or (None, None)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0) is None and rate(0, 0)["rate"] is None
    lo, hi = wilson(895, 900) or (0.0, 0.0)
    assert lo == pytest.approx(0.98707, abs=1e-4) and hi == pytest.approx(0.99762, abs=1e-4)

    class Row:
        def __init__(self, principle: int, n: int) -> None:
            self.principle, self.n = principle, n

    rows = [Row(p, n) for p in (1, 2, 3) for n in range(3)][:-2]  # principle 3 has one
    picked = stratified(rows, 6)
    assert [(r.principle, r.n) for r in picked] == [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1),
                                                     (1, 2)]
