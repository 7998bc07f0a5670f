"""``primum serve`` and ``primum hash-key``, added to the guard's parser by ``proxy.cli``."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from proxy.cli import build_parser, main


def test_hash_key_prints_the_sha256(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-key", "sk-primum-local"]) == 0
    assert capsys.readouterr().out.strip() == (
        "8001047151618dc167150545071247ac72f8ef69a813e3407b7220d51506b906"
    )


def test_hash_key_from_stdin(capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-secret\n"))
    assert main(["hash-key", "-"]) == 0
    assert capsys.readouterr().out.strip() == hashlib.sha256(b"sk-secret").hexdigest()


def test_empty_key_is_refused(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["hash-key", "-"]) == 2
    assert "empty" in capsys.readouterr().err


def test_serve_with_a_bad_config_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "primum.yaml"
    config.write_text("server:\n  port: 8080\n  wrokers: 2\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"primum serve: {config}:3: server.wrokers: Extra inputs are not permitted "
        "(and 2 more errors)"  # tenants and model_list are missing too
    )


def test_serve_with_a_missing_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", "/nonexistent/primum.yaml"]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_parser_keeps_the_guard_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--port", "9999", "--workers", "3"]).workers == 3
    assert parser.parse_args(["policy", "validate", "x.yaml"]).files == [Path("x.yaml")]
    help_text = parser.format_help()
    for command in ("scan", "policy", "serve", "hash-key"):
        assert command in help_text
