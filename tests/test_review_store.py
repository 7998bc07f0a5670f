"""The review queries and case workflow (guard.review) on SQLite and a real PostgreSQL.

Set PRIMUM_TEST_POSTGRES_URL (see tests/pg/start_postgres.sh) for the PostgreSQL half.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from guard.audit import AuditStore, alembic_config
from guard.metrics import BacklogRow, CaseBacklogCollector
from guard.recording import CaseRecord, DecisionRecord, severity_of
from guard.review import (
    MAX_SERIES,
    CaseFilter,
    CaseNotFoundError,
    CursorError,
    DecisionFilter,
    InvalidTransitionError,
    InvalidUpdateError,
    ReviewStore,
)
from guard.types import Action, Finding, Stage, Verdict

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# As SQLite stores a naive UTC time (and PostgreSQL reads it as a literal).
NAIVE_T0 = T0.replace(tzinfo=None).isoformat(sep=" ")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _decision(i: int, *, tenant: str = "clinic-a", action: Action = Action.ANNOTATE,
              findings: tuple[Finding, ...] = (), stage: Stage = Stage.INPUT,
              minutes: int | None = None, case: tuple[str, str] | None = None) -> DecisionRecord:
    verdict = Verdict(action, stage, "default", "1.2.0", findings=findings)
    return DecisionRecord(
        request_id=f"r{i}", time=T0 + timedelta(minutes=i if minutes is None else minutes),
        tenant=tenant, model="gpt" if i % 2 else "llama", stage=stage, verdict=verdict,
        excerpt=f"message {i}", case_id=case[0] if case else None,
        case_priorities=(case[1],) if case else ())


def _case(case_id: str, request: int, priority: str, *, tenant: str = "clinic-a",
          minutes: int = 0, rule: str = "crisis") -> CaseRecord:
    return CaseRecord(case_id=case_id, request_id=f"r{request}",
                      time=T0 + timedelta(minutes=minutes), tenant=tenant, rule=rule,
                      priority=priority, policy_id="default", policy_version="1.2.0",
                      categories=("crisis/suicidal_ideation",), excerpt="[redacted]",
                      model="gpt")


def _ids(page_items: list[dict[str, object]], key: str = "request_id") -> list[object]:
    return [item[key] for item in page_items]


# ---------------------------------------------------------------------- severity
@pytest.mark.parametrize(("action", "priorities", "expected"), [
    (Action.ALLOW, (), "none"),
    (Action.ANNOTATE, (), "low"),
    (Action.CLARIFY, (), "normal"),
    (Action.REDACT, (), "normal"),
    (Action.BLOCK, (), "high"),
    (Action.ESCALATE, ("low",), "high"),       # the action's severity is the floor
    (Action.BLOCK, ("normal",), "high"),
    (Action.ESCALATE, ("critical",), "critical"),
    (Action.ANNOTATE, ("normal", "critical"), "critical"),
])
def test_severity_is_the_more_urgent_of_action_and_case_priority(
        action: Action, priorities: tuple[str, ...], expected: str) -> None:
    assert severity_of(action, priorities) == expected


async def test_severity_and_finding_rows_are_stored(store: AuditStore) -> None:
    findings = (Finding("ama", "deception", 0.9, principle=2),
                Finding("medication", "dose_above_max", 0.8, criterion="dose_organ_function"))
    await store.record_decision(_decision(1, action=Action.ESCALATE, findings=findings,
                                          case=("c1", "critical")))
    [row] = store.list_decisions()
    assert row["severity"] == "critical"
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT "check", category, principle, criterion FROM decision_findings '
            "ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("ama", "deception", 2, None),
                                        ("medication", "dose_above_max", None,
                                         "dose_organ_function")]


# ---------------------------------------------------------------------- decisions
async def test_keyset_pages_cover_every_decision_once_newest_first(store: AuditStore) -> None:
    for i in range(23):
        await store.record_decision(_decision(i, minutes=i // 2))  # pairs share a timestamp
    review = ReviewStore(store)
    seen: list[object] = []
    page = review.decisions(DecisionFilter(), limit=5)
    while True:
        seen += _ids(page.items)
        if page.next_cursor is None:
            break
        page = review.decisions(DecisionFilter(), limit=5, cursor=page.next_cursor)
    assert len(seen) == 23 and len(set(seen)) == 23
    times = [d["time"] for d in review.decisions(DecisionFilter(), limit=23).items]
    assert times == sorted(times, reverse=True)


async def test_rows_written_while_paging_do_not_shift_later_pages(store: AuditStore) -> None:
    for i in range(10):
        await store.record_decision(_decision(i))
    review = ReviewStore(store)
    first = review.decisions(DecisionFilter(), limit=4)
    await store.record_decision(_decision(100, minutes=100))  # newer than everything
    second = review.decisions(DecisionFilter(), limit=4, cursor=first.next_cursor)
    assert _ids(first.items) == ["r9", "r8", "r7", "r6"]
    assert _ids(second.items) == ["r5", "r4", "r3", "r2"]


async def test_filters(store: AuditStore) -> None:
    ama = Finding("ama", "deception", 0.9, principle=2)
    med = Finding("medication", "dose_above_max", 0.8, criterion="dose_organ_function")
    other = Finding("ama", "privacy", 0.7, principle=4)
    await store.record_decision(_decision(1, findings=(ama,), action=Action.BLOCK))
    await store.record_decision(_decision(2, findings=(med,), tenant="clinic-b"))
    await store.record_decision(_decision(3, findings=(other, med), stage=Stage.OUTPUT))
    await store.record_decision(_decision(4, action=Action.ALLOW))
    review = ReviewStore(store)

    def ids(**kw: object) -> set[object]:
        return set(_ids(review.decisions(DecisionFilter(**kw), limit=50).items))  # type: ignore[arg-type]

    assert ids() == {"r1", "r2", "r3", "r4"}
    assert ids(tenants=("clinic-b",)) == {"r2"}
    assert ids(tenants=()) == set()  # a reviewer granted nothing sees nothing
    assert ids(actions=("block", "allow")) == {"r1", "r4"}
    assert ids(severities=("high",)) == {"r1"}
    assert ids(stages=("output",)) == {"r3"}
    assert ids(models=("gpt",)) == {"r1", "r3"}
    assert ids(principles=(2,)) == {"r1"}
    assert ids(principles=(2, 4)) == {"r1", "r3"}
    assert ids(criteria=("dose_organ_function",)) == {"r2", "r3"}
    assert ids(checks=("ama",)) == {"r1", "r3"}
    assert ids(categories=("privacy",)) == {"r3"}
    assert ids(categories=("ama/deception", "medication/dose_above_max")) == {"r1", "r2", "r3"}
    # Finding attributes apply to one and the same finding: r3's ama finding has no
    # criterion and its medication finding has no principle.
    assert ids(checks=("ama",), criteria=("dose_organ_function",)) == set()
    assert ids(principles=(4,), criteria=("dose_organ_function",)) == set()
    assert ids(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)) == {"r2", "r3"}
    assert ids(request_id="r4") == {"r4"}


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        DecisionFilter(since=datetime(2026, 1, 1))


async def test_bad_cursors_are_refused(store: AuditStore) -> None:
    for i in range(3):
        await store.record_decision(_decision(i))
        await store.open_case(_case(f"c{i}", i, "high"))
    review = ReviewStore(store)
    with pytest.raises(CursorError):
        review.decisions(DecisionFilter(), cursor="not-a-cursor")
    case_cursor = review.cases(CaseFilter(), limit=1).next_cursor
    assert case_cursor is not None
    with pytest.raises(CursorError):  # a cursor of another list
        review.decisions(DecisionFilter(), cursor=case_cursor)
    with pytest.raises(CursorError):  # of another ordering
        review.cases(CaseFilter(), order="newest", cursor=case_cursor)
    with pytest.raises(ValueError, match="limit"):
        review.decisions(DecisionFilter(), limit=0)


# ---------------------------------------------------------------------- cases
async def test_queue_order_pages_and_filters(store: AuditStore) -> None:
    specs = [("c-low", "low", 0), ("c-crit-new", "critical", 5), ("c-high", "high", 1),
             ("c-crit-old", "critical", 2), ("c-norm", "normal", 3), ("c-high-b", "high", 4)]
    for n, (case_id, priority, minutes) in enumerate(specs):
        tenant = "clinic-b" if case_id == "c-high-b" else "clinic-a"
        await store.record_decision(_decision(n, tenant=tenant, action=Action.ESCALATE,
                                              case=(case_id, priority),
                                              findings=(Finding("crisis", "self_harm", 0.9),)))
        await store.open_case(_case(case_id, n, priority, tenant=tenant, minutes=minutes))
    review = ReviewStore(store)
    order: list[object] = []
    page = review.cases(CaseFilter(), limit=2)
    while True:
        order += _ids(page.items, "case_id")
        if page.next_cursor is None:
            break
        page = review.cases(CaseFilter(), limit=2, cursor=page.next_cursor)
    assert order == ["c-crit-old", "c-crit-new", "c-high", "c-high-b", "c-norm", "c-low"]
    newest = review.cases(CaseFilter(), order="newest", limit=3)
    assert _ids(newest.items, "case_id") == ["c-crit-new", "c-high-b", "c-norm"]
    assert _ids(review.cases(CaseFilter(tenants=("clinic-b",))).items, "case_id") == [
        "c-high-b"]
    assert _ids(review.cases(CaseFilter(priorities=("high",))).items, "case_id") == [
        "c-high", "c-high-b"]
    assert len(review.cases(CaseFilter(categories=("crisis/self_harm",))).items) == 6
    assert review.cases(CaseFilter(checks=("ama",))).items == []


async def test_case_detail_has_decisions_and_timeline(store: AuditStore) -> None:
    await store.record_decision(_decision(1, action=Action.ESCALATE, case=("c1", "high")))
    await store.record_decision(_decision(1, stage=Stage.OUTPUT, action=Action.ALLOW))
    await store.open_case(_case("c1", 1, "high", tenant="clinic-a"))
    review = ReviewStore(store)
    case = review.case("c1")
    assert case is not None
    assert [d["stage"] for d in case["decisions"]] == ["input", "output"]
    assert [(e["kind"], e["actor"]) for e in case["events"]] == [("opened", "primum")]
    assert case["events"][0]["detail"] == {"rule": "crisis", "priority": "high"}
    assert review.case("c1", tenants=("clinic-b",)) is None  # not granted: not found
    assert review.case("nope") is None


async def test_workflow(fresh_url: str) -> None:
    errors: list[str] = []
    store = AuditStore(fresh_url, on_error=errors.append).open()
    await store.open_case(_case("c1", 1, "high"))
    clock = Clock(T0 + timedelta(hours=1))
    review = ReviewStore(store, redact=lambda t: t.replace("Jane Roe", "[PERSON_1]"),
                         clock=clock)

    with pytest.raises(InvalidTransitionError, match="needs a resolution"):
        review.update_case("c1", "ana", status="resolved")
    with pytest.raises(InvalidUpdateError, match="only with status"):
        review.update_case("c1", "ana", resolution="confirmed")
    with pytest.raises(InvalidUpdateError, match="unknown status"):
        review.update_case("c1", "ana", status="closed")
    with pytest.raises(InvalidUpdateError, match="empty") as info:
        review.update_case("c1", "ana", note="   ")
    assert info.value.field == "note"
    with pytest.raises(CaseNotFoundError):
        review.update_case("c1", "ana", status="in_review", tenants=("clinic-b",))
    with pytest.raises(CaseNotFoundError):
        review.update_case("missing", "ana", status="in_review")

    case = review.update_case("c1", "ana", status="in_review", assignee="ana")
    assert (case["status"], case["assignee"]) == ("in_review", "ana")
    clock.now += timedelta(minutes=5)
    case = review.update_case("c1", "ana", note="Called Jane Roe back; she is safe.")
    assert case["notes"] == "Called [PERSON_1] back; she is safe."
    clock.now += timedelta(minutes=5)
    case = review.update_case("c1", "ana", status="resolved", resolution="false_positive",
                              assignee=None)
    assert (case["status"], case["resolution"], case["assignee"]) == (
        "resolved", "false_positive", None)
    assert case["resolved_at"] == "2026-03-02T10:10:00Z"
    with pytest.raises(InvalidTransitionError, match="only an admin"):
        review.update_case("c1", "ana", status="in_review")
    with pytest.raises(InvalidTransitionError, match="already resolved"):
        review.update_case("c1", "ana", status="resolved", resolution="confirmed")
    case = review.update_case("c1", "boss", status="in_review", allow_reopen=True)
    assert (case["status"], case["resolution"], case["resolved_at"]) == ("in_review", None, None)

    timeline = [(e["kind"], e["actor"], e["detail"]) for e in case["events"]]
    assert timeline == [
        ("opened", "primum", {"rule": "crisis", "priority": "high"}),
        ("status", "ana", {"from": "open", "to": "in_review", "resolution": None}),
        ("assigned", "ana", {"from": None, "to": "ana"}),
        ("note", "ana", {"note": "Called [PERSON_1] back; she is safe."}),
        ("status", "ana", {"from": "in_review", "to": "resolved",
                           "resolution": "false_positive"}),
        ("assigned", "ana", {"from": "ana", "to": None}),
        ("status", "boss", {"from": "resolved", "to": "in_review", "resolution": None}),
    ]
    assert "Jane Roe" not in repr(review.case("c1"))
    assert errors == []  # refused changes are not store failures
    store.close()


# ---------------------------------------------------------------------- stats, backlog
async def test_stats_buckets_and_series(store: AuditStore) -> None:
    for i in range(6):
        findings = (Finding("ama", "a", 0.9, principle=2), Finding("ama", "b", 0.9, principle=2))
        await store.record_decision(_decision(i, minutes=i * 30, findings=findings,
                                              action=Action.BLOCK if i < 2 else Action.ALLOW))
    review = ReviewStore(store)
    where = DecisionFilter(since=T0, until=T0 + timedelta(hours=3))
    by_action = review.stats(where, by="action", bucket="hour")
    assert by_action["buckets"] == ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z",
                                    "2026-03-02T11:00:00Z"]
    assert {s["key"]: s["counts"] for s in by_action["series"]} == {
        "allow": [0, 2, 2], "block": [2, 0, 0]}
    # Two principle-2 findings in one decision count that decision once.
    by_principle = review.stats(where, by="principle", bucket="hour")
    assert by_principle["series"] == [{"key": "2", "total": 6, "counts": [2, 2, 2]}]
    by_category = review.stats(where, by="category", bucket="day")
    assert {s["key"]: s["total"] for s in by_category["series"]} == {"ama/a": 6, "ama/b": 6}
    assert review.stats(DecisionFilter(tenants=("x",), since=T0, until=T0 + timedelta(hours=1)),
                        by="action")["series"] == []
    with pytest.raises(ValueError, match="by must be"):
        review.stats(where, by="tenant")


async def test_stats_keeps_the_top_series_and_sums_the_rest(store: AuditStore) -> None:
    for i in range(MAX_SERIES + 3):
        for _ in range(i + 1):
            await store.record_decision(_decision(i, findings=(Finding("c", f"k{i:02d}", 1.0),)))
    series = ReviewStore(store).stats(
        DecisionFilter(since=T0, until=T0 + timedelta(days=1)), by="category", bucket="day")
    keys = [s["key"] for s in series["series"]]
    assert len(keys) == MAX_SERIES + 1 and keys[-1] == "other"
    assert keys[0] == f"c/k{MAX_SERIES + 2:02d}"
    assert series["series"][-1]["total"] == 1 + 2 + 3


async def test_backlog_feeds_the_metrics(store: AuditStore) -> None:
    await store.open_case(_case("c1", 1, "critical", minutes=0))
    await store.open_case(_case("c2", 2, "critical", minutes=30))
    await store.open_case(_case("c3", 3, "low", minutes=10))
    review = ReviewStore(store, clock=Clock(T0 + timedelta(hours=1)))
    review.update_case("c3", "ana", status="resolved", resolution="confirmed")
    rows = review.backlog()
    assert rows == [BacklogRow("critical", "open", 2, 3600.0)]
    families = {m.name: m for m in CaseBacklogCollector(review.backlog).collect()}
    [sample] = families["primum_cases_unresolved"].samples
    assert sample.labels == {"priority": "critical", "status": "open"} and sample.value == 2
    [age] = families["primum_case_oldest_unresolved_age_seconds"].samples
    assert age.value == 3600.0


def test_backlog_collector_before_open_and_on_errors() -> None:
    review = ReviewStore(AuditStore("sqlite:///never-opened.db"))
    assert review.backlog() is None
    errors: list[str] = []
    assert list(CaseBacklogCollector(review.backlog, on_error=errors.append).collect()) == []
    assert errors == []  # start-up is not an error

    def broken() -> list[BacklogRow]:
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is down"))

    assert list(CaseBacklogCollector(broken, on_error=errors.append).collect()) == []
    assert errors == ["case_backlog"]


def test_backlog_collector_caches_between_scrapes() -> None:
    calls: list[int] = []
    now = [0.0]

    def source() -> list[BacklogRow]:
        calls.append(1)
        return [BacklogRow("high", "open", len(calls), 1.0)]

    collector = CaseBacklogCollector(source, cache_s=15, clock=lambda: now[0])
    for t in (0.0, 5.0, 14.9, 15.0, 20.0):
        now[0] = t
        list(collector.collect())
    assert len(calls) == 2


# ---------------------------------------------------------------------- migration
def test_upgrade_from_0001_backfills(fresh_url: str) -> None:
    engine = sa.create_engine(fresh_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            findings = [{"check": "ama", "category": "privacy", "score": 0.7, "principle": 4,
                         "criterion": None, "entity": None, "segment": 0, "span": None}]
            rows = [("r1", "block", None, findings), ("r2", "annotate", "c1", []),
                    ("r3", "allow", None, [])]
            for rid, action, case_id, found in rows:
                conn.execute(sa.text(
                    "INSERT INTO decisions (request_id, created_at, tenant, model, stage, "
                    "action, policy_id, policy_version, categories, findings, rules, failures, "
                    "latency_ms, excerpt, case_id) VALUES (:r, :t, 'a', 'm', 'input', :a, 'p', "
                    "'1', '[]', :f, '[]', '[]', '{}', 'x', :c)"),
                    {"r": rid, "t": NAIVE_T0, "a": action, "c": case_id,
                     "f": json.dumps(found)})
            conn.execute(sa.text(
                "INSERT INTO cases (case_id, request_id, created_at, updated_at, tenant, rule, "
                "priority, status, policy_id, policy_version, categories, excerpt, meta) "
                "VALUES ('c1', 'r2', :t, :t, 'a', 'crisis', 'critical', 'open', 'p', '1', "
                "'[]', 'x', '{}')"), {"t": NAIVE_T0})
    finally:
        engine.dispose()
    with AuditStore(fresh_url) as store:
        review = ReviewStore(store)
        severity = {d["request_id"]: d["severity"]
                    for d in review.decisions(DecisionFilter()).items}
        assert severity == {"r1": "high", "r2": "critical", "r3": "none"}
        assert _ids(review.decisions(DecisionFilter(principles=(4,))).items) == ["r1"]
        case = review.case("c1")
        assert case is not None and [e["kind"] for e in case["events"]] == ["opened"]
        assert case["model"] == "" and case["resolution"] is None


def test_store_runs_in_the_event_loop_thread_pool(store: AuditStore) -> None:
    """The recorder path stays async: many concurrent writes all land."""
    async def write_many() -> None:
        await asyncio.gather(*(store.record_decision(
            _decision(i, findings=(Finding("c", "k", 1.0),))) for i in range(40)))

    asyncio.run(write_many())
    assert store.count_decisions() == 40
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM decision_findings")).scalar_one() == 40
