"""``primum kb stats`` and ``primum kb show``, run in-process through ``guard.cli.main``, on
the shipped knowledge base and on the small test one (``tests/data/medkb``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from classifiers.medication.kb import DrugKB
from guard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main

MINI = Path(__file__).resolve().parent / "data" / "medkb"
STATS_KEYS = {"version", "drugs", "drugs_with_dose_limits", "classes", "interaction_entries",
              "interaction_pairs", "high_alert", "beers", "products", "names"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["kb", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def json_documents(text: str) -> list[dict[str, Any]]:
    """Every JSON document printed one after another (``kb show`` prints one per drug)."""
    decoder = json.JSONDecoder()
    docs: list[dict[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return docs


def expected_stats(kb: DrugKB) -> dict[str, Any]:
    return {
        "version": kb.version,
        "drugs": len(kb.drugs),
        "drugs_with_dose_limits": sum(1 for d in kb.drugs.values() if d.doses),
        "classes": len(kb.classes),
        "interaction_entries": len(kb.interactions),
        "interaction_pairs": kb.pair_count(),
        "high_alert": len(kb.high_alert),
        "beers": len(kb.beers),
        "products": len(kb.products),
        "names": sum(len(list(d.all_names())) for d in kb.drugs.values()),
    }


# ---------------------------------------------------------------------------- stats
def test_stats_prints_the_shipped_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats")
    assert code == EXIT_OK
    assert err == ""
    stats = json.loads(out)
    assert set(stats) == STATS_KEYS
    assert stats == expected_stats(DrugKB.shared())
    assert stats["drugs"] >= 300
    assert stats["interaction_entries"] >= 300


def test_stats_with_dir_counts_the_mini_kb(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--dir", str(MINI), "stats")
    assert code == EXIT_OK
    stats = json.loads(out)
    assert stats["drugs"] == 12
    assert stats["drugs_with_dose_limits"] == 6
    assert stats["interaction_entries"] == 2
    assert stats["interaction_pairs"] == 2  # nitroglycerin+sildenafil, warfarin+ibuprofen
    assert (stats["high_alert"], stats["beers"], stats["products"]) == (2, 1, 1)
    assert stats == expected_stats(DrugKB.load(MINI))
    assert stats["version"] != DrugKB.shared().version


def test_dir_goes_before_the_action(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "--dir", str(MINI))
    assert code == EXIT_USAGE
    assert out == ""
    assert "--dir" in err


def test_kb_without_an_action_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == EXIT_USAGE
    assert out == ""
    assert "stats" in err and "show" in err


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "medkb"
    shutil.copytree(MINI, root)
    path = root / "drugs" / "mini.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "classes: [thyroid]", "classes: [thyroid_hormone]"), encoding="utf-8")
    return root


@pytest.mark.parametrize("action", [["stats"], ["show", "Tylenol"]])
def test_broken_kb_exits_1_naming_the_file(
    broken: Path, action: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--dir", str(broken), *action)
    assert code == EXIT_ERROR
    assert out == ""
    assert str(broken / "drugs" / "mini.yaml") in err
    assert "thyroid_hormone" in err
    assert "Traceback" not in err


def test_missing_kb_dir_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--dir", str(tmp_path / "nowhere"), "stats")
    assert code == EXIT_ERROR
    assert out == ""
    assert "classes.yaml" in err and "cannot read" in err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- show
def test_show_brand_prints_the_generic_entry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", "Tylenol")
    assert code == EXIT_OK
    assert err == ""
    [entry] = json_documents(out)
    expected = DrugKB.shared().drugs["acetaminophen"].model_dump(
        mode="json", by_alias=True, exclude_none=True)
    assert entry == expected
    assert entry["id"] == "acetaminophen"
    assert "Tylenol" in entry["brands"]
    oral = next(d for d in entry["doses"] if d["route"] == "oral")
    assert oral["max_daily"] == {"amount": 4000, "unit": "mg"}
    assert "max_weekly" not in oral  # exclude_none
    assert all(len(d["source"]) >= 8 for d in entry["doses"])


def test_show_combination_product_prints_each_component(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", "Percocet")
    assert code == EXIT_OK
    assert [e["id"] for e in json_documents(out)] == ["acetaminophen", "oxycodone"]


@pytest.mark.parametrize(("name", "drug"), [
    ("acetominophen", "acetaminophen"),   # misspelling in the KB
    ("扑热息痛", "acetaminophen"),          # Chinese name
    ("MTX", "methotrexate"),              # abbreviation
    ("Coumadin", "warfarin"),
])
def test_show_with_dir_finds_any_name(
    name: str, drug: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--dir", str(MINI), "show", name)
    assert code == EXIT_OK
    [entry] = json_documents(out)
    assert entry["id"] == drug
    assert entry == DrugKB.load(MINI).drugs[drug].model_dump(
        mode="json", by_alias=True, exclude_none=True)


def test_show_keeps_chinese_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--dir", str(MINI), "show", "warfarin")
    assert code == EXIT_OK
    assert "华法林" in out  # ensure_ascii=False


def test_show_unknown_name_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--dir", str(MINI), "show", "unobtainium")
    assert code == EXIT_ERROR
    assert out == ""
    assert "no drug named 'unobtainium'" in err


def test_show_class_word_alone_is_not_a_drug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--dir", str(MINI), "show", "blood thinner")
    assert code == EXIT_ERROR
    assert out == ""
    assert "no drug named" in err
