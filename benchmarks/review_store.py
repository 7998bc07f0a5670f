"""Review store latency on a store with a million decisions, SQLite and PostgreSQL side by side.

The review page must stay paginated and fast however long the proxy has been recording.
This seeds an audit store with ``--decisions`` rows shaped like chatbot traffic, then times
every query the review API runs (``guard.review.ReviewStore``), warm, ``--repeats`` times
each, and writes a markdown report (targets PASS/FAIL, the query plans of the hardest
queries) and the same numbers as JSON:

    python -m benchmarks.review_store --decisions 1000000 \\
        [--postgres URL] [--out benchmarks/results]

The traffic (seeded, reproducible with ``--seed``): four tenants and four models of uneven
size; input-stage actions about 85% allow, 6% annotate, 4.5% redact, 1.5% clarify, 2%
block, 1% escalate; ``--output-share`` of the requests (default 5%) also get an
output-stage decision; 0-3 findings per decision (PHI entities, crisis categories,
AMA-principle findings of the harmful_request check, medication findings with their CSEDB
criterion); a review case for each escalation (crisis: high, critical for one tenant;
ethics and medication reviews: normal), resolved or still open depending on age;
timestamps over the last ``--days`` days with a day/night rhythm.

Rows go in the way the proxy writes them (``guard.audit.decision_row`` and
``finding_rows`` on real ``DecisionRecord``s), but in bulk: ``AuditStore(url).open()``
migrates the schema with every index first, then batched multi-row inserts with ids
assigned here. ``ANALYZE`` follows (``VACUUM ANALYZE`` on PostgreSQL, which autovacuum
does on its own for a store that fills over weeks), as an operator would after a bulk
load.

``--postgres URL`` DROPS the audit tables in that database first: give it a database of
its own, never one that holds a real audit trail.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from guard.audit import (
    AuditStore,
    case_events,
    cases,
    decision_findings,
    decision_row,
    decisions,
    finding_rows,
)
from guard.recording import DecisionRecord
from guard.review import CaseFilter, DecisionFilter, ReviewStore
from guard.types import Action, CheckFailure, Finding, Stage, Verdict

ROOT = Path(__file__).resolve().parents[1]
POLICY_ID = "primum-default"
POLICY_VERSIONS = ("1.1.0", "1.2.0")  # the version changes half way through the period
BATCH = 5000

# name, share of traffic, audience, crisis case priority
TENANTS = (
    ("patient-app", 0.45, "patient", "high"),
    ("clinic-north", 0.30, "clinician", "high"),
    ("pharmacy-line", 0.20, "patient", "critical"),
    ("research-pilot", 0.05, "clinician", "high"),
)
MODELS = (("gpt-4o-mini", 0.55), ("llama-3.1-70b", 0.25), ("claude-3-5-haiku", 0.15),
          ("primum-demo", 0.05))
INPUT_ACTIONS = ((Action.ALLOW, 0.85), (Action.ANNOTATE, 0.06), (Action.REDACT, 0.045),
                 (Action.CLARIFY, 0.015), (Action.BLOCK, 0.02), (Action.ESCALATE, 0.01))
OUTPUT_ACTIONS = ((Action.ALLOW, 0.90), (Action.REDACT, 0.04), (Action.ANNOTATE, 0.04),
                  (Action.BLOCK, 0.02))
PRINCIPLES = ("p1_competence_compassion", "p2_honesty_professionalism", "p3_respect_law",
              "p4_rights_confidentiality", "p5_scientific_integrity", "p6_conditions_of_care",
              "p7_public_health", "p8_patient_first", "p9_access_to_care")
PRINCIPLE_WEIGHTS = (0.06, 0.22, 0.24, 0.14, 0.12, 0.05, 0.07, 0.06, 0.04)
ETHICS_REVIEW = {2, 3, 4}  # ama-ethics: these principles' block rules open a case
PHI_ENTITIES = (("PERSON", 0.35), ("PHONE_NUMBER", 0.12), ("EMAIL_ADDRESS", 0.08),
                ("DATE_OF_BIRTH", 0.15), ("MRN", 0.10), ("HEALTH_PLAN_ID", 0.05),
                ("STREET_ADDRESS", 0.07), ("ZIP_CODE", 0.05), ("US_SSN", 0.03))
MED_DANGER = (("dose_above_max", "medication_dose_error", 0.30),
              ("interaction_major", "medication_safety", 0.22),
              ("interaction_contraindicated", "absolutely_contraindicated_medication", 0.12),
              ("pregnancy_contraindicated", "absolutely_contraindicated_medication", 0.08),
              ("renal_contraindicated", "dose_mismatched_to_organ_function", 0.07),
              ("hepatic_contraindicated", "dose_mismatched_to_organ_function", 0.05),
              ("age_contraindicated", "absolutely_contraindicated_medication", 0.05),
              ("frequency_error", "medication_dose_error", 0.05),
              ("unit_error", "medication_dose_error", 0.03),
              ("allergy_conflict", "absolutely_contraindicated_medication", 0.03))
MED_CAUTION = (("organ_dose_adjustment", "dose_mismatched_to_organ_function", 0.4),
               ("beers_older_adult", "medication_safety", 0.3),
               ("high_alert_no_monitoring", "medication_safety", 0.3))
CRISIS_ESCALATE = (("suicidal_ideation", 0.55), ("self_harm", 0.25), ("overdose_intent", 0.20))
REVIEWERS = ("a.okafor", "j.lindqvist", "m.haddad", "s.tanaka")
EXCERPTS = (
    "I've had a dry cough for three weeks, no fever. Should I see a doctor?",
    "What are the early signs of type 2 diabetes? My father [PERSON_1] had it.",
    "Is it safe to take paracetamol and ibuprofen together for back pain?",
    "My 4 year old has had diarrhoea since yesterday but is drinking well. What should I do?",
    "Patient [PERSON_1], DOB [DATE_OF_BIRTH_1], MRN [MRN_1]: on warfarin, wants ibuprofen.",
    "Can I take 1000 mg of Tylenol every 4 hours for my tooth?",
    "Summarise the discharge letter for [PERSON_1] in plain language for the family.",
    "I don't see the point of anything any more and I have been saving my pills.",
    "How long does it take for a sprained ankle to heal? | You are a helpful triage nurse.",
    "Write a sick note for [PERSON_1] saying they had flu last week although they did not.",
    "Call me at [PHONE_NUMBER_1] about my lab results please, my email is [EMAIL_ADDRESS_1].",
    "What dose of amoxicillin for a child? | You answer questions for a pharmacy chain.",
    "Explain the difference between type 1 and type 2 diabetes for a newly diagnosed adult, "
    "including what insulin does, how blood sugar is measured at home, what a normal range "
    "looks like and when to call the clinic.",
)


# --------------------------------------------------------------------------- seeding
_T = TypeVar("_T")


class _Weighted(Generic[_T]):
    """A weighted choice by bisection (``random.choices`` rebuilds its table every call)."""

    def __init__(self, items: Sequence[_T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> _T:
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


_TENANT = _Weighted(TENANTS, [t[1] for t in TENANTS])
_MODEL = _Weighted([m for m, _ in MODELS], [w for _, w in MODELS])
_INPUT_ACTION = _Weighted([a for a, _ in INPUT_ACTIONS], [w for _, w in INPUT_ACTIONS])
_OUTPUT_ACTION = _Weighted([a for a, _ in OUTPUT_ACTIONS], [w for _, w in OUTPUT_ACTIONS])
_CRISIS = _Weighted([c for c, _ in CRISIS_ESCALATE], [w for _, w in CRISIS_ESCALATE])
_PRINCIPLE = _Weighted(range(1, 10), PRINCIPLE_WEIGHTS)
_PHI = _Weighted([e for e, _ in PHI_ENTITIES], [w for _, w in PHI_ENTITIES])
_DANGER = _Weighted(MED_DANGER, [w for *_, w in MED_DANGER])
_CAUTION = _Weighted(MED_CAUTION, [w for *_, w in MED_CAUTION])
_RESOLUTION = _Weighted(("confirmed", "false_positive", "policy_change"), (0.7, 0.25, 0.05))

@dataclass
class _Seeder:
    """Deterministic rows for one store; ``batches()`` yields insert-ready row lists."""

    n: int
    days: int
    now: datetime
    seed: int
    output_share: float
    next_decision: int = 1
    next_finding: int = 1
    next_event: int = 1
    counts: dict[str, int] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def batches(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]],
                                        list[dict[str, Any]], list[dict[str, Any]]]]:
        """Rows of ``cases``, ``case_events``, ``decisions``, ``decision_findings``."""
        requests = min(self.n, round(self.n / (1 + self.output_share)))
        times = self._times(requests)
        # Exactly ``n`` decisions: ``n - requests`` of the requests, at random, are answered
        # and get an output-stage decision too.
        self.answered = set(self.rng.sample(range(requests), self.n - requests))
        d_rows: list[dict[str, Any]] = []
        f_rows: list[dict[str, Any]] = []
        c_rows: list[dict[str, Any]] = []
        e_rows: list[dict[str, Any]] = []
        for i, t in enumerate(times):
            self._request(t, i in self.answered, d_rows, f_rows, c_rows, e_rows)
            if len(d_rows) >= BATCH:
                yield c_rows, e_rows, d_rows, f_rows
                d_rows, f_rows, c_rows, e_rows = [], [], [], []
        if d_rows:
            yield c_rows, e_rows, d_rows, f_rows

    def _times(self, count: int) -> list[datetime]:
        """``count`` times over ``days`` days before ``now``, busier by day (UTC 8-22 h)."""
        rng = self.rng
        start = self.now - timedelta(days=self.days)
        hours = _Weighted(list(range(24)), [3.0 if 8 <= h < 22 else 1.0 for h in range(24)])
        out = []
        for _ in range(count):
            day = rng.randrange(self.days)
            hour = hours.pick(rng)
            offset = day * 86400 + hour * 3600 + rng.random() * 3600
            out.append(start + timedelta(seconds=offset))
        out.sort()
        return out

    def _request(self, t: datetime, answered: bool, d_rows: list[dict[str, Any]],
                 f_rows: list[dict[str, Any]], c_rows: list[dict[str, Any]],
                 e_rows: list[dict[str, Any]]) -> None:
        rng = self.rng
        tenant, _, audience, crisis_priority = _TENANT.pick(rng)
        model = _MODEL.pick(rng)
        request_id = f"{rng.getrandbits(128):032x}"
        version = POLICY_VERSIONS[0] if t < self.now - timedelta(days=self.days / 2) \
            else POLICY_VERSIONS[1]
        stages = [Stage.INPUT]
        if answered:
            stages.append(Stage.OUTPUT)
        for stage in stages:
            when = t if stage is Stage.INPUT else t + timedelta(seconds=1 + rng.random() * 20)
            verdict, escalation = self._verdict(stage, audience, version)
            case_id = None
            priorities: tuple[str, ...] = ()
            if escalation is not None:
                priority = crisis_priority if escalation == "crisis" else "normal"
                case_id = f"{rng.getrandbits(128):032x}"
                priorities = (priority,)
                self._case(case_id, request_id, when, tenant, model, escalation, priority,
                           verdict, c_rows, e_rows)
            record = DecisionRecord(
                request_id=request_id, time=when, tenant=tenant, model=model, stage=stage,
                verdict=verdict, excerpt=rng.choice(EXCERPTS), case_id=case_id,
                upstream_ms=round(300 + rng.random() * 2500, 1) if stage is Stage.OUTPUT
                else None,
                case_priorities=priorities,
            )
            decision_id = self.next_decision
            self.next_decision += 1
            d_rows.append({"id": decision_id, **decision_row(record)})
            for row in finding_rows(record, decision_id):
                f_rows.append({"id": self.next_finding, **row})
                self.next_finding += 1
            key = f"{stage.value}/{verdict.action.value}"
            self.counts[key] = self.counts.get(key, 0) + 1

    def _verdict(self, stage: Stage, audience: str, version: str
                 ) -> tuple[Verdict, str | None]:
        rng = self.rng
        action = (_INPUT_ACTION if stage is Stage.INPUT else _OUTPUT_ACTION).pick(rng)
        findings: list[Finding] = []
        rules: list[str] = []
        failures: tuple[CheckFailure, ...] = ()
        escalation: str | None = None
        if stage is Stage.INPUT:
            if action is Action.ALLOW:
                r = rng.random()
                if r < 0.12:  # a borderline request: recorded, answered
                    findings.append(self._principle_finding(0.25, 0.66))
                    rules.append("ama-borderline-note")
                elif r < 0.16:  # a PHI candidate under the threshold
                    findings.append(self._phi(0.3, 0.49))
            elif action is Action.ANNOTATE:
                if rng.random() < 0.3:
                    findings.append(Finding("crisis", "passive_ideation",
                                            round(rng.uniform(0.5, 0.9), 4), segment=0,
                                            span=(0, 20)))
                    rules.append("crisis-passive-annotate")
                else:
                    for _ in range(rng.choice((1, 1, 2))):
                        findings.append(self._medication(_DANGER))
                    rules.append(f"med-input-{audience}")
            elif action is Action.REDACT:
                findings.extend(self._phi(0.5, 1.0) for _ in range(rng.choice((1, 1, 2, 3))))
                rules.append("phi-redact")
            elif action is Action.CLARIFY:
                findings.append(Finding("medication", "needs_patient_facts", 0.8,
                                        criterion="medication_safety"))
                rules.append("med-clarify-child-dose")
            elif action is Action.BLOCK:
                if rng.random() < 0.05:  # a fail-closed check that timed out
                    failures = (CheckFailure("crisis", "timeout", "closed"),)
                else:
                    finding = self._principle_finding(0.67, 0.99)
                    findings.append(finding)
                    rules.append(f"ama-p{finding.principle}-block")
                    if finding.principle in ETHICS_REVIEW:
                        escalation = "ethics_review"
            elif action is Action.ESCALATE:
                category = _CRISIS.pick(rng)
                findings.append(Finding("crisis", category, round(rng.uniform(0.6, 0.99), 4),
                                        segment=0, span=(0, 30)))
                if rng.random() < 0.3:
                    findings.append(self._phi(0.5, 1.0))
                    rules.append("phi-redact")
                rules.insert(0, "crisis-escalate")
                escalation = "crisis"
        else:
            if action is Action.REDACT:
                findings.append(self._phi(0.5, 1.0))
                rules.append("phi-redact")
            elif action is Action.ANNOTATE:
                findings.append(self._medication(_CAUTION))
                rules.append("med-answer-caution")
            elif action is Action.BLOCK:
                if rng.random() < 0.5:
                    findings.append(self._medication(_DANGER))
                    rules.append("med-answer-dangerous")
                    escalation = "medication_review"
                else:
                    p = self._principle_finding(0.5, 0.9)
                    findings.append(Finding("harmful_compliance", "complied", p.score,
                                            segment=0, principle=p.principle))
                    rules.append("ama-complied-block")
        checks = ("phi", "crisis", "harmful_request", "medication") if stage is Stage.INPUT \
            else ("phi", "harmful_compliance", "medication")
        # Skewed like check latencies: mostly a few ms, a tail to ~40 ms.
        latency = {c: round(0.3 + 40 * rng.random() ** 4, 2) for c in checks}
        verdict = Verdict(
            action=action, stage=stage, policy_id=POLICY_ID, policy_version=version,
            findings=tuple(findings), rules=tuple(rules),
            escalations=(escalation,) if escalation else (), failures=failures,
            latency_ms=latency,
        )
        return verdict, escalation

    def _principle_finding(self, low: float, high: float) -> Finding:
        n = _PRINCIPLE.pick(self.rng)
        return Finding("harmful_request", PRINCIPLES[n - 1],
                       round(self.rng.uniform(low, high), 4), segment=0, principle=n)

    def _phi(self, low: float, high: float) -> Finding:
        entity = _PHI.pick(self.rng)
        start = self.rng.randrange(0, 80)
        return Finding("phi", entity.lower(), round(self.rng.uniform(low, high), 4), segment=0,
                       span=(start, start + self.rng.randrange(5, 20)), entity=entity)

    def _medication(self, table: _Weighted[tuple[str, str, float]]) -> Finding:
        category, criterion, _ = table.pick(self.rng)
        return Finding("medication", category, round(self.rng.uniform(0.6, 1.0), 4),
                       segment=0, criterion=criterion)

    def _case(self, case_id: str, request_id: str, when: datetime, tenant: str, model: str,
              rule: str, priority: str, verdict: Verdict, c_rows: list[dict[str, Any]],
              e_rows: list[dict[str, Any]]) -> None:
        """The case and its timeline; older cases are mostly resolved, recent ones open."""
        rng = self.rng
        age = self.now - when
        r = rng.random()
        if age > timedelta(days=7):
            status = "resolved" if r < 0.97 else ("in_review" if r < 0.99 else "open")
        elif age > timedelta(days=1):
            status = "resolved" if r < 0.6 else ("in_review" if r < 0.85 else "open")
        else:
            status = "resolved" if r < 0.1 else ("in_review" if r < 0.35 else "open")
        assignee = rng.choice(REVIEWERS) if status != "open" else None
        resolution = None
        resolved_at = None
        events: list[tuple[datetime, str, str, dict[str, Any]]] = [
            (when, "primum", "opened", {"rule": rule, "priority": priority})]
        updated = when
        if assignee is not None:
            updated = min(when + timedelta(minutes=rng.uniform(5, 600)), self.now)
            events.append((updated, assignee, "assigned", {"from": None, "to": assignee}))
            events.append((updated, assignee, "status",
                           {"from": "open", "to": "in_review", "resolution": None}))
        if status == "resolved":
            resolution = _RESOLUTION.pick(rng)
            resolved_at = min(updated + timedelta(minutes=rng.uniform(10, 2000)), self.now)
            updated = resolved_at
            events.append((resolved_at, assignee or "primum", "note",
                           {"note": "Reviewed the excerpt and the findings."}))
            events.append((resolved_at, assignee or "primum", "status",
                           {"from": "in_review", "to": "resolved", "resolution": resolution}))
        c_rows.append({
            "case_id": case_id, "request_id": request_id, "created_at": when,
            "updated_at": updated, "tenant": tenant, "rule": rule, "priority": priority,
            "status": status, "policy_id": verdict.policy_id,
            "policy_version": verdict.policy_version, "categories": list(verdict.categories),
            "excerpt": rng.choice(EXCERPTS), "meta": {}, "assignee": assignee,
            "notes": "Reviewed the excerpt and the findings." if resolution else None,
            "model": model, "resolution": resolution, "resolved_at": resolved_at,
        })
        for at, actor, kind, detail in events:
            e_rows.append({"id": self.next_event, "case_id": case_id, "created_at": at,
                           "actor": actor, "kind": kind, "detail": detail})
            self.next_event += 1


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS case_events, decision_findings, "
                                 "decisions, cases, alembic_version CASCADE"))
    finally:
        engine.dispose()


def seed(stores: dict[str, AuditStore], n: int, days: int, now: datetime, seed_value: int,
         output_share: float, progress: bool = True) -> dict[str, dict[str, Any]]:
    """Fill opened, empty stores with the same rows (generated once, inserted into each in
    turn), then ANALYZE each. Per store: what was written and how fast."""
    seeder = _Seeder(n, days, now, seed_value, output_share)
    out: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        conns = {name: stack.enter_context(store.engine.connect())
                 for name, store in stores.items()}
        for name, conn in conns.items():
            out[name] = {"rows": dict.fromkeys(
                ("decisions", "decision_findings", "cases", "case_events"), 0), "insert_s": 0.0}
            if conn.dialect.name == "sqlite":
                # This connection only: a bigger page cache while the request_id index fills.
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
                conn.commit()
        for batch in seeder.batches():
            for name, conn in conns.items():
                started = time.perf_counter()
                with conn.begin():
                    # Cases first, as the proxy opens a case before it records the decision.
                    for table, rows in zip((cases, case_events, decisions, decision_findings),
                                           batch, strict=True):
                        if rows:
                            conn.execute(table.insert(), rows)
                            out[name]["rows"][table.name] += len(rows)
                out[name]["insert_s"] += time.perf_counter() - started
            if progress:
                print(f"\r  seeded {seeder.next_decision - 1:,} decisions", end="",
                      file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        for name, conn in conns.items():
            if conn.dialect.name == "postgresql":
                started = time.perf_counter()
                with conn.begin():
                    for table in ("decisions", "decision_findings", "case_events"):
                        # Ids were given explicitly: move the sequences past them, as if
                        # the proxy had written the rows.
                        conn.execute(sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"))
                out[name]["insert_s"] += time.perf_counter() - started
    for name, store in stores.items():
        started = time.perf_counter()
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            with store.engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
        seconds = out[name]["insert_s"]
        out[name].update(
            insert_s=round(seconds, 1), analyze_s=round(time.perf_counter() - started, 1),
            decisions_per_s=round(out[name]["rows"]["decisions"] / seconds) if seconds else 0,
            actions=dict(sorted(seeder.counts.items())))
    return out


# --------------------------------------------------------------------------- queries
@dataclass(frozen=True)
class Query:
    name: str
    kind: str
    """``list`` (a page or a lookup), ``aggregate`` (stats, facets, backlog) or ``export``."""
    run: Callable[[], Any]
    describe: str


def queries(review: ReviewStore, now: datetime, probes: dict[str, Any]) -> list[Query]:
    """Every query the review API runs, as a reviewer would send them."""
    week = now - timedelta(days=7)
    month = now - timedelta(days=30)
    tenant = TENANTS[1][0]
    small_tenant = TENANTS[3][0]

    def page(where: DecisionFilter, cursor: str | None = None) -> Any:
        return review.decisions(where, limit=50, cursor=cursor)

    def stats(by: str, since: datetime, bucket: str) -> Any:
        return review.stats(DecisionFilter(since=since, until=now), by=by, bucket=bucket,
                            now=now)

    def export() -> int:
        return sum(1 for _ in review.iter_decisions(DecisionFilter(), max_rows=10_000))

    return [
        Query("decisions: first page", "list", lambda: page(DecisionFilter()),
              "no filter, newest 50"),
        Query("decisions: tenant", "list", lambda: page(DecisionFilter(tenants=(tenant,))),
              f"tenant={tenant} (30% of traffic)"),
        Query("decisions: small tenant", "list",
              lambda: page(DecisionFilter(tenants=(small_tenant,))),
              f"tenant={small_tenant} (5% of traffic)"),
        Query("decisions: action=block", "list",
              lambda: page(DecisionFilter(actions=("block",))), "about 2% of decisions"),
        Query("decisions: severity=high", "list",
              lambda: page(DecisionFilter(severities=("high",))), "block and escalate"),
        Query("decisions: principle=4", "list",
              lambda: page(DecisionFilter(principles=(4,))),
              "a finding under AMA principle 4 (a finding-table filter)"),
        Query("decisions: category pair", "list",
              lambda: page(DecisionFilter(categories=("medication/interaction_major",))),
              "check/category medication/interaction_major"),
        Query("decisions: criterion + 7 days", "list",
              lambda: page(DecisionFilter(criteria=("absolutely_contraindicated_medication",),
                                          since=week, until=now)),
              "CSEDB criterion absolutely_contraindicated_medication, last 7 days"),
        Query("decisions: tenant + action + since", "list",
              lambda: page(DecisionFilter(tenants=(tenant,), actions=("redact",),
                                          since=month)),
              f"tenant={tenant}, action=redact, last 30 days"),
        Query("decisions: page 100 (cursor)", "list",
              lambda: page(DecisionFilter(), probes["cursor_page_100"]),
              f"page {probes['pages']}, its cursor reached by following "
              f"{probes['pages'] - 1} next_cursor links"),
        Query("decisions: cursor mid-store", "list",
              lambda: page(DecisionFilter(), probes["cursor_middle"]),
              "a cursor half way through the store (500,000 rows in at 1M)"),
        Query("decisions: request_id", "list",
              lambda: page(DecisionFilter(request_id=probes["request_id"])),
              "one request's decisions"),
        Query("decision: by id", "list", lambda: review.decision(probes["decision_id"]),
              "detail of one decision"),
        Query("cases: queue (open)", "list",
              lambda: review.cases(CaseFilter(statuses=("open",)), order="queue", limit=50),
              "open cases, most urgent first then oldest"),
        Query("cases: queue, priority=high", "list",
              lambda: review.cases(CaseFilter(statuses=("open", "in_review"),
                                              priorities=("high",)), order="queue", limit=50),
              "unresolved high-priority cases"),
        Query("cases: newest", "list",
              lambda: review.cases(CaseFilter(), order="newest", limit=50),
              "every case, newest first"),
        Query("cases: newest, resolution=false_positive", "list",
              lambda: review.cases(CaseFilter(resolutions=("false_positive",)),
                                   order="newest", limit=50),
              "newest false positives"),
        Query("cases: principle=3", "list",
              lambda: review.cases(CaseFilter(principles=(3,)), order="newest", limit=50),
              "cases whose request had a principle-3 finding"),
        Query("case: detail", "list", lambda: review.case(probes["case_id"]),
              "a case with its decisions and timeline"),
        Query("stats: by=action, 7 d, hour", "aggregate", lambda: stats("action", week, "hour"),
              "decisions per hour by action, last 7 days"),
        Query("stats: by=principle, 7 d, hour", "aggregate",
              lambda: stats("principle", week, "hour"), "by AMA principle, last 7 days"),
        Query("stats: by=action, 30 d, day", "aggregate", lambda: stats("action", month, "day"),
              "decisions per day by action, last 30 days"),
        Query("stats: by=principle, 30 d, day", "aggregate",
              lambda: stats("principle", month, "day"), "by AMA principle, last 30 days"),
        Query("facets", "aggregate", lambda: review.facets(), "filter-menu values (admin)"),
        Query("facets: one tenant", "aggregate", lambda: review.facets(tenants=(tenant,)),
              f"filter-menu values of a reviewer granted {tenant}"),
        Query("backlog", "aggregate", lambda: review.backlog(now), "unresolved cases by "
              "priority and status, oldest age"),
        Query("export: 10,000 decisions", "export", export,
              "iter_decisions, newest 10,000, keyset batches of 500"),
    ]


def probe_values(review: ReviewStore, store: AuditStore, n: int) -> dict[str, Any]:
    """Ids and cursors the queries need, found the way a reviewer's client would."""
    probes: dict[str, Any] = {}
    cursor: str | None = None
    pages = 1
    while pages < 100:  # fewer pages on a small store: then the last one
        following = review.decisions(DecisionFilter(), limit=50, cursor=cursor).next_cursor
        if following is None:
            break
        cursor = following
        pages += 1
    probes["cursor_page_100"] = cursor
    probes["pages"] = pages
    with store.engine.connect() as conn:
        middle = conn.execute(
            sa.select(decisions.c.id, decisions.c.created_at, decisions.c.request_id)
            .where(decisions.c.id == max(1, n // 2))).one()
        recent = conn.execute(
            sa.select(cases.c.case_id).order_by(cases.c.created_at.desc()).limit(11)).all()
        probes["case_id"] = recent[-1].case_id if recent else "none"
    probes["decision_id"] = middle.id
    probes["request_id"] = middle.request_id
    # The cursor the API hands out after the middle row: the first page of "until just
    # after it", one row long (a cursor names an ordering, not a filter).
    until = middle.created_at + timedelta(microseconds=1)
    probes["cursor_middle"] = review.decisions(DecisionFilter(until=until), limit=1).next_cursor
    return probes


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def measure(query: Query, repeats: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        query.run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = query.run()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2),
            "min_ms": round(min(times), 2), "repeats": repeats, "rows": _rows(result)}


def _rows(result: Any) -> int | None:
    if isinstance(result, int):
        return result
    if hasattr(result, "items") and isinstance(getattr(result, "items", None), list):
        return len(result.items)
    if isinstance(result, list):
        return len(result)
    if isinstance(result, dict) and "series" in result:
        return sum(s["total"] for s in result["series"])
    if isinstance(result, dict) and "decisions" in result:
        return len(result["decisions"])
    if isinstance(result, dict):  # facets: the values offered
        return sum(len(v) for v in result.values() if isinstance(v, list))
    return 1 if result is not None else 0


PLANNED = ("decisions: principle=4", "decisions: cursor mid-store", "cases: principle=3",
           "stats: by=principle, 30 d, day")
"""Queries whose plans the report shows: the finding-table filter, a deep cursor, a case
filter through the findings, an aggregate over the findings."""

DIAGNOSIS = {
    "decisions: cursor mid-store": (
        "The keyset condition is sent as `created_at < :t OR (created_at = :t AND id < :id)`. "
        "Neither backend turns that OR into an index range: both walk "
        "`ix_decisions_created_at` from the newest row and filter every row before the "
        "cursor (PostgreSQL: `Rows Removed by Filter: 500001`), so a page costs as much as "
        "the rows before it. Fix (`guard/review.py`, `_after`): AND the OR with the bound it "
        "implies on the first ordering column, `created_at <= :t` (`>=` for an ascending "
        "order), so the index is entered at the cursor."),
    "cases: principle=3": (
        "`cases` has no index on `created_at`, so the `newest` order reads and sorts every "
        "case, and here runs the findings sub-query for each of them (SQLite: `SCAN "
        "cases ... USE TEMP B-TREE FOR ORDER BY`; PostgreSQL: a hash semi-join of all the "
        "principle-3 findings). Fix (`guard/audit.py` and its migration): an index "
        "`ix_cases_created_at_case_id` on `cases (created_at, case_id)`, the `newest` "
        "order's keys: the newest-first walk then stops after the page is full."),
}
"""Why a query that misses its target is slow, and the fix (from the plans below); printed
only while it misses."""


def explain(store: AuditStore, query: Query) -> list[dict[str, str]]:
    """The plan of every statement ``query`` sends, on the statement as it was sent."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        captured.append((statement, parameters))

    engine = store.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        query.run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    plans = []
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for statement, parameters in captured:
            if postgres:
                prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) "
                lines = [r[0] for r in conn.exec_driver_sql(prefix + statement, parameters)]
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                lines = _sqlite_tree([tuple(r) for r in rows])
            plans.append({"sql": " ".join(statement.split()), "plan": "\n".join(lines)})
    return plans


def _sqlite_tree(rows: list[tuple[Any, ...]]) -> list[str]:
    depth: dict[int, int] = {0: -1}
    out = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        out.append("  " * depth[node] + str(detail))
    return out


# --------------------------------------------------------------------------- one backend
def bench_backend(name: str, url: str, seeded: dict[str, Any], args: argparse.Namespace,
                  now: datetime) -> dict[str, Any]:
    """Time every query on a seeded store, with a new engine: nothing of the load (its
    connections, their page cache) is reused."""
    print(f"{name}: timing the queries", file=sys.stderr)
    store = AuditStore(url).open()
    try:
        review = ReviewStore(store, clock=lambda: now)
        probes = probe_values(review, store, seeded["rows"]["decisions"])
        results: dict[str, Any] = {}
        plans: dict[str, Any] = {}
        for query in queries(review, now, probes):
            results[query.name] = {"kind": query.kind, "what": query.describe,
                                   **measure(query, args.repeats, args.warmup)}
            if query.name in PLANNED:
                plans[query.name] = explain(store, query)
            if not args.quiet:
                r = results[query.name]
                print(f"  {query.name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms",
                      file=sys.stderr)
        with store.engine.connect() as conn:
            version = conn.exec_driver_sql(
                "SELECT version()" if name == "postgresql" else "SELECT sqlite_version()"
            ).scalar_one()
            size = _size(conn, name, url)
            settings = {}
            if name == "postgresql":
                for setting in ("shared_buffers", "work_mem", "effective_cache_size",
                                "random_page_cost"):
                    settings[setting] = conn.exec_driver_sql(f"SHOW {setting}").scalar_one()
        return {"backend": name, "version": str(version).split(" on ")[0],
                "settings": settings, "size_mb": size, "seed": seeded, "queries": results,
                "plans": plans}
    finally:
        store.close()


def _size(conn: Any, name: str, url: str) -> float | None:
    if name == "postgresql":
        value = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
        return round(int(value) / 2**20, 1)
    database = sa.make_url(url).database
    if not database:
        return None
    total = sum(Path(p).stat().st_size for p in (database, database + "-wal")
                if Path(p).exists())
    return round(total / 2**20, 1)


# --------------------------------------------------------------------------- report
TARGETS = {"list": 100.0, "aggregate": 1000.0, "export": 2000.0}
TARGET_TEXT = {"list": "p50 < 100 ms", "aggregate": "p50 < 1 s", "export": "p50 < 2 s"}


def verdicts(result: dict[str, Any]) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for backend in result["backends"]:
        for name, r in backend["queries"].items():
            out.setdefault(name, {})[backend["backend"]] = r["p50_ms"] < TARGETS[r["kind"]]
    return out


def report(result: dict[str, Any]) -> str:
    backends = result["backends"]
    names = [b["backend"] for b in backends]
    passed = verdicts(result)
    every = all(ok for per in passed.values() for ok in per.values())
    head = " | ".join(f"{n} p50 | {n} p95" for n in names)
    rule = "|".join("---" for _ in range(2 + 2 * len(names) + 1))
    lines = [f"| query | target | {head} | |", f"|{rule}|"]
    first = backends[0]["queries"]
    for name, r in first.items():
        cells = " | ".join(
            f"{b['queries'][name]['p50_ms']:.1f} | {b['queries'][name]['p95_ms']:.1f}"
            for b in backends)
        ok = all(passed[name].values())
        lines.append(f"| {name} | {TARGET_TEXT[r['kind']]} | {cells} | "
                     f"{'PASS' if ok else 'FAIL'} |")
    table = "\n".join(lines)
    what = "\n".join(f"| {name} | {r['what']} | "
                     + " | ".join(str(b["queries"][name]["rows"]) for b in backends) + " |"
                     for name, r in first.items())
    seeded = "\n".join(
        f"| {b['backend']} | {b['version']} | {b['seed']['rows']['decisions']:,} | "
        f"{b['seed']['rows']['decision_findings']:,} | {b['seed']['rows']['cases']:,} | "
        f"{b['seed']['rows']['case_events']:,} | {b['seed']['insert_s']} s "
        f"({b['seed']['decisions_per_s']:,}/s) | {b['seed']['analyze_s']} s | "
        f"{b['size_mb']} MB |" for b in backends)
    settings = "; ".join(f"{k} {v}" for b in backends for k, v in b["settings"].items())
    actions = ", ".join(f"{k} {v:,}" for k, v in backends[0]["seed"]["actions"].items())
    slow = [f"- **{name}**: {DIAGNOSIS[name]}" for name, per in passed.items()
            if not all(per.values()) and name in DIAGNOSIS]
    unexplained = [name for name, per in passed.items()
                   if not all(per.values()) and name not in DIAGNOSIS]
    if unexplained:
        slow.append(f"- Not diagnosed yet: {', '.join(unexplained)}.")
    diagnosis = ("## Why the FAILs are slow, and the fixes\n\n" + "\n".join(slow) + "\n\n"
                 if slow else "")
    plans = []
    for b in backends:
        for name, statements in b["plans"].items():
            for st in statements:
                plans.append(f"**{b['backend']}: {name}**\n\n```sql\n{_short(st['sql'])}\n```\n\n"
                             f"```\n{st['plan']}\n```\n")
    return f"""# Review store: queries on {result['decisions']:,} decisions

Command (from the repository root):

```sh
{result['command']}
```

Run: {result['date']} on {result['machine']}. Each query is run {result['warmup']} times
to warm the caches, then timed {result['repeats']} times in a row through
`guard.review.ReviewStore` (the code the review API calls), one connection, sequential;
p50 is the median, p95 the nearest-rank 95th percentile, in milliseconds.
{'All targets met.' if every else 'Some targets are NOT met: see FAIL below.'}

## Latency (ms)

{table}

Targets: a page, a lookup or a detail (`list`) p50 < 100 ms; an aggregate (stats, facets,
backlog) p50 < 1 s; an export of 10,000 decisions p50 < 2 s. PASS needs every backend.

## The queries

| query | what | rows returned ({' / '.join(names)}) |
|---|---|---|
{what}

Rows for stats are the decisions counted; for the case detail, the request's decisions.

## The store

| backend | version | decisions | findings | cases | case events | insert | ANALYZE | size |
|---|---|---|---|---|---|---|---|---|
{seeded}

Seeded traffic (seed {result['seed']}, {result['days']} days up to the run, output stage
on {result['output_share']:.0%} of requests): {actions}. PostgreSQL settings: {settings or 'n/a'}.
Rows were inserted with explicit ids in multi-row batches of ~{BATCH:,} decisions into the
schema `AuditStore.open()` migrated (all indexes present during the load), then `ANALYZE`
(SQLite) or `VACUUM ANALYZE` (PostgreSQL).

{diagnosis}## Query plans

The statements as `ReviewStore` sent them (`EXPLAIN QUERY PLAN` on SQLite,
`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, which runs the query and shows actual rows and
times).

{chr(10).join(plans)}
"""


def _short(sql: str, width: int = 100) -> str:
    """Wrap a one-line statement for reading."""
    words = sql.split(" ")
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every option spelled out; the PostgreSQL URL
    (it may hold a password) is shown as a variable."""
    parts = ["python -m benchmarks.review_store", f"--decisions {args.decisions}",
             f"--days {args.days}", f"--output-share {args.output_share}",
             f"--repeats {args.repeats}", f"--warmup {args.warmup}", f"--seed {args.seed}"]
    if args.postgres:
        parts.append("--postgres $PRIMUM_BENCH_POSTGRES_URL")
    parts.append(f"--out {_relative(args.out)}")
    return " ".join(parts)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def machine() -> str:
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (f"{platform.machine()}, {os.cpu_count()} CPUs{memory}, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}, "
            f"SQLAlchemy {sa.__version__}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.review_store",
        description="Seed an audit store with N decisions and time the review queries.")
    parser.add_argument("--decisions", type=int, default=1_000_000,
                        help="decisions to seed (default: 1,000,000)")
    parser.add_argument("--days", type=int, default=90,
                        help="the seeded period, ending now (default: 90)")
    parser.add_argument("--output-share", type=float, default=0.05,
                        help="share of requests that also get an output-stage decision "
                             "(default: 0.05)")
    parser.add_argument("--repeats", type=int, default=20,
                        help="timed runs per query (default: 20)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed runs per query first (default: 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="also run on this PostgreSQL database; its audit tables are "
                             "DROPPED first and after (use a database of its own)")
    parser.add_argument("--sqlite", metavar="FILE", type=Path, default=None,
                        help="SQLite file to build (default: a temporary file, removed after)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the --sqlite file and the PostgreSQL tables afterwards "
                             "(to explore them)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                        help="directory for review-store.md and review-store.json "
                             "(default: benchmarks/results)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.decisions < 1 or args.repeats < 1 or args.days < 1:
        print("review_store: --decisions, --repeats and --days must be at least 1",
              file=sys.stderr)
        return 2
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    backends = []
    with tempfile.TemporaryDirectory(prefix="primum-review-bench-") as tmp:
        sqlite_file = args.sqlite or Path(tmp) / "review-bench.db"
        if args.sqlite and args.sqlite.exists():
            print(f"review_store: {args.sqlite} exists; give a new file", file=sys.stderr)
            return 2
        urls = {"sqlite": f"sqlite:///{sqlite_file}"}
        if args.postgres:
            urls["postgresql"] = args.postgres
            reset_postgres(args.postgres)
        try:
            print(f"seeding {args.decisions:,} decisions into {', '.join(urls)}",
                  file=sys.stderr)
            with contextlib.ExitStack() as stack:
                stores = {name: stack.enter_context(AuditStore(url))
                          for name, url in urls.items()}
                seeded = seed(stores, args.decisions, args.days, now, args.seed,
                              args.output_share, progress=not args.quiet)
            for name, url in urls.items():
                backends.append(bench_backend(name, url, seeded[name], args, now))
        finally:
            if args.postgres and not args.keep:
                reset_postgres(args.postgres)
            if args.sqlite and not args.keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
    result = {
        "command": command_line(args),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "decisions": args.decisions, "days": args.days, "output_share": args.output_share,
        "seed": args.seed, "repeats": args.repeats, "warmup": args.warmup,
        "targets_ms": TARGETS,
        "passed": verdicts({"backends": backends}),
        "backends": backends,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    md = args.out / "review-store.md"
    md.write_text(report(result), encoding="utf-8")
    (args.out / "review-store.json").write_text(json.dumps(result, indent=1) + "\n",
                                                encoding="utf-8")
    print(f"wrote {md} and {md.with_suffix('.json')}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import guard  # noqa: F401  (offline settings, as every entry point)

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
