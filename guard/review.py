"""What a safety reviewer reads and changes in the audit store: filtered, paginated queries
over decisions and cases, the case workflow, time series for charts and the backlog.

Everything here works on what ``guard.audit`` stored, which holds no raw PHI (redacted
excerpts, categories, scores, offsets). The only free text a reviewer adds, a note, is
passed through the ``redact`` function the caller supplies before it is stored.

Pagination is by keyset (a cursor naming the last row seen), never by offset: page 500 of a
million decisions costs the same index range scan as page 1, and rows written while a
reviewer pages do not shift what the next page shows.

Filters on a finding's attributes (check, category, AMA principle, CSEDB criterion) go
through ``decision_findings`` (one indexed row per finding) and all apply to one and the
same finding: "check=medication, criterion=contraindicated" means a medication finding
under that criterion, not any medication finding in a decision that also has some other
finding under the criterion.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from guard.audit import AuditStore, case_events, cases, decision_findings, decisions
from guard.metrics import BacklogRow
from guard.recording import PRIORITIES, SEVERITIES
from guard.types import Action, Stage

__all__ = [
    "BUCKETS",
    "MAX_PAGE",
    "RESOLUTIONS",
    "STATS_BY",
    "STATUSES",
    "UNRESOLVED",
    "CaseFilter",
    "CaseNotFoundError",
    "CursorError",
    "DecisionFilter",
    "InvalidTransitionError",
    "InvalidUpdateError",
    "Page",
    "ReviewStore",
    "vocabulary",
]

STATUSES = ("open", "in_review", "resolved")
UNRESOLVED = ("open", "in_review")
RESOLUTIONS = ("confirmed", "false_positive", "policy_change")
STATS_BY = ("action", "principle", "category", "criterion", "severity", "stage")
BUCKETS = ("hour", "day")
MAX_PAGE = 500
MAX_SERIES = 10
MAX_NOTE_CHARS = 4000
_TRANSITIONS = {
    ("open", "in_review"), ("open", "resolved"),
    ("in_review", "open"), ("in_review", "resolved"),
    ("resolved", "in_review"),  # reopening: admins only (``allow_reopen``)
}
_PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}


class CursorError(ValueError):
    """A pagination cursor that this store did not hand out (or for another ordering)."""


class CaseNotFoundError(LookupError):
    pass


class InvalidTransitionError(ValueError):
    """A workflow change the case's current state does not allow; ``str()`` says why."""


