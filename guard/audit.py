"""The audit store: every decision and every review case, kept without raw PHI.

Safety teams review what the guard did weeks later, so the store keeps what a reviewer
needs to understand a decision (action, policy version, finding categories, scores,
offsets, which checks failed and how slowly they ran, a redacted excerpt) and nothing
that could re-identify a patient: a finding's explanation and a failure's detail are
dropped, and the excerpt, already redacted upstream by contract, is capped in length.

SQLite (a file) is the default so that a single node needs nothing else; PostgreSQL by
URL for anything shared. The engine is synchronous SQLAlchemy; the ``Recorder`` methods
push the blocking work to a thread so the event loop never waits on the disk.

A write that fails raises. The store keeps no in-memory retry buffer: a buffer would
either lose records on restart anyway or grow without bound while the database is down,
and it would hide the outage. The caller (``MultiRecorder``) logs the failure and the
user still gets the answer; ``on_error`` lets the metrics count it so an alert fires.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import StaticPool

from guard.recording import CaseRecord, DecisionRecord
from guard.types import Action, Finding, Verdict

__all__ = [
    "DEFAULT_EXCERPT_CHARS",
    "DEFAULT_URL",
    "AuditStore",
    "Outbox",
    "StoreNotOpenError",
    "alembic_config",
    "case_events",
    "cases",
    "decision_findings",
    "decision_row",
    "decisions",
    "finding_rows",
    "metadata",
    "notifications",
]

DEFAULT_URL = "sqlite:///primum-audit.db"
DEFAULT_EXCERPT_CHARS = 500
_TRUNCATED = "…"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit key: it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK = 0x7072696D756D  # "primum"
_PRIORITY_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}
_UNRESOLVED = ("open", "in_review")

Outbox = Callable[[CaseRecord], Sequence[tuple[str, dict[str, Any]]]]
"""``deliveries(case) -> [(webhook name, payload)]``: the notifications a new case sends,
written in the case's own transaction (``guard.escalation.Notifier.deliveries``)."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always UTC and always tz-aware when read back.

    SQLite has no time zone type, so values are stored as naive UTC there and given
    their zone back on read; PostgreSQL stores ``timestamptz``. Naive datetimes are
    refused: guessing their zone would silently shift an audit trail by hours.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("audit timestamps must be tz-aware (use datetime.now(UTC))")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


