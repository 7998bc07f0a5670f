"""The team-written training rows of the harmful-request classifier
(classifiers/harmful_request/data/supplement*.jsonl, and held_back*.jsonl: rows written for
it but not trained on yet): valid rows, no duplicates, and nothing shared with the
evaluation suites, so a benchmark never scores a training text."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from classifiers.harmful_request.lexical import has_cjk
from classifiers.harmful_request.train import SUPPLEMENTS

REPO = Path(__file__).resolve().parents[1]
FIELDS = {"text", "label", "principle", "voice", "kind", "rationale", "source"}
VOICES = {"patient", "family", "clinician", "administrator", "student", "other"}


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


HELD_BACK = tuple(sorted((REPO / "classifiers/harmful_request/data").glob("held_back*.jsonl")))
DEV = REPO / "classifiers/harmful_request/data/dev_generalisation.jsonl"
"""The team's dev set: evaluation only, never trained on (data/README.md)."""
EVAL_SETS = (DEV, *(REPO / "classifiers/harmful_request/data" / name for name in (
    "eval_writing_tasks.jsonl", "eval_casual.jsonl", "eval_casual_fresh.jsonl")))
"""Every evaluation-only set: the dev set, the writing-task set and the casual-message sets
(data/README.md)."""


def _rows() -> list[tuple[str, int, dict]]:
    rows = []
    for path in (*SUPPLEMENTS, *HELD_BACK):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rows.append((path.name, n, json.loads(line)))
    return rows


ROWS = _rows()


def test_the_shipped_supplements_are_the_ones_training_reads() -> None:
    names = {p.name for p in SUPPLEMENTS}
    assert "supplement.jsonl" in names
    assert names == {p.name for p in (REPO / "classifiers/harmful_request/data").glob(
        "supplement*.jsonl")}
    assert not names & {p.name for p in HELD_BACK}


@pytest.mark.parametrize("where", sorted({name for name, _, _ in ROWS}))
def test_rows_are_valid(where: str) -> None:
    for name, n, row in ROWS:
        if name != where:
            continue
        at = f"{name}:{n}"
        # ``lang`` is optional: a Latin-script language other than English says so;
        # ``twin_of`` (optional) is the exact text of the row a minimal pair was written from.
        assert set(row) - {"lang", "twin_of"} == FIELDS and row.get("lang", "es") == "es", at
        assert row.get("twin_of") is None or isinstance(row["twin_of"], str), at
        # short turns ("k", "ok", "好的") are real traffic too
        assert isinstance(row["text"], str) and len(row["text"].strip()) >= 1, at
        assert row["label"] in ("harmful", "benign"), at
        if row["label"] == "harmful":
            assert row["principle"] in range(1, 10), at
        else:
            assert row["principle"] is None, at
        assert row["voice"] in VOICES, at
        assert isinstance(row["kind"], str) and row["kind"], at
        assert isinstance(row["rationale"], str) and row["rationale"].strip(), at
        assert row["source"] == "primum-team", at


def test_no_duplicate_texts_across_files() -> None:
    seen = Counter(_norm(row["text"]) for _, _, row in ROWS)
    assert [t for t, c in seen.items() if c > 1] == []


def test_both_languages_and_every_principle_are_covered() -> None:
    harmful = [r for _, _, r in ROWS if r["label"] == "harmful"]
    assert {r["principle"] for r in harmful} == set(range(1, 10))
    zh = Counter(r["label"] for _, _, r in ROWS if has_cjk(r["text"]))
    # Chinese questions must be learnt from more than a handful of rows each way.
    assert zh["harmful"] >= 100 and zh["benign"] >= 200, zh


def test_no_training_text_is_in_an_evaluation_suite() -> None:
    suites = set()
    for path in (REPO / "benchmarks" / "data").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for turn in row.get("messages") or []:
                suites.add(_norm(str(turn.get("content", ""))))
            if row.get("text"):
                suites.add(_norm(str(row["text"])))
    leaked = [row["text"] for _, _, row in ROWS if _norm(row["text"]) in suites]
    assert leaked == []


@pytest.mark.parametrize("path", EVAL_SETS, ids=lambda p: p.name)
def test_the_evaluation_sets_are_not_training_data(path: Path) -> None:
    """The evaluation sets measure candidates; training must not read them, and no
    training or held-back row may repeat one of their texts."""
    assert path.is_file()
    assert path not in SUPPLEMENTS and path not in HELD_BACK
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {r["label"] for r in rows} == {"harmful", "benign"}
    assert all(r["principle"] in range(1, 10) for r in rows if r["label"] == "harmful")
    training = {_norm(row["text"]) for _, _, row in ROWS}
    assert [r["text"] for r in rows if _norm(r["text"]) in training] == []


def test_twins_name_rows_that_exist() -> None:
    # a minimal pair's ``twin_of`` is the exact text of a benign row it was written from
    texts = {row["text"] for _, _, row in ROWS if row["label"] == "benign"}
    twins = [row["twin_of"] for _, _, row in ROWS if row.get("twin_of")]
    assert len(twins) >= 200
    assert [t for t in twins if t not in texts] == []
