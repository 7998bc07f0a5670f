"""The review API and web page (``/review``): the safety team's window on the audit store.

Routes, parameters and shapes are specified in ``API.md`` beside this file. Every route
needs a review key (``review.reviewers`` in the config); a reviewer sees only the
tenants granted, an admin sees all. Queries run in worker threads (the store is
synchronous SQLAlchemy), so a slow export never stalls the chat traffic on the loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from classifiers.harmful_request.principles import PRINCIPLES
from guard.review import (
    BUCKETS,
    MAX_PAGE,
    RESOLUTIONS,
    STATS_BY,
    STATUSES,
    CaseFilter,
    CaseNotFoundError,
    CursorError,
    DecisionFilter,
    InvalidTransitionError,
    InvalidUpdateError,
    Page,
    ReviewStore,
    vocabulary,
)
from proxy.config import ProxyConfig
from proxy.errors import ApiError, bad_request
from proxy.review.auth import Reviewer, ReviewerRing

__all__ = ["install_review"]

_STATIC = resources.files("proxy.review").joinpath("static")
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
# The page loads nothing from anywhere else; say so to the browser too.
_PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
_VOCAB = vocabulary()
_FACETS_TTL_S = 60.0
_DECISION_CSV = ("id", "time", "request_id", "tenant", "model", "stage", "action", "severity",
                 "policy_id", "policy_version", "categories", "principles", "criteria", "rules",
                 "failures", "check_ms", "upstream_ms", "case_id", "excerpt")
_CASE_CSV = ("case_id", "time", "updated_at", "request_id", "tenant", "model", "rule",
             "priority", "status", "resolution", "resolved_at", "assignee", "merged_count",
             "policy_id", "policy_version", "categories", "excerpt")


def install_review(
    app: FastAPI,
    config: ProxyConfig,
    store: ReviewStore | None,
    *,
    ready: Callable[[], bool],
) -> None:
    """Add the review routes to ``app``. Without reviewers (or a store) they answer 404
    ``review_disabled``, so a deployment that does not use them exposes nothing."""
    ring = ReviewerRing(config.review.reviewers, [t.name for t in config.tenants])
    tenants = [t.name for t in config.tenants]
    max_export = config.review.max_export_rows

    def reviewer(request: Request) -> tuple[Reviewer, ReviewStore]:
        if store is None or not ring:
            raise ApiError(404, "the review API is not enabled: add review.reviewers to the "
                           "proxy config", code="review_disabled")
        who = ring.authenticate(request.headers.get("authorization"))
        if not ready():
            raise ApiError(503, "Primum is still starting; retry shortly", code="not_ready",
                           headers={"retry-after": "1"})
        return who, store

    @app.get("/review", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(_static_text("index.html"), headers=_PAGE_HEADERS)

    @app.get("/review/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        suffix = name[name.rfind("."):] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
            raise ApiError(404, f"no file {name!r}", code="not_found")
        file = _STATIC.joinpath(name)
        if not file.is_file():
            raise ApiError(404, f"no file {name!r}", code="not_found")
        return Response(file.read_bytes(), media_type=_STATIC_TYPES[suffix],
                        headers=_PAGE_HEADERS)

    @app.get("/review/api/me")
    async def me(request: Request) -> dict[str, Any]:
        who, _ = reviewer(request)
        return {"name": who.name, "role": who.role, "tenants": who.visible(tenants)}

    # Menus may lag new categories by a minute; the distinct scans over a million-row
    # store cost a few hundred ms, so each page load must not repeat them.
    facet_cache: dict[tuple[str, ...] | None, tuple[float, dict[str, list[Any]]]] = {}

    @app.get("/review/api/facets")
    async def facets(request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        cached = facet_cache.get(who.tenants)
        if cached is not None and time.monotonic() - cached[0] < _FACETS_TTL_S:
            seen = cached[1]
        else:
            seen = await asyncio.to_thread(rs.facets, who.tenants)
            facet_cache[who.tenants] = (time.monotonic(), seen)
        return {
            "tenants": who.visible(tenants),
            **seen,
            **_VOCAB,
            "principles": [{"id": p.number, "name": p.title} for p in PRINCIPLES],
        }

    @app.get("/review/api/decisions")
    async def list_decisions(request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        q = _Query(request)
        where = _decision_filter(q, who)
        limit, cursor = q.limit(), q.one("cursor")
        page = await _call(rs.decisions, where, limit=limit, cursor=cursor)
        return _list(page)

    @app.get("/review/api/decisions/{decision_id}")
    async def get_decision(decision_id: str, request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        if not decision_id.isdigit():
            raise ApiError(404, f"no decision {decision_id!r}", code="not_found")
        found = await asyncio.to_thread(rs.decision, int(decision_id), who.tenants)
        if found is None:
            raise ApiError(404, f"no decision {decision_id!r}", code="not_found")
        return found

    @app.get("/review/api/cases")
    async def list_cases(request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        q = _Query(request)
        where = _case_filter(q, who)
        order = q.choice("order", ("queue", "newest")) or "queue"
        page = await _call(rs.cases, where, order=order, limit=q.limit(),
                           cursor=q.one("cursor"))
        return _list(page)

    @app.get("/review/api/cases/{case_id}")
    async def get_case(case_id: str, request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        found = await asyncio.to_thread(rs.case, case_id, who.tenants)
        if found is None:
            raise ApiError(404, f"no case {case_id!r}", code="not_found")
        return found

    @app.patch("/review/api/cases/{case_id}")
    async def update_case(case_id: str, request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        body = await _json_object(request)
        unknown = sorted(set(body) - {"status", "resolution", "assignee", "note"})
        if unknown:
            raise bad_request(unknown[0], f"unknown field {unknown[0]!r}; known: assignee, "
                              "note, resolution, status")
        if not body:
            raise bad_request(None, "nothing to change: send status, resolution, assignee "
                              "or note")
        for name in ("status", "resolution", "note"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise bad_request(name, f"{name} must be a string")
        assignee = body.get("assignee", False)
        if assignee is not False and assignee is not None:
            if not isinstance(assignee, str) or not assignee.strip() or len(assignee) > 64:
                raise bad_request("assignee", "assignee must be a reviewer name (1-64 "
                                  "characters) or null")
            assignee = assignee.strip()
        try:
            updated: dict[str, Any] = await asyncio.to_thread(
                rs.update_case, case_id, who.name, status=body.get("status"),
                resolution=body.get("resolution"), assignee=assignee, note=body.get("note"),
                tenants=who.tenants, allow_reopen=who.admin)
            return updated
        except InvalidUpdateError as exc:
            raise bad_request(exc.field, str(exc)) from None
        except CaseNotFoundError:
            raise ApiError(404, f"no case {case_id!r}", code="not_found") from None
        except InvalidTransitionError as exc:
            raise ApiError(409, str(exc), code="invalid_transition") from None

    @app.get("/review/api/stats")
    async def stats(request: Request) -> dict[str, Any]:
        who, rs = reviewer(request)
        q = _Query(request)
        where = _decision_filter(q, who)
        by = q.choice("by", STATS_BY) or "action"
        bucket = q.choice("bucket", BUCKETS) or "hour"
        if where.since is not None and (where.until or datetime.now(UTC)) - where.since > (
                timedelta(days=31 if bucket == "hour" else 366)):
            raise bad_request("since", "a chart by hour covers at most 31 days and one by day "
                              "at most a year: narrow since/until or change bucket")
        result: dict[str, Any] = await _call(rs.stats, where, by=by, bucket=bucket)
        for series in result["series"]:
            series["label"] = _label(by, series["key"])
        return result

    @app.get("/review/api/export/decisions")
    async def export_decisions(request: Request) -> Response:
        who, rs = reviewer(request)
        q = _Query(request)
        where = _decision_filter(q, who)
        fmt: Literal["csv", "json"] = q.choice("format", ("csv", "json")) or "csv"
        rows = rs.iter_decisions(where, max_rows=max_export)
        return _export(rows, fmt, "primum-decisions", _DECISION_CSV, _decision_csv_row)

    @app.get("/review/api/export/cases")
    async def export_cases(request: Request) -> Response:
        who, rs = reviewer(request)
        q = _Query(request)
        where = _case_filter(q, who)
        fmt: Literal["csv", "json"] = q.choice("format", ("csv", "json")) or "csv"
        rows = rs.iter_cases(where, max_rows=max_export)
        return _export(rows, fmt, "primum-cases", _CASE_CSV, _case_csv_row)


# ---------------------------------------------------------------------- parameters
class _Query:
    """Query parameters, each multi-valued one as comma-separated values or repeated."""

    def __init__(self, request: Request) -> None:
        self._params = request.query_params

    def many(self, name: str, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
        values = tuple(dict.fromkeys(
            v.strip() for raw in self._params.getlist(name) for v in raw.split(",") if v.strip()
        ))
        if len(values) > 100:
            raise bad_request(name, f"at most 100 values for {name}")
        if allowed is not None:
            for value in values:
                if value not in allowed:
                    raise bad_request(name, f"unknown {name} {value!r}; one of: "
                                      f"{', '.join(allowed)}")
        return values

    def one(self, name: str) -> str | None:
        values = self._params.getlist(name)
        if len(values) > 1:
            raise bad_request(name, f"{name} is given more than once")
        return values[0] if values and values[0] != "" else None

    def choice(self, name: str, allowed: Sequence[str]) -> Any:
        value = self.one(name)
        if value is not None and value not in allowed:
            raise bad_request(name, f"{name} must be one of: {', '.join(allowed)}")
        return value

    def time(self, name: str) -> datetime | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                return datetime(day.year, day.month, day.day, tzinfo=UTC)
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(name, f"{name} must be an ISO 8601 date or time, e.g. "
                              "2026-11-23 or 2026-11-23T10:00:00Z") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    def principles(self) -> tuple[int, ...]:
        values = self.many("principle")
        if any(not v.isdigit() or not 1 <= int(v) <= 9 for v in values):
            raise bad_request("principle", "principle must be AMA principle numbers 1-9")
        return tuple(int(v) for v in values)

    def limit(self) -> int:
        value = self.one("limit")
        if value is None:
            return 50
        if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
            raise bad_request("limit", f"limit must be a whole number from 1 to {MAX_PAGE}")
        return int(value)

    def tenants(self, who: Reviewer) -> tuple[str, ...] | None:
        asked = self.many("tenant")
        if who.tenants is None:
            return asked or None
        for tenant in asked:
            if tenant not in who.tenants:
                raise ApiError(403, f"you are not granted tenant {tenant!r}",
                               code="permission_denied", param="tenant")
        return asked or who.tenants


def _decision_filter(q: _Query, who: Reviewer) -> DecisionFilter:
    return DecisionFilter(
        tenants=q.tenants(who), since=q.time("since"), until=q.time("until"),
        models=q.many("model"), stages=q.many("stage", _VOCAB["stages"]),
        actions=q.many("action", _VOCAB["actions"]),
        severities=q.many("severity", _VOCAB["severities"]),
        checks=q.many("check"), categories=q.many("category"), principles=q.principles(),
        criteria=q.many("criterion"), request_id=q.one("request_id"),
    )


def _case_filter(q: _Query, who: Reviewer) -> CaseFilter:
    return CaseFilter(
        tenants=q.tenants(who), since=q.time("since"), until=q.time("until"),
        models=q.many("model"), statuses=q.many("status", STATUSES),
        priorities=q.many("priority", _VOCAB["priorities"]),
        resolutions=q.many("resolution", RESOLUTIONS), rules=q.many("rule"),
        assignees=q.many("assignee"), checks=q.many("check"), categories=q.many("category"),
        principles=q.principles(), criteria=q.many("criterion"),
        request_id=q.one("request_id"),
    )


async def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except CursorError as exc:
        raise bad_request("cursor", str(exc)) from None
    except ValueError as exc:  # the store's own validation (limit, by, bucket)
        raise bad_request(None, str(exc)) from None


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise bad_request(None, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request(None, "the body must be a JSON object")
    return body


def _list(page: Page) -> dict[str, Any]:
    return {"object": "list", "data": page.items, "next_cursor": page.next_cursor}


def _label(by: str, key: str) -> str:
    if by == "principle" and key.isdigit() and 1 <= int(key) <= len(PRINCIPLES):
        return f"{key}. {PRINCIPLES[int(key) - 1].title}"
    return key


# ---------------------------------------------------------------------- exports
def _export(
    rows: Iterator[dict[str, Any]],
    fmt: Literal["csv", "json"],
    name: str,
    columns: Sequence[str],
    flatten: Callable[[dict[str, Any]], dict[str, Any]],
) -> StreamingResponse:
    headers = {"content-disposition": f'attachment; filename="{name}.{fmt}"',
               "cache-control": "no-store"}
    if fmt == "json":
        return StreamingResponse(_json_lines(rows), media_type="application/json",
                                 headers=headers)
    return StreamingResponse(_csv_lines(rows, columns, flatten),
                             media_type="text/csv; charset=utf-8", headers=headers)


def _json_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str)
    yield "\n]\n"


def _csv_lines(rows: Iterator[dict[str, Any]], columns: Sequence[str],
               flatten: Callable[[dict[str, Any]], dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({k: _cell(v) for k, v in flatten(row).items()})
        if i % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: text that a spreadsheet would run as a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _decision_csv_row(d: dict[str, Any]) -> dict[str, Any]:
    findings = d.get("findings") or []
    return {
        **d,
        "categories": ";".join(d.get("categories") or []),
        "principles": ";".join(sorted({str(f["principle"]) for f in findings
                                       if f.get("principle") is not None})),
        "criteria": ";".join(sorted({f["criterion"] for f in findings if f.get("criterion")})),
        "rules": ";".join(d.get("rules") or []),
        "failures": ";".join(f"{f['check']}:{f['reason']}:{f['fail_mode']}"
                             for f in d.get("failures") or []),
        "check_ms": (d.get("latency_ms") or {}).get("total"),
    }


def _case_csv_row(c: dict[str, Any]) -> dict[str, Any]:
    return {**c, "categories": ";".join(c.get("categories") or [])}


def _static_text(name: str) -> str:
    file = _STATIC.joinpath(name)
    if not file.is_file():
        return ("<!doctype html><title>Primum review</title>"
                "<p>The review page is not installed.</p>")
    return file.read_text(encoding="utf-8")
