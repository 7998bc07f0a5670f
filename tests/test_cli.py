"""``primum scan`` and ``primum policy validate``, run in-process through ``main()``, plus one
real subprocess run of ``python -m guard.cli``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from guard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, build_parser, main, subcommands
from tests.fakes.checks import fake_registry

ROOT = Path(__file__).resolve().parent.parent

POLICY = """\
id: cli-test
version: "1"
checks:
  - kind: keyword
    name: phi
    stages: [input, output]
    scope: all
    params: {keywords: {alice: person}, entity: PERSON}
  - kind: keyword
    name: harm
    stages: [input, output]
    params: {keywords: {forge: falsify_records}, delay_s: 0.0}
rules:
  - id: phi-redact
    when: {check: phi}
    action: redact
  - id: harm-block
    when: {check: harm, audiences: [patient]}
    action: block
    template: refuse
templates:
  refuse: "No."
  check_unavailable: "Unavailable."
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def run_scan(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["scan", *args], registry=fake_registry())
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, rows, captured.err


# ----------------------------------------------------------------------------------- scan
def test_scan_writes_one_line_per_record_without_text(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "r1", "prompt": "What helps a cold?"},
        {"id": "r2", "prompt": "Alice needs help"},
        {"prompt": "please forge this note"},
    ])
    code, rows, err = run_scan(capsys, str(data), "--policy", str(policy))

    assert code == EXIT_OK
    assert [r["id"] for r in rows] == ["r1", "r2", 3]  # line number when there is no id
    assert [r["action"] for r in rows] == ["allow", "redact", "block"]
    assert rows[1]["categories"] == ["phi/person"]
    assert rows[1]["findings"] == [{"check": "phi", "category": "person", "score": 0.9}]
    assert rows[2]["rules"] == ["harm-block"]
    dumped = json.dumps(rows)
    assert "Alice" not in dumped and "forge" not in dumped  # findings, never text
    assert "scanned 3 lines: allow=1, block=1, redact=1" in err
    assert "3/3" in err  # the progress bar went to stderr


def test_bad_lines_become_error_lines_and_the_scan_goes_on(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [
        "{not json",
        "[1, 2]",
        {"id": "no-text"},
        {"id": "wrong-type", "prompt": 42},
        "",
        {"id": "bad-messages", "prompt": [{"role": "wizard", "content": "x"}]},
        {"id": "ok", "prompt": "fine"},
    ])
    code, rows, err = run_scan(capsys, str(data), "--policy", str(policy))

    assert code == EXIT_OK
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 6, 7]  # the blank line is skipped
    assert rows[0]["error"].startswith("invalid JSON")
    assert rows[0]["id"] == 1
    assert rows[1]["error"] == "each line must be a JSON object"
    assert rows[2] == {"id": "no-text", "line": 3, "error": "missing field 'prompt'"}
    assert "must be a string or a messages array" in rows[3]["error"]
    assert "'wizard' is not supported" in rows[4]["error"]
    assert rows[5]["action"] == "allow"
    assert "error=5" in err


def test_scan_fields_stage_audience_and_out_file(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [
        {"key": 7, "answer": "forge the chart"},
        {"key": 8, "answer": "Alice is well"},
    ])
    out = tmp_path / "out.jsonl"
    common = [str(data), "--policy", str(policy), "--text-field", "answer", "--id-field", "key"]

    code, rows, _ = run_scan(capsys, *common, "--stage", "output", "--out", str(out))
    assert code == EXIT_OK and rows == []  # results went to the file
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["action"]) for r in written] == [(7, "block"), (8, "redact")]

    code, rows, _ = run_scan(capsys, *common, "--audience", "clinician")
    assert [r["action"] for r in rows] == ["allow", "redact"]  # the block rule is patient-only


def test_scan_accepts_a_messages_array(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"messages": [
        {"role": "user", "content": "forge it"},
        {"role": "user", "content": "and Alice"},
    ]}])
    _, rows, _ = run_scan(capsys, str(data), "--policy", str(policy), "--text-field", "messages")
    assert rows[0]["action"] == "block"
    assert rows[0]["categories"] == ["harm/falsify_records", "phi/person"]


