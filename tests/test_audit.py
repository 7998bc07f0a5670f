"""The audit store against SQLite always and a real PostgreSQL when CI provides one.

Set PRIMUM_TEST_POSTGRES_URL (see tests/pg/start_postgres.sh) to run the PostgreSQL half;
without it those cases skip and every SQLite case still runs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from guard.audit import (
    DEFAULT_EXCERPT_CHARS,
    AuditStore,
    StoreNotOpenError,
    alembic_config,
    decision_row,
    metadata,
)
from guard.recording import CaseRecord, DecisionRecord
from guard.types import Action, CheckFailure, Finding, Stage, Verdict

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PHI_NAME = "Johanna Példa-Smith"
PHI_MRN = "MRN 4471923"


def _verdict(
    action: Action = Action.REDACT,
    stage: Stage = Stage.INPUT,
    findings: tuple[Finding, ...] | None = None,
) -> Verdict:
    if findings is None:
        findings = (
            Finding(check="phi", category="name", score=0.85, segment=0, span=(11, 30),
                    entity="PERSON", explanation=f"recognised name {PHI_NAME}"),
            Finding(check="phi", category="mrn", score=1.0, segment=0, span=(40, 51),
                    entity="MRN", explanation=f"pattern matched {PHI_MRN}"),
            Finding(check="ama", category="privacy", score=0.7, principle=4,
                    explanation="asks to disclose another patient's record"),
            Finding(check="meds", category="overdose", score=0.9, criterion="CSEDB-MED-03"),
        )
    return Verdict(
        action=action,
        stage=stage,
        policy_id="default",
        policy_version="2025.03.1",
        findings=findings,
        rules=("phi-redact", "privacy-annotate"),
        message=f"Dear {PHI_NAME}, we removed personal details.",
        escalations=(),
        failures=(
            CheckFailure(check="toxicity", reason="timeout", fail_mode="open",
                         detail=f"exceeded 50 ms on '{PHI_NAME}'"),
        ),
        latency_ms={"phi": 24.5, "ama": 3.25, "meds": 1.0, "toxicity": 50.0},
    )


def _decision(
    request_id: str = "req-1",
    time: datetime = T0,
    tenant: str = "clinic-a",
    verdict: Verdict | None = None,
    excerpt: str = "My name is [PERSON], [MRN] overdosed",
    **kw: object,
) -> DecisionRecord:
    v = verdict if verdict is not None else _verdict()
    return DecisionRecord(
        request_id=request_id, time=time, tenant=tenant, model="gpt-4o-mini", stage=v.stage,
        verdict=v, excerpt=excerpt, **kw,  # type: ignore[arg-type]
    )


def _case(case_id: str, priority: str = "normal", time: datetime = T0, **kw: object) -> CaseRecord:
    fields: dict[str, object] = {
        "request_id": "req-1", "tenant": "clinic-a", "rule": "self-harm-review",
        "policy_id": "default", "policy_version": "2025.03.1",
        "categories": ("ama/self_harm",), "excerpt": "I want to [REDACTED]",
    }
    fields.update(kw)
    return CaseRecord(case_id=case_id, time=time, priority=priority, **fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------- migrations
def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_open_migrates_to_head(store: AuditStore) -> None:
    assert _head() == "0003"
    assert store.schema_revision() == _head()
    inspector = sa.inspect(store.engine)
    assert {"decisions", "cases", "alembic_version"} <= set(inspector.get_table_names())
    indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("decisions")}
    assert {("created_at",), ("tenant", "created_at"), ("action", "created_at"),
            ("request_id",)} <= indexes
    case_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("cases")}
    assert {("status", "priority", "created_at"), ("tenant", "created_at")} <= case_indexes


def test_migrations_match_the_models(store: AuditStore) -> None:
    """The hand-written migration and ``metadata`` describe the same schema."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


async def test_migrating_twice_is_a_no_op(fresh_url: str) -> None:
    with AuditStore(fresh_url) as first:
        await first.record_decision(_decision())
        first.open()  # already open: nothing happens
    with AuditStore(fresh_url) as second:
        assert second.schema_revision() == _head()
        assert second.count_decisions() == 1
        with second.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(_head(),)]


_CHILD = """
import sys, time
from guard.audit import AuditStore
url, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
store = AuditStore(url).open()
print(store.schema_revision())
store.close()
"""


def test_processes_migrating_together_do_not_collide(fresh_url: str) -> None:
    start = time.time() + 2.0  # both children are imported and waiting by then
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, fresh_url, str(start)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == _head()
    with AuditStore(fresh_url) as s, s.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_unopened_store_refuses_to_work() -> None:
    store = AuditStore("sqlite:///does/not/matter.db")  # no I/O: nothing is created
    assert not Path("does/not/matter.db").exists()
    with pytest.raises(StoreNotOpenError):
        store.count_decisions()
    with pytest.raises(StoreNotOpenError):
        asyncio.run(store.record_decision(_decision()))