metadata = sa.MetaData()
"""The schema the migrations build. Tests compare the two so they cannot drift."""

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("request_id", sa.String(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("tenant", sa.String(), nullable=False),
    sa.Column("model", sa.String(), nullable=False),
    sa.Column("stage", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("policy_id", sa.String(), nullable=False),
    sa.Column("policy_version", sa.String(), nullable=False),
    sa.Column("categories", _json(), nullable=False),
    sa.Column("findings", _json(), nullable=False),
    sa.Column("rules", _json(), nullable=False),
    sa.Column("failures", _json(), nullable=False),
    sa.Column("latency_ms", _json(), nullable=False),
    sa.Column("upstream_ms", sa.Float(), nullable=True),
    sa.Column("excerpt", sa.Text(), nullable=False),
    sa.Column("case_id", sa.String(), nullable=True),
    sa.Column("severity", sa.String(), nullable=False, server_default="none"),
    sa.Index("ix_decisions_created_at", "created_at"),
    sa.Index("ix_decisions_tenant_created_at", "tenant", "created_at"),
    sa.Index("ix_decisions_action_created_at", "action", "created_at"),
    sa.Index("ix_decisions_request_id", "request_id"),
    sa.Index("ix_decisions_model_created_at", "model", "created_at"),
    sa.Index("ix_decisions_severity_created_at", "severity", "created_at"),
    sa.Index("ix_decisions_case_id", "case_id"),
)

# One row per finding of a decision, so that "every decision with a principle-4 finding
# this week" is an index range scan instead of a JSON scan of a million rows. The findings
# JSON on the decision stays the record a reviewer reads; this table is its index.
decision_findings = sa.Table(
    "decision_findings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("decision_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
              sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("check", sa.String(), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("principle", sa.Integer(), nullable=True),
    sa.Column("criterion", sa.String(), nullable=True),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Index("ix_decision_findings_decision_id", "decision_id"),
    sa.Index("ix_decision_findings_check_category_created_at", "check", "category",
             "created_at"),
    sa.Index("ix_decision_findings_principle_created_at", "principle", "created_at"),
    sa.Index("ix_decision_findings_criterion_created_at", "criterion", "created_at"),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(), primary_key=True),
    sa.Column("request_id", sa.String(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("tenant", sa.String(), nullable=False),
    sa.Column("rule", sa.String(), nullable=False),
    sa.Column("priority", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("policy_id", sa.String(), nullable=False),
    sa.Column("policy_version", sa.String(), nullable=False),
    sa.Column("categories", _json(), nullable=False),
    sa.Column("excerpt", sa.Text(), nullable=False),
    sa.Column("meta", _json(), nullable=False),
    sa.Column("assignee", sa.String(), nullable=True),
    sa.Column("notes", sa.Text(), nullable=True),
    sa.Column("model", sa.String(), nullable=False, server_default=""),
    sa.Column("resolution", sa.String(), nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("merged_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("dedup_key", sa.String(), nullable=True),
    sa.Index("ix_cases_status_priority_created_at", "status", "priority", "created_at"),
    sa.Index("ix_cases_tenant_created_at", "tenant", "created_at"),
    sa.Index("ix_cases_request_id", "request_id"),
    sa.Index("ix_cases_created_at_case_id", "created_at", "case_id"),
    sa.Index("ix_cases_assignee_status", "assignee", "status"),
    sa.Index("ix_cases_dedup_key_created_at", "dedup_key", "created_at"),
)

# A case's timeline: opened, every status change, assignment and reviewer note, with who
# did it. Append-only; ``cases`` holds the current state.
case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("case_id", sa.String(), sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("detail", _json(), nullable=False),
    sa.Index("ix_case_events_case_id_id", "case_id", "id"),
)

# The outbox of webhook deliveries (guard.escalation): written in the transaction that
# opens the case, so a crash cannot lose a notification; delivered by a background worker
# that claims one row at a time. Rows are kept after delivery as the record of it.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("case_id", sa.String(), sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("webhook", sa.String(), nullable=False),
    sa.Column("event", sa.String(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_error", sa.String(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("payload", _json(), nullable=False),
    sa.Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_notifications_case_id", "case_id"),
)


class StoreNotOpenError(RuntimeError):
    """The store was used before ``open()`` (or after ``close()``)."""


@dataclass(frozen=True, slots=True)
class _Cap:
    chars: int

    def __call__(self, text: str) -> str:
        """Cut ``text`` to ``chars`` characters, marking the cut so a reviewer sees it."""
        if len(text) <= self.chars:
            return text
        if self.chars <= len(_TRUNCATED):
            return text[: self.chars]
        return text[: self.chars - len(_TRUNCATED)] + _TRUNCATED


def _finding(f: Finding) -> dict[str, Any]:
    # Deliberately not ``explanation``: free text written by a check may quote the input.
    return {
        "check": f.check,
        "category": f.category,
        "score": f.score,
        "entity": f.entity,
        "segment": f.segment,
        "span": list(f.span) if f.span is not None else None,
        "principle": f.principle,
        "criterion": f.criterion,
    }


def _latency(verdict: Verdict) -> dict[str, Any]:
    checks = {name: float(ms) for name, ms in verdict.latency_ms.items()}
    # Checks run concurrently, so the stage took as long as its slowest check, not the sum.
    return {"checks": checks, "total": max(checks.values(), default=0.0)}


def decision_row(
    record: DecisionRecord, excerpt_chars: int = DEFAULT_EXCERPT_CHARS
) -> dict[str, Any]:
    """The row stored for ``record``: every field a reviewer needs, no raw text but the excerpt."""
    v = record.verdict
    return {
        "request_id": record.request_id,
        "created_at": record.time,
        "tenant": record.tenant,
        "model": record.model,
        "stage": record.stage.value,
        "action": v.action.value,
        "policy_id": v.policy_id,
        "policy_version": v.policy_version,
        "categories": list(v.categories),
        "findings": [_finding(f) for f in v.findings],
        "rules": list(v.rules),
        # Not ``detail``: an exception message can carry the text that was being checked.
        "failures": [
            {"check": f.check, "reason": f.reason, "fail_mode": f.fail_mode} for f in v.failures
        ],
        "latency_ms": _latency(v),
        "upstream_ms": record.upstream_ms,
        "excerpt": _Cap(excerpt_chars)(record.excerpt),
        "case_id": record.case_id,
        "severity": record.severity,
    }


def finding_rows(record: DecisionRecord, decision_id: int) -> list[dict[str, Any]]:
    """The ``decision_findings`` index rows of a stored decision."""
    return [
        {
            "decision_id": decision_id,
            "created_at": record.time,
            "check": f.check,
            "category": f.category,
            "principle": f.principle,
            "criterion": f.criterion,
            "score": float(f.score),
        }
        for f in record.verdict.findings
    ]


def _case_row(case: CaseRecord, excerpt_chars: int) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "request_id": case.request_id,
        "created_at": case.time,
        "updated_at": case.time,
        "tenant": case.tenant,
        "rule": case.rule,
        "priority": case.priority,
        "status": case.status,
        "policy_id": case.policy_id,
        "policy_version": case.policy_version,
        "categories": list(case.categories),
        "excerpt": _Cap(excerpt_chars)(case.excerpt),
        "meta": dict(case.metadata),
        "assignee": None,
        "notes": None,
        "model": case.model,
        "resolution": None,
        "resolved_at": None,
        "merged_count": 0,
        "dedup_key": case.dedup_key,
    }


def _make_engine(url: str) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a PostgreSQL restart must not turn the next write into an error.
        return sa.create_engine(url, pool_pre_ping=True)
    memory = parsed.database in (None, "", ":memory:")
    engine = sa.create_engine(
        url,
        # Writes come from worker threads (asyncio.to_thread); several processes may share
        # the file, so wait for a lock rather than failing at once.
        connect_args={"check_same_thread": False, "timeout": 30},
        # One shared connection, or every thread would see its own empty in-memory database.
        poolclass=StaticPool if memory else None,
    )
    if not memory:
        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers (the review UI) run while a worker writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


class AuditStore:
    """Decisions and review cases in SQLite or PostgreSQL; a ``Recorder``.

    Construction does no I/O. ``open()`` connects and migrates the schema to head;
    ``close()`` releases the connections. ``on_error(operation)`` is called before a
    failed write re-raises, so the caller can count store errors in its metrics.

    ``merge_window_s``: a case with a ``dedup_key`` that matches an unresolved case of the
    same tenant and rule opened at most this long before is merged into it (0: never).
    ``deliveries``: the webhook notifications a new case sends, written with the case.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        excerpt_chars: int = DEFAULT_EXCERPT_CHARS,
        on_error: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        merge_window_s: float = 0.0,
        deliveries: Outbox | None = None,
    ) -> None:
        if excerpt_chars < 0:
            raise ValueError("excerpt_chars must be >= 0")
        if merge_window_s < 0:
            raise ValueError("merge_window_s must be >= 0")
        self.url = url
        self.excerpt_chars = excerpt_chars
        self.merge_window_s = merge_window_s
        self._deliveries = deliveries
        self._on_error = on_error
        self._clock = clock
        self._engine: Engine | None = None
        # An in-memory SQLite database is one shared connection: threads must take turns.
        self._serial: Lock | None = None

    # ----------------------------------------------------------------- lifecycle
    def open(self) -> AuditStore:
        """Connect and bring the schema to head. Safe to call from several processes at once."""
        if self._engine is None:
            engine = _make_engine(self.url)
            if isinstance(engine.pool, StaticPool):
                self._serial = Lock()
            try:
                _migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            self._engine = engine
        return self

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._serial = None

    def __enter__(self) -> AuditStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreNotOpenError("AuditStore.open() was not called")
        return self._engine

    def schema_revision(self) -> str | None:
        """The alembic revision the database is at (``None`` before any migration)."""
        with self._connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # ----------------------------------------------------------------- Recorder
    async def record_decision(self, record: DecisionRecord) -> None:
        await asyncio.to_thread(self.write_decision, record)

    async def open_case(self, case: CaseRecord) -> str | None:
        return await asyncio.to_thread(self.write_case, case)

    def write_decision(self, record: DecisionRecord) -> int:
        """Store one decision and its finding index rows in one transaction; its id."""
        row = decision_row(record, self.excerpt_chars)
        with self._failures_counted("record_decision"), self._begin() as conn:
            decision_id = int(
                conn.execute(decisions.insert().returning(decisions.c.id), row).scalar_one()
            )
            found = finding_rows(record, decision_id)
            if found:
                conn.execute(decision_findings.insert(), found)
        return decision_id

    def write_case(self, case: CaseRecord) -> str:
        """Store a new case with the ``opened`` event of its timeline and its webhook
        deliveries, in one transaction; or merge it into a recent unresolved duplicate.
        The id of the case the escalation now belongs to."""
        row = _case_row(case, self.excerpt_chars)
        event = {"case_id": case.case_id, "created_at": case.time, "actor": "primum",
                 "kind": "opened", "detail": {"rule": case.rule, "priority": case.priority}}
        outbox = list(self._deliveries(case)) if self._deliveries is not None else []
        with self._failures_counted("open_case"), self._begin() as conn:
            if case.dedup_key is not None and self.merge_window_s > 0:
                merged_into = self._merge(conn, case)
                if merged_into is not None:
                    return merged_into
            conn.execute(cases.insert(), row)
            conn.execute(case_events.insert(), event)
            if outbox:
                now = self._clock()
                conn.execute(notifications.insert(), [
                    {"id": uuid.uuid4().hex, "case_id": case.case_id, "webhook": webhook,
                     "event": str(payload.get("event", "case.opened")), "created_at": now,
                     "status": "pending", "attempts": 0, "next_attempt_at": now,
                     "last_error": None, "sent_at": None, "payload": payload}
                    for webhook, payload in outbox
                ])
        return case.case_id

    def _merge(self, conn: Connection, case: CaseRecord) -> str | None:
        """Merge ``case`` into the newest unresolved case with its key opened within the
        window: a ``merged`` event and ``merged_count + 1``. Its id, or ``None``.

        The key is locked first (PostgreSQL: an advisory lock on it; SQLite: the write
        lock), so two workers escalating the same thing at once cannot both open a case.
        """
        key = case.dedup_key
        assert key is not None
        if conn.dialect.name == "postgresql":
            lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        since = case.time - timedelta(seconds=self.merge_window_s)
        existing = conn.execute(
            sa.select(cases.c.case_id)
            .where(cases.c.dedup_key == key, cases.c.tenant == case.tenant,
                   cases.c.rule == case.rule, cases.c.status.in_(_UNRESOLVED),
                   cases.c.created_at >= since)
            .order_by(cases.c.created_at.desc(), cases.c.case_id.desc())
            .limit(1)
        ).scalar()
        if existing is None:
            return None
        conn.execute(cases.update().where(cases.c.case_id == existing)
                     .values(merged_count=cases.c.merged_count + 1, updated_at=case.time))
        conn.execute(case_events.insert(), {
            "case_id": existing, "created_at": case.time, "actor": "primum", "kind": "merged",
            "detail": {"request_id": case.request_id, "categories": list(case.categories),
                       "priority": case.priority}})
        return str(existing)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._serial or nullcontext(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self._serial or nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _failures_counted(self, operation: str) -> Iterator[None]:
        try:
            yield
        except (sa.exc.SQLAlchemyError, OSError):
            # Only the database failing counts: a reviewer's refused workflow change raised
            # inside a transaction is not a lost write.
            if self._on_error is not None:
                self._on_error(operation)
            raise

    # ----------------------------------------------------------------- reads
    def list_decisions(
        self,
        tenant: str | None = None,
        action: Action | str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        *,
        request_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first. ``since`` is inclusive and must be tz-aware."""
        query = sa.select(decisions)
        if tenant is not None:
            query = query.where(decisions.c.tenant == tenant)
        if action is not None:
            query = query.where(decisions.c.action == _value(action))
        if since is not None:
            query = query.where(decisions.c.created_at >= since)
        if request_id is not None:
            query = query.where(decisions.c.request_id == request_id)
        query = query.order_by(decisions.c.created_at.desc(), decisions.c.id.desc()).limit(limit)
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def count_decisions(self, tenant: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(decisions)
        if tenant is not None:
            query = query.where(decisions.c.tenant == tenant)
        with self._connect() as conn:
            return int(conn.execute(query).scalar_one())

    def get_case(self, case_id: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute(sa.select(cases).where(cases.c.case_id == case_id)).mappings()
            found = row.first()
            return dict(found) if found is not None else None

    def list_cases(
        self, status: str | None = None, tenant: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The review queue's order: most urgent priority first, then oldest first."""
        rank = sa.case(_PRIORITY_RANK, value=cases.c.priority, else_=len(_PRIORITY_RANK))
        query = sa.select(cases)
        if status is not None:
            query = query.where(cases.c.status == status)
        if tenant is not None:
            query = query.where(cases.c.tenant == tenant)
        query = query.order_by(rank, cases.c.created_at, cases.c.case_id).limit(limit)
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


def _value(action: Action | str) -> str:
    return action.value if isinstance(action, Action) else action


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An alembic ``Config`` for the migrations shipped in this package (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _migrate(engine: Engine) -> None:
    """Upgrade to head inside one transaction that holds a database-wide lock.

    Two workers starting together must not both create the tables. PostgreSQL: a
    transaction-scoped advisory lock serialises them and DDL is transactional, so the
    second sees head and does nothing. SQLite: ``BEGIN IMMEDIATE`` takes the write lock
    before alembic reads the version table, with the same effect.
    """
    with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                         {"key": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), "head")