def test_output_stage_rejects_a_messages_array(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"prompt": [{"role": "user", "content": "x"}]}])
    _, rows, _ = run_scan(capsys, str(data), "--policy", str(policy), "--stage", "output")
    assert "not a messages array" in rows[0]["error"]


def test_concurrent_scan_keeps_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = tmp_path / "slow.yaml"
    slow.write_text(POLICY.replace("delay_s: 0.0", "delay_s: 0.02"))
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": i, "prompt": f"text {i}"}
                                               for i in range(30)])
    code, rows, _ = run_scan(capsys, str(data), "--policy", str(slow), "--concurrency", "8")
    assert code == EXIT_OK
    assert [r["id"] for r in rows] == list(range(30))


def test_scan_with_the_real_default_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "cold", "prompt": "What helps with a common cold?"},
        {"id": "crisis", "prompt": "I want to kill myself tonight"},
        {"id": "phi", "prompt": "My name is John Smith and my MRN is 48213377"},
    ])
    code = main(["scan", str(data)])
    captured = capsys.readouterr()
    rows = {r["id"]: r for r in map(json.loads, captured.out.splitlines())}
    assert code == EXIT_OK
    assert rows["cold"]["action"] == "allow"
    assert rows["crisis"]["action"] == "escalate"
    assert "crisis/suicidal_ideation" in rows["crisis"]["categories"]
    assert rows["phi"]["action"] == "redact"
    assert "John" not in captured.out and "48213377" not in captured.out


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "missing.jsonl"],
        ["scan", "{data}", "--concurrency", "0"],
        ["scan", "{data}", "--stage", "middle"],
        ["scan", "{data}", "--audience", "robot"],
        ["scan", "{data}", "--policy", "no-such-pack"],
        ["scan", "{data}", "--out", "{tmp}/no/such/dir/out.jsonl"],
        ["scan"],
        ["frobnicate"],
        [],
        ["policy"],
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "x"}])
    argv = [a.format(data=data, tmp=tmp_path) for a in argv]
    assert main(argv, registry=fake_registry()) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err  # says what was wrong


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == EXIT_OK
    assert "scan" in capsys.readouterr().out


# ------------------------------------------------------------------------ policy validate
def test_validate_ok(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", str(policy)], registry=fake_registry()) == EXIT_OK
    assert capsys.readouterr().out == f"{policy}: OK (cli-test 1: 2 checks, 2 rules)\n"


def test_validate_reports_file_line_and_field(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text(POLICY.replace("    action: redact", "    acton: redact"))
    bad_param = tmp_path / "param.yaml"
    bad_param.write_text(POLICY.replace("delay_s: 0.0", "colour: red"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nchecks: [\n")
    missing = tmp_path / "missing.yaml"

    code = main(["policy", "validate", str(policy), str(typo), str(bad_param), str(broken),
                 str(missing)], registry=fake_registry())
    captured = capsys.readouterr()
    assert code == EXIT_ERROR
    assert captured.out == f"{policy}: OK (cli-test 1: 2 checks, 2 rules)\n"
    errors = captured.err.splitlines()
    assert errors[0].startswith(f"{typo}:14: rules.0.action: Field required")
    assert errors[1] == f"{bad_param}: checks.1.params.colour: unknown parameter"
    assert errors[2].startswith(f"{broken}:3: invalid YAML")
    assert errors[3] == f"{missing}: cannot read policy file (No such file or directory)"


def test_validate_uses_the_built_in_checks_by_default(
    policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "validate", str(policy)]) == EXIT_ERROR
    assert "unknown check kind 'keyword'" in capsys.readouterr().err


def test_validate_the_shipped_default_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "guard.cli", "policy", "validate", "policies/default.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("policies/default.yaml: OK (primum-default")


# ------------------------------------------------------------------------------ extension
def test_the_parser_can_be_extended_with_more_commands() -> None:
    parser = build_parser()
    seen: list[argparse.Namespace] = []

    def serve(args: argparse.Namespace) -> int:
        seen.append(args)
        return 0

    serve_parser = subcommands(parser).add_parser("serve")
    serve_parser.add_argument("--port", type=int, default=8080)
    serve_parser.set_defaults(handler=serve)

    assert main(["serve", "--port", "9000"], parser=parser) == 0
    assert seen[0].port == 9000
    assert seen[0].registry is None
    with pytest.raises(ValueError):
        subcommands(argparse.ArgumentParser())