def test_in_memory_sqlite_is_shared_across_threads() -> None:
    async def scenario(s: AuditStore) -> int:
        await asyncio.gather(*(s.record_decision(_decision(f"r{i}")) for i in range(20)))
        return s.count_decisions()

    with AuditStore("sqlite://") as s:
        assert asyncio.run(scenario(s)) == 20


# --------------------------------------------------------------------- decisions
async def test_decision_round_trip(store: AuditStore) -> None:
    await store.record_decision(_decision(case_id="case-9", upstream_ms=812.5))
    [row] = store.list_decisions()
    assert row["request_id"] == "req-1"
    assert row["tenant"] == "clinic-a"
    assert row["model"] == "gpt-4o-mini"
    assert row["stage"] == "input"
    assert row["action"] == "redact"
    assert row["policy_id"] == "default"
    assert row["policy_version"] == "2025.03.1"
    assert row["categories"] == ["ama/privacy", "meds/overdose", "phi/mrn", "phi/name"]
    assert row["rules"] == ["phi-redact", "privacy-annotate"]
    assert row["findings"][0] == {
        "check": "phi", "category": "name", "score": 0.85, "entity": "PERSON", "segment": 0,
        "span": [11, 30], "principle": None, "criterion": None,
    }
    assert row["findings"][2]["principle"] == 4
    assert row["findings"][3]["criterion"] == "CSEDB-MED-03"
    assert row["failures"] == [{"check": "toxicity", "reason": "timeout", "fail_mode": "open"}]
    assert row["latency_ms"] == {
        "checks": {"phi": 24.5, "ama": 3.25, "meds": 1.0, "toxicity": 50.0}, "total": 50.0,
    }
    assert row["upstream_ms"] == 812.5
    assert row["case_id"] == "case-9"
    assert row["excerpt"] == "My name is [PERSON], [MRN] overdosed"
    assert row["created_at"] == T0


async def test_decision_without_findings(store: AuditStore) -> None:
    verdict = Verdict(action=Action.ALLOW, stage=Stage.OUTPUT, policy_id="default",
                      policy_version="1")
    await store.record_decision(_decision(verdict=verdict, excerpt=""))
    [row] = store.list_decisions()
    assert row["findings"] == [] and row["failures"] == [] and row["categories"] == []
    assert row["latency_ms"] == {"checks": {}, "total": 0.0}
    assert row["upstream_ms"] is None and row["case_id"] is None


async def test_newest_first_and_filters(store: AuditStore) -> None:
    # Written out of time order: reads must order by time, not by insertion.
    plan = [
        ("r2", T0 + timedelta(minutes=2), "clinic-a", Action.BLOCK),
        ("r0", T0, "clinic-a", Action.ALLOW),
        ("r3", T0 + timedelta(minutes=3), "clinic-b", Action.BLOCK),
        ("r1", T0 + timedelta(minutes=1), "clinic-b", Action.ALLOW),
    ]
    for rid, when, tenant, action in plan:
        await store.record_decision(_decision(rid, when, tenant, _verdict(action)))

    def ids(rows: list[dict[str, object]]) -> list[object]:
        return [r["request_id"] for r in rows]

    assert ids(store.list_decisions()) == ["r3", "r2", "r1", "r0"]
    assert ids(store.list_decisions(limit=2)) == ["r3", "r2"]
    assert ids(store.list_decisions(tenant="clinic-a")) == ["r2", "r0"]
    assert ids(store.list_decisions(action=Action.BLOCK)) == ["r3", "r2"]
    assert ids(store.list_decisions(action="allow", tenant="clinic-b")) == ["r1"]
    assert ids(store.list_decisions(since=T0 + timedelta(minutes=1))) == ["r3", "r2", "r1"]
    assert ids(store.list_decisions(request_id="r0")) == ["r0"]
    assert store.count_decisions() == 4
    assert store.count_decisions(tenant="clinic-b") == 2