class InvalidUpdateError(ValueError):
    """A case update that is wrong whatever the case's state (an unknown status, an empty
    note); ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class _Scope:
    """What decision and case filters share. Empty tuples mean "any"; ``tenants=None``
    means every tenant (an admin), while an empty tuple of tenants matches nothing (a
    reviewer granted none). ``since`` is inclusive, ``until`` exclusive, both tz-aware."""

    tenants: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    models: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    """Bare category names (``dose_above_max``) or ``check/category`` pairs."""
    principles: tuple[int, ...] = ()
    criteria: tuple[str, ...] = ()
    request_id: str | None = None

    def __post_init__(self) -> None:
        _aware(self.since, "since")
        _aware(self.until, "until")


@dataclass(frozen=True, slots=True)
class DecisionFilter(_Scope):
    stages: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseFilter(_Scope):
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class _Order:
    name: str
    columns: tuple[Any, ...]
    descending: bool
    time_at: int
    """Which key is the timestamp (decoded back to a datetime from the cursor)."""
    keys: Callable[[dict[str, Any]], list[Any]] = field(compare=False)


class ReviewStore:
    """Review queries and the case workflow over an opened ``AuditStore``.

    ``redact`` is applied to every reviewer note before it is stored (it should replace
    PHI with placeholders); ``clock`` stamps workflow events.
    """

    def __init__(
        self,
        store: AuditStore,
        *,
        redact: Callable[[str], str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self._redact = redact
        self._clock = clock

    # ------------------------------------------------------------------ decisions
    def decisions(
        self, where: DecisionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page:
        """Newest first."""
        order = _DECISION_ORDER
        query = sa.select(decisions).where(*_decision_conditions(where))
        return self._page(query, order, limit, cursor, _decision_out)

    def iter_decisions(
        self, where: DecisionFilter, *, max_rows: int | None = None, batch: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every matching decision, newest first, read in keyset batches (for exports)."""
        yield from self._iterate(self.decisions, where, max_rows, batch)

    def decision(self, decision_id: int, tenants: tuple[str, ...] | None = None
                 ) -> dict[str, Any] | None:
        query = sa.select(decisions).where(decisions.c.id == decision_id)
        if tenants is not None:
            query = query.where(decisions.c.tenant.in_(tenants))
        with self.store._connect() as conn:
            row = conn.execute(query).mappings().first()
        return _decision_out(dict(row)) if row is not None else None

    # ------------------------------------------------------------------ cases
    def cases(
        self,
        where: CaseFilter,
        *,
        order: Literal["queue", "newest"] = "queue",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """``queue``: most urgent priority first, then oldest first; ``newest``: newest first."""
        query = sa.select(cases).where(*_case_conditions(where))
        return self._page(query, _CASE_ORDERS[order], limit, cursor, _case_out)

    def iter_cases(
        self, where: CaseFilter, *, max_rows: int | None = None, batch: int = 1000,
        order: Literal["queue", "newest"] = "newest",
    ) -> Iterator[dict[str, Any]]:
        def page(w: CaseFilter, *, limit: int, cursor: str | None) -> Page:
            return self.cases(w, order=order, limit=limit, cursor=cursor)

        yield from self._iterate(page, where, max_rows, batch)

    def case(self, case_id: str, tenants: tuple[str, ...] | None = None
             ) -> dict[str, Any] | None:
        """A case with its request's decisions (oldest first) and its timeline."""
        query = sa.select(cases).where(cases.c.case_id == case_id)
        if tenants is not None:
            query = query.where(cases.c.tenant.in_(tenants))
        with self.store._connect() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                return None
            found = _case_out(dict(row))
            rows = conn.execute(
                sa.select(decisions).where(decisions.c.request_id == row["request_id"])
                .order_by(decisions.c.created_at, decisions.c.id)
            ).mappings()
            found["decisions"] = [_decision_out(dict(r)) for r in rows]
            events = conn.execute(
                sa.select(case_events).where(case_events.c.case_id == case_id)
                .order_by(case_events.c.id)
            ).mappings()
            found["events"] = [_event_out(dict(e)) for e in events]
        return found

    def update_case(
        self,
        case_id: str,
        actor: str,
        *,
        status: str | None = None,
        resolution: str | None = None,
        assignee: str | Literal[False] | None = False,
        note: str | None = None,
        tenants: tuple[str, ...] | None = None,
        allow_reopen: bool = False,
    ) -> dict[str, Any]:
        """Apply one reviewer action: a status change (with its resolution when resolving),
        an assignment (``None`` unassigns; ``False``, the default, leaves it) and/or a note.
        Each change becomes an event in the timeline, in one transaction; the case detail
        is returned. Raises ``InvalidUpdateError`` (bad values), ``CaseNotFoundError`` (also
        for a tenant not in ``tenants``) and ``InvalidTransitionError`` (not from this state).
        """
        if status is not None and status not in STATUSES:
            raise InvalidUpdateError("status",
                                     f"unknown status {status!r} (one of {_list(STATUSES)})")
        if resolution is not None and resolution not in RESOLUTIONS:
            raise InvalidUpdateError(
                "resolution", f"unknown resolution {resolution!r} (one of {_list(RESOLUTIONS)})")
        if resolution is not None and status != "resolved":
            raise InvalidUpdateError("resolution", 'a resolution is given only with status '
                                     '"resolved"')
        if note is not None:
            note = note.strip()
            if not note:
                raise InvalidUpdateError("note", "a note cannot be empty")
            if len(note) > MAX_NOTE_CHARS:
                raise InvalidUpdateError("note", f"a note is at most {MAX_NOTE_CHARS} characters")
            note = self._redact(note) if self._redact is not None else note
        now = self._clock()
        with self.store._failures_counted("update_case"), self.store._begin() as conn:
            query = sa.select(cases).where(cases.c.case_id == case_id)
            if tenants is not None:
                query = query.where(cases.c.tenant.in_(tenants))
            current = conn.execute(query.with_for_update()).mappings().first()
            if current is None:
                raise CaseNotFoundError(case_id)
            values: dict[str, Any] = {}
            events: list[tuple[str, dict[str, Any]]] = []
            if status is not None and status != current["status"]:
                move = (current["status"], status)
                if move not in _TRANSITIONS:
                    raise InvalidTransitionError(
                        f"a case cannot go from {move[0]!r} to {move[1]!r}")
                if move[0] == "resolved" and not allow_reopen:
                    raise InvalidTransitionError("only an admin can reopen a resolved case")
                if status == "resolved" and resolution is None:
                    raise InvalidTransitionError(
                        f"resolving a case needs a resolution (one of {_list(RESOLUTIONS)})")
                values.update(status=status,
                              resolution=resolution if status == "resolved" else None,
                              resolved_at=now if status == "resolved" else None)
                events.append(("status", {"from": move[0], "to": status,
                                          "resolution": resolution}))
            elif status is not None and resolution is not None:
                raise InvalidTransitionError("the case is already resolved")
            if assignee is not False and assignee != current["assignee"]:
                values["assignee"] = assignee
                events.append(("assigned", {"from": current["assignee"], "to": assignee}))
            if note is not None:
                values["notes"] = note  # the latest note, for lists; all are in the timeline
                events.append(("note", {"note": note}))
            if values:
                values["updated_at"] = now
                conn.execute(cases.update().where(cases.c.case_id == case_id).values(values))
            for kind, detail in events:
                conn.execute(case_events.insert(), {"case_id": case_id, "created_at": now,
                                                    "actor": actor, "kind": kind,
                                                    "detail": detail})
        found = self.case(case_id)
        assert found is not None
        return found

    # ------------------------------------------------------------------ aggregates
    def stats(
        self,
        where: DecisionFilter,
        *,
        by: str = "action",
        bucket: str = "hour",
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Decisions per time bucket, split by ``by``: the top ``MAX_SERIES`` keys by total,
        the rest summed as ``other``. Finding attributes count a decision once per key."""
        if by not in STATS_BY:
            raise ValueError(f"by must be one of {_list(STATS_BY)}")
        if bucket not in BUCKETS:
            raise ValueError(f"bucket must be one of {_list(BUCKETS)}")
        now = now or self._clock()
        until = where.until or now
        since = where.since or (until - timedelta(days=7))
        where = replace(where, since=since, until=until)
        dialect = self.store.engine.dialect.name
        key: Any
        if by in ("action", "severity", "stage"):
            key = decisions.c[by]
            time_col = decisions.c.created_at
            count = sa.func.count()
            query = sa.select(_bucket(time_col, bucket, dialect).label("b"), key.label("k"),
                              count.label("n")).where(*_decision_conditions(where))
        else:
            f = decision_findings
            key = {"principle": f.c.principle, "category": f.c.check + "/" + f.c.category,
                   "criterion": f.c.criterion}[by]
            time_col = f.c.created_at
            query = (
                sa.select(_bucket(time_col, bucket, dialect).label("b"), key.label("k"),
                          sa.func.count(sa.distinct(f.c.decision_id)).label("n"))
                .select_from(f.join(decisions, decisions.c.id == f.c.decision_id))
                .where(*_decision_conditions(where, findings_joined=True), key.is_not(None))
            )
        query = query.group_by("b", "k")
        with self.store._connect() as conn:
            rows = conn.execute(query).all()
        starts = _bucket_starts(since, until, bucket)
        index = {_bucket_key(s, bucket): i for i, s in enumerate(starts)}
        per_key: dict[str, list[int]] = {}
        for b, k, n in rows:
            i = index.get(str(b)[: 13 if bucket == "hour" else 10])
            if i is None:
                continue
            per_key.setdefault(str(k), [0] * len(starts))[i] += int(n)
        ranked = sorted(per_key.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        series = [{"key": k, "total": sum(c), "counts": c} for k, c in ranked[:MAX_SERIES]]
        if len(ranked) > MAX_SERIES:
            rest = [sum(col) for col in zip(*(c for _, c in ranked[MAX_SERIES:]), strict=True)]
            series.append({"key": "other", "total": sum(rest), "counts": rest})
        return {"by": by, "bucket": bucket, "since": _iso(since), "until": _iso(until),
                "buckets": [_iso(s) for s in starts], "series": series}

    def facets(self, tenants: tuple[str, ...] | None = None) -> dict[str, list[Any]]:
        """Distinct values seen in the store, for filter menus (bounded by the store's
        vocabulary: policy-defined names, never text)."""
        def distinct(column: Any, table: Any, tenant_col: Any | None = None) -> list[Any]:
            query = sa.select(column).select_from(table).distinct().where(column.is_not(None))
            if tenants is not None and tenant_col is not None:
                query = query.where(tenant_col.in_(tenants))
            with self.store._connect() as conn:
                return sorted(v for (v,) in conn.execute(query.limit(1000)))

        f = decision_findings
        found: Any
        found_tenant: Any
        if tenants is None:
            found, found_tenant = f, None
        else:  # a reviewer must not learn which categories other tenants trigger
            found = f.join(decisions, decisions.c.id == f.c.decision_id)
            found_tenant = decisions.c.tenant
        pairs = distinct(f.c.check + "/" + f.c.category, found, found_tenant)
        return {
            "models": distinct(decisions.c.model, decisions, decisions.c.tenant),
            "checks": sorted({p.split("/", 1)[0] for p in pairs}),
            "categories": pairs,
            "criteria": distinct(f.c.criterion, found, found_tenant),
            "rules": distinct(cases.c.rule, cases, cases.c.tenant),
        }

    def backlog(self, now: datetime | None = None) -> list[BacklogRow] | None:
        """Unresolved cases by priority and status with the oldest one's age (for metrics);
        ``None`` while the store is not open (start-up)."""
        if not self.store.is_open:
            return None
        now = now or self._clock()
        query = (
            sa.select(cases.c.priority, cases.c.status, sa.func.count(),
                      sa.func.min(cases.c.created_at))
            .where(cases.c.status.in_(UNRESOLVED))
            .group_by(cases.c.priority, cases.c.status)
        )
        with self.store._connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for priority, status, count, oldest in rows:
            oldest_dt = _as_utc(oldest)
            out.append(BacklogRow(priority, status, int(count),
                                  (now - oldest_dt).total_seconds()))
        return out

    # ------------------------------------------------------------------ paging
    def _page(
        self,
        query: sa.Select[Any],
        order: _Order,
        limit: int,
        cursor: str | None,
        out: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Page:
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        if cursor is not None:
            query = query.where(_after(order, _decode(cursor, order)))
        query = query.order_by(
            *(c.desc() if order.descending else c.asc() for c in order.columns)
        ).limit(limit + 1)
        with self.store._connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode(order, order.keys(rows[-1])) if more and rows else None
        return Page([out(r) for r in rows], next_cursor)

    def _iterate(self, page: Any, where: Any, max_rows: int | None, batch: int
                 ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        sent = 0
        while True:
            size = batch if max_rows is None else min(batch, max_rows - sent)
            if size <= 0:
                return
            result: Page = page(where, limit=min(size, MAX_PAGE), cursor=cursor)
            yield from result.items
            sent += len(result.items)
            if result.next_cursor is None:
                return
            cursor = result.next_cursor


# ---------------------------------------------------------------------- conditions
def _scope_conditions(where: _Scope, table: sa.Table,
                      columns: Sequence[tuple[Any, Sequence[str]]]) -> list[Any]:
    """What decision and case filters share: tenant grant, time range, model, request id,
    and ``columns`` (column, allowed values) of the table's own."""
    t = table.c
    conds: list[Any] = []
    if where.tenants is not None:
        conds.append(t.tenant.in_(where.tenants))
    if where.since is not None:
        conds.append(t.created_at >= where.since)
    if where.until is not None:
        conds.append(t.created_at < where.until)
    for column, values in ((t.model, where.models), *columns):
        if values:
            conds.append(column.in_(values))
    if where.request_id is not None:
        conds.append(t.request_id == where.request_id)
    return conds


def _decision_conditions(where: DecisionFilter, *, findings_joined: bool = False) -> list[Any]:
    d = decisions.c
    conds = _scope_conditions(where, decisions, ((d.stage, where.stages),
                                                 (d.action, where.actions),
                                                 (d.severity, where.severities)))
    finding = _finding_conditions(where)
    if finding:
        if findings_joined:
            # Stats over findings: the joined finding row itself must match.
            conds.extend(finding)
        else:
            f = decision_findings.c
            conds.append(sa.exists().where(f.decision_id == d.id, *finding))
    return conds


def _finding_conditions(where: _Scope) -> list[Any]:
    f = decision_findings.c
    conds: list[Any] = []
    if where.checks:
        conds.append(f.check.in_(where.checks))
    if where.categories:
        options: list[Any] = []
        bare = [c for c in where.categories if "/" not in c]
        if bare:
            options.append(f.category.in_(bare))
        for pair in (c for c in where.categories if "/" in c):
            check, category = pair.split("/", 1)
            options.append(sa.and_(f.check == check, f.category == category))
        conds.append(sa.or_(*options))
    if where.principles:
        conds.append(f.principle.in_(where.principles))
    if where.criteria:
        conds.append(f.criterion.in_(where.criteria))
    return conds


def _case_conditions(where: CaseFilter) -> list[Any]:
    c = cases.c
    conds = _scope_conditions(where, cases, ((c.status, where.statuses),
                                             (c.priority, where.priorities),
                                             (c.resolution, where.resolutions),
                                             (c.rule, where.rules),
                                             (c.assignee, where.assignees)))
    finding = _finding_conditions(where)
    if finding:
        f, d = decision_findings.c, decisions.c
        conds.append(sa.exists().where(d.request_id == c.request_id, f.decision_id == d.id,
                                       *finding))
    return conds


# ---------------------------------------------------------------------- ordering, cursors
_PRIORITY_EXPR = sa.case(_PRIORITY_RANK, value=cases.c.priority, else_=len(_PRIORITY_RANK))

_DECISION_ORDER = _Order(
    "decisions", (decisions.c.created_at, decisions.c.id), True, 0,
    lambda r: [_iso(r["created_at"]), r["id"]],
)
_CASE_ORDERS = {
    "queue": _Order(
        "queue", (_PRIORITY_EXPR, cases.c.created_at, cases.c.case_id), False, 1,
        lambda r: [_PRIORITY_RANK.get(r["priority"], len(_PRIORITY_RANK)),
                   _iso(r["created_at"]), r["case_id"]],
    ),
    "newest": _Order(
        "newest", (cases.c.created_at, cases.c.case_id), True, 0,
        lambda r: [_iso(r["created_at"]), r["case_id"]],
    ),
}


def _encode(order: _Order, keys: list[Any]) -> str:
    raw = json.dumps([order.name, *keys], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, order: _Order) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise CursorError("cursor is not one this server returned") from None
    if (not isinstance(data, list) or len(data) != len(order.columns) + 1
            or data[0] != order.name):
        raise CursorError("cursor belongs to another list or ordering")
    keys = data[1:]
    try:
        keys[order.time_at] = datetime.fromisoformat(keys[order.time_at])
    except (TypeError, ValueError):
        raise CursorError("cursor is not one this server returned") from None
    return keys


def _after(order: _Order, keys: list[Any]) -> Any:
    """Rows strictly after ``keys`` in ``order``: a lexicographic comparison written out,
    since row-value comparison is not in every SQLite the proxy meets."""
    terms = []
    for i, column in enumerate(order.columns):
        beyond = column < keys[i] if order.descending else column > keys[i]
        terms.append(sa.and_(*(order.columns[j] == keys[j] for j in range(i)), beyond))
    # The OR alone is not turned into an index seek by SQLite or PostgreSQL (a page deep in
    # a million rows then costs a scan of all before it); the redundant bound on the first
    # column is, and makes every page cost the same.
    first = order.columns[0]
    bound = first <= keys[0] if order.descending else first >= keys[0]
    return sa.and_(bound, sa.or_(*terms))


# ---------------------------------------------------------------------- buckets
def _bucket(column: Any, bucket: str, dialect: str) -> Any:
    if dialect == "postgresql":
        fmt = "YYYY-MM-DD HH24" if bucket == "hour" else "YYYY-MM-DD"
        return sa.func.to_char(sa.func.timezone("UTC", column), fmt)
    # SQLite keeps naive UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return sa.func.substr(column, 1, 13 if bucket == "hour" else 10)


def _bucket_starts(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    since = since.astimezone(UTC)
    start = since.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        start = start.replace(hour=0)
    starts: list[datetime] = []
    while start < until and len(starts) < 24 * 92:
        starts.append(start)
        start += step
    return starts


def _bucket_key(start: datetime, bucket: str) -> str:
    return start.strftime("%Y-%m-%d %H" if bucket == "hour" else "%Y-%m-%d")


# ---------------------------------------------------------------------- rows out
def _decision_out(row: dict[str, Any]) -> dict[str, Any]:
    row["time"] = _iso(row.pop("created_at"))
    return row


def _case_out(row: dict[str, Any]) -> dict[str, Any]:
    row["time"] = _iso(row.pop("created_at"))
    row["updated_at"] = _iso(row["updated_at"])
    row["resolved_at"] = _iso(row["resolved_at"]) if row.get("resolved_at") else None
    row.pop("meta", None)
    row.pop("dedup_key", None)  # a hash for merging duplicates; nothing a reviewer reads
    return row


def _event_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "time": _iso(row["created_at"]), "actor": row["actor"],
            "kind": row["kind"], "detail": row["detail"] or {}}


def _iso(value: datetime) -> str:
    return _as_utc(value).isoformat().replace("+00:00", "Z")


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregate results skip the column type
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be tz-aware")


def _list(values: Sequence[str]) -> str:
    return ", ".join(values)


def vocabulary() -> dict[str, list[str]]:
    """The closed vocabularies a filter menu offers before any data exists."""
    return {
        "stages": [s.value for s in Stage],
        "actions": [a.value for a in Action],
        "severities": list(SEVERITIES),
        "statuses": list(STATUSES),
        "resolutions": list(RESOLUTIONS),
        "priorities": list(PRIORITIES),
    }

