"""``python -m benchmarks.review_store`` on a small SQLite store: the report and its JSON are
written, and every review query was measured (the 1M-row run is in benchmarks/results)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.review_store import DIAGNOSIS, PLANNED, main, queries
from guard.audit import AuditStore
from guard.review import ReviewStore


def test_small_run_writes_a_report_with_every_query(tmp_path: Path) -> None:
    out = tmp_path / "results"
    code = main(["--decisions", "2000", "--repeats", "2", "--warmup", "1", "--seed", "3",
                 "--out", str(out), "--quiet"])
    assert code == 0

    data = json.loads((out / "review-store.json").read_text())
    (sqlite,) = data["backends"]
    assert sqlite["backend"] == "sqlite"
    rows = sqlite["seed"]["rows"]
    assert rows["decisions"] == 2000
    assert rows["cases"] > 0 and rows["decision_findings"] > 0 and rows["case_events"] > 0
    actions = sqlite["seed"]["actions"]
    assert sum(actions.values()) == 2000
    assert actions["input/allow"] > 0.7 * 2000  # traffic is mostly allowed
    assert 0 < sum(v for k, v in actions.items() if k.startswith("output/")) < 0.2 * 2000

    store = AuditStore("sqlite://")
    expected = [q.name for q in queries(ReviewStore(store), datetime.now(UTC),
                                        {"pages": 1})]
    assert list(sqlite["queries"]) == expected
    for name, result in sqlite["queries"].items():
        assert result["repeats"] == 2, name
        assert 0 <= result["min_ms"] <= result["p50_ms"] <= result["p95_ms"], name
        assert result["kind"] in ("list", "aggregate", "export"), name
    assert sqlite["queries"]["decisions: first page"]["rows"] == 50
    assert sqlite["queries"]["export: 10,000 decisions"]["rows"] == 2000  # all there are
    assert sqlite["queries"]["decisions: page 100 (cursor)"]["rows"] == 50  # page 40 of 40
    assert set(sqlite["plans"]) == set(PLANNED)
    assert all(p["plan"] for plans in sqlite["plans"].values() for p in plans)
    assert set(data["passed"]) == set(expected)

    report = (out / "review-store.md").read_text()
    assert report.startswith("# Review store: queries on 2,000 decisions")
    assert "python -m benchmarks.review_store --decisions 2000 --days 90" in report
    for name in expected:
        assert f"| {name} |" in report
    assert "## Query plans" in report and "ix_decisions_created_at" in report
    failed = {name for name, per in data["passed"].items() if not all(per.values())}
    for name in failed & set(DIAGNOSIS):  # a miss is explained next to the table
        assert DIAGNOSIS[name] in report