async def test_timestamps_are_utc_and_tz_aware(store: AuditStore) -> None:
    local = datetime(2025, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    await store.record_decision(_decision(time=local))
    [row] = store.list_decisions()
    assert row["created_at"].tzinfo is not None
    assert row["created_at"].utcoffset() == timedelta(0)
    assert row["created_at"] == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    # ``since`` given in another zone compares as the same instant.
    assert store.list_decisions(since=local) and not store.list_decisions(
        since=local + timedelta(microseconds=1))


async def test_naive_timestamps_are_refused(store: AuditStore) -> None:
    with pytest.raises(sa.exc.StatementError, match="tz-aware"):
        await store.record_decision(_decision(time=datetime(2025, 3, 1, 12, 0)))
    assert store.count_decisions() == 0


async def test_excerpt_is_capped(fresh_url: str) -> None:
    long = "[PERSON] reports chest pain " * 40
    assert len(long) > DEFAULT_EXCERPT_CHARS
    with AuditStore(fresh_url) as default:
        await default.record_decision(_decision(excerpt=long))
        [row] = default.list_decisions()
        assert len(row["excerpt"]) == DEFAULT_EXCERPT_CHARS
        assert row["excerpt"].endswith("…")
        assert long.startswith(row["excerpt"][:-1])
    with AuditStore(fresh_url, excerpt_chars=20) as short:
        await short.record_decision(_decision("r-short", excerpt=long))
        await short.record_decision(_decision("r-exact", excerpt="x" * 20))
        await short.open_case(_case("c1", excerpt=long))
        rows = {r["request_id"]: r["excerpt"] for r in short.list_decisions()}
        assert len(rows["r-short"]) == 20 and rows["r-short"].endswith("…")
        assert rows["r-exact"] == "x" * 20  # at the cap: untouched
        case = short.get_case("c1")
        assert case is not None and len(case["excerpt"]) == 20


async def test_no_raw_text_is_stored_beyond_the_excerpt(store: AuditStore) -> None:
    """Explanations, failure details and the user message may quote PHI: none is kept."""
    record = _decision(excerpt="My name is [PERSON]")
    raw_texts = [f.explanation for f in record.verdict.findings] + [
        f.detail for f in record.verdict.failures] + [record.verdict.message or ""]
    assert any(PHI_NAME in t for t in raw_texts) and any(PHI_MRN in t for t in raw_texts)

    row = decision_row(record)
    assert "message" not in row
    for finding in row["findings"]:
        assert set(finding) == {"check", "category", "score", "entity", "segment", "span",
                                "principle", "criterion"}
    for failure in row["failures"]:
        assert set(failure) == {"check", "reason", "fail_mode"}

    await store.record_decision(record)
    [stored] = store.list_decisions()
    dumped = json.dumps(stored, default=str, ensure_ascii=False)
    assert PHI_NAME not in dumped and PHI_MRN not in dumped
    assert "recognised name" not in dumped and "exceeded 50 ms" not in dumped
    # The only free text column is the excerpt, exactly as the (redacting) caller gave it.
    text_columns = {k for k, v in stored.items() if isinstance(v, str)}
    assert text_columns == {"request_id", "tenant", "model", "stage", "action", "policy_id",
                            "policy_version", "excerpt", "severity"}
    assert stored["excerpt"] == "My name is [PERSON]"


# --------------------------------------------------------------------- cases
async def test_cases_round_trip_queue_order_and_update(store: AuditStore) -> None:
    await store.open_case(_case("c-low", "low", T0))
    await store.open_case(_case("c-crit-new", "critical", T0 + timedelta(minutes=5),
                                tenant="clinic-b", metadata={"webhook": "sent"}))
    await store.open_case(_case("c-crit-old", "critical", T0 + timedelta(minutes=1)))
    await store.open_case(_case("c-high", "high", T0 + timedelta(minutes=9)))

    case = store.get_case("c-crit-new")
    assert case is not None
    assert case["request_id"] == "req-1" and case["rule"] == "self-harm-review"
    assert case["priority"] == "critical" and case["status"] == "open"
    assert case["categories"] == ["ama/self_harm"] and case["meta"] == {"webhook": "sent"}
    assert case["assignee"] is None and case["notes"] is None
    assert case["created_at"] == case["updated_at"] == T0 + timedelta(minutes=5)
    assert case["created_at"].tzinfo is not None
    assert store.get_case("nope") is None

    queue = [c["case_id"] for c in store.list_cases()]
    assert queue == ["c-crit-old", "c-crit-new", "c-high", "c-low"]
    assert [c["case_id"] for c in store.list_cases(tenant="clinic-b")] == ["c-crit-new"]

    assert [c["case_id"] for c in store.list_cases(status="open", limit=1)] == ["c-crit-old"]


async def test_failed_write_raises_and_is_reported(fresh_url: str) -> None:
    errors: list[str] = []
    with AuditStore(fresh_url, on_error=errors.append) as s:
        await s.open_case(_case("dup"))
        with pytest.raises(sa.exc.IntegrityError):
            await s.open_case(_case("dup"))
        assert errors == ["open_case"]
        assert len(s.list_cases()) == 1  # the first write is intact
