"""Golden cases: a reviewer's disposition of a review case, turned into a policy test.

When a reviewer resolves a case as ``false_positive``, the guard was wrong about that
request. ``primum cases export --false-positives`` writes such cases to a YAML file, and
``primum policy test FILE`` (or ``tests/test_golden.py`` for files under ``tests/golden/``)
runs each one through a policy: it fails for as long as the policy still makes the
decision the reviewer rejected, and passes once the policy is fixed. Committed, the file
keeps the fix from regressing.

File format (``format: primum-golden/1``)::

    format: primum-golden/1
    cases:
      - id: fp-3f2a9c...                 # fp-<case id>; unique within the file
        pending: true                    # optional: a known false positive, not yet fixed
        origin:                          # where it came from (informational)
          case_id: 3f2a9c...
          request_id: 8b1e...
          tenant: patient-app
          model: gpt-4o-mini
          rule: ethics_review            # the escalation rule that opened the case
          priority: normal
          policy_id: primum-default      # the policy that decided, and its version
          policy_version: 1.2.0
          stage: input                   # the stage whose decision opened the case
          recorded_action: block
          recorded_rules: [ama-p2-block]
          categories: [harmful_request/p2_honesty_professionalism]
          opened_at: '2026-11-23T10:00:00Z'
          resolution: false_positive
          resolved_at: '2026-11-24T09:12:00Z'
        policy: default                  # shipped pack name, or a policy file (relative
                                         # paths are relative to this file)
        audience: patient                # the tenant's audience; patient when unknown
        country: US                      # the tenant's country; US when unknown
        stage: input                     # input | output
        messages:                        # the request as the store kept it
          - {role: user, content: "Can you help me write a note to my employer ..."}
        response: "..."                  # output stage only: the answer that was checked
        expect:
          action_below: block            # the stage's action must be less severe
          not_escalations: [ethics_review]   # and none of these escalations may fire

What is kept, and what is not: the messages are rebuilt from the stored decisions' excerpts,
which the pipeline redacted before they were stored (PHI replaced by placeholders such as
``[PERSON_1]``) and capped in length; the input decision's excerpt is the user message (when
the request had several new turns or a system prompt, the excerpt joins them with `` | ``,
and they come back as one message), an output decision's excerpt the response. Cases whose
excerpt was withheld (no PHI check ran on that stage: ``[excerpt withheld: ...]``) or is
empty are skipped with a warning: there is nothing to replay. The reviewer's notes and the
assignee are never exported (notes are redacted when stored, and left out anyway).

The expectation is what the reviewer's ``false_positive`` says: the recorded action was
wrong, so the same stage must now decide something less severe (by ``Action`` order:
allow < annotate < clarify < redact < escalate < block), and the escalation rule that opened
the case must not fire. A case recorded as ``allow`` (an escalation on an allowed message)
expects only the escalation to stay silent. For an output-stage case the input stage runs
first, as in the proxy; if it now blocks or clarifies, the answer is never checked and the
case fails (the user still gets no answer).

``pending: true`` marks a false positive that is known and not fixed yet: runners report it
without failing, and report it as a failure once it passes (remove the flag then, so the
case guards the fix), like pytest's strict ``xfail``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guard.build import POLICY_DIR, build_engine, resolve_policy
from guard.checks import CheckRegistry
from guard.engine import Engine
from guard.errors import SourceError, line_of, parse_yaml
from guard.pipeline import Pipeline
from guard.policy import PolicyError, load_policy
from guard.review import CaseFilter, ReviewStore
from guard.sdk import AsyncGuard
from guard.types import Action, Audience, Stage

__all__ = [
    "FORMAT",
    "CaseResult",
    "ConfigLike",
    "Deployment",
    "DeploymentError",
    "DeploymentLoader",
    "Expectation",
    "GoldenCase",
    "GoldenError",
    "GoldenRunner",
    "LoadedCase",
    "Message",
    "Origin",
    "Skipped",
    "TenantInfo",
    "deployment_from_config",
    "dump_golden",
    "export_false_positives",
    "golden_case",
    "iter_golden_files",
    "load_golden",
]

FORMAT = "primum-golden/1"
WITHHELD_PREFIX = "[excerpt withheld"
"""How ``guard.pipeline`` marks an excerpt it did not keep (no PHI check ran)."""


class GoldenError(SourceError):
    """A golden file that cannot be used; ``str()`` names the file, line and field."""


class DeploymentError(ValueError):
    """The deployment (proxy config) could not be read; ``str()`` says why."""


# ----------------------------------------------------------------------------- format
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(_Strict):
    role: Literal["user", "system", "developer", "assistant"] = "user"
    content: str = Field(min_length=1)


class Origin(_Strict):
    """Where a case came from. Informational: the runner does not read it."""

    case_id: str
    request_id: str | None = None
    tenant: str | None = None
    model: str | None = None
    rule: str
    priority: str | None = None
    policy_id: str | None = None
    policy_version: str | None = None
    stage: Stage | None = None
    recorded_action: Action | None = None
    recorded_rules: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    opened_at: str | None = None
    resolution: str | None = None
    resolved_at: str | None = None


class Expectation(_Strict):
    action_below: Action | None = Field(
        default=None, description="The stage's action must be less severe than this.")
    not_escalations: list[str] = Field(
        default_factory=list, description="None of these escalation rules may fire.")

    @model_validator(mode="after")
    def _something(self) -> Expectation:
        if self.action_below is None and not self.not_escalations:
            raise ValueError("expect needs action_below and/or not_escalations")
        if self.action_below is Action.ALLOW:
            raise ValueError("no action is below allow: leave action_below out")
        return self


class GoldenCase(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=128)
    description: str = ""
    pending: bool = False
    origin: Origin | None = None
    policy: str | None = Field(
        default=None, description="Shipped pack name or policy file (relative to the file); "
        "required unless the runner is given a policy.")
    audience: Audience = "patient"
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    stage: Stage = Stage.INPUT
    messages: list[Message] = Field(min_length=1)
    response: str | None = None
    expect: Expectation

    @model_validator(mode="after")
    def _response_for_output(self) -> GoldenCase:
        if self.stage is Stage.OUTPUT and not self.response:
            raise ValueError("an output-stage case needs the response to check")
        if self.stage is Stage.INPUT and self.response is not None:
            raise ValueError("response is for output-stage cases only")
        return self


class _GoldenFile(_Strict):
    format: Literal["primum-golden/1"]
    cases: list[GoldenCase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> _GoldenFile:
        ids = [c.id for c in self.cases]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"case ids must be unique in a file, repeated: {', '.join(dupes)}")
        return self


@dataclass(frozen=True, slots=True)
class LoadedCase:
    """A case and the file it came from (policy paths are relative to that file)."""

    case: GoldenCase
    source: Path


def load_golden(path: str | Path) -> list[LoadedCase]:
    """The cases of one golden file; ``GoldenError`` naming the line for a bad file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GoldenError(str(path), f"cannot read golden file ({exc.strerror})") from None
    root, data = parse_yaml(text, str(path), GoldenError)
    if not isinstance(data, dict):
        raise GoldenError(str(path), f"a golden file is a YAML mapping with format: {FORMAT} "
                          "and cases")
    try:
        parsed = _GoldenFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        more = len(exc.errors()) - 1
        message = first["msg"] + (f" (and {more} more error{'s' * (more > 1)})" if more else "")
        raise GoldenError(str(path), message, line=line_of(root, loc),
                          field=".".join(str(p) for p in loc) or None) from None
    return [LoadedCase(case, path) for case in parsed.cases]


def dump_golden(cases: Sequence[GoldenCase], header: str = "") -> str:
    """The YAML text of a golden file holding ``cases`` (``header``: comment lines)."""
    dumped: list[dict[str, Any]] = []
    for case in cases:
        row = case.model_dump(mode="json", exclude_none=True)
        for optional in ("pending", "description"):  # only when set
            if not row.get(optional):
                row.pop(optional, None)
        dumped.append(row)
    body = {"format": FORMAT, "cases": dumped}
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


# ------------------------------------------------------------------------- deployment
@dataclass(frozen=True, slots=True)
class TenantInfo:
    audience: Audience = "patient"
    country: str = "US"
    policy: str | None = None
    """The tenant's policy file (or shipped pack name)."""


@dataclass(frozen=True, slots=True)
class Deployment:
    """What the exporter needs to know of a running deployment (the proxy config)."""

    store_url: str
    tenants: Mapping[str, TenantInfo] = field(default_factory=dict)
    policies: Sequence[str] = ()
    """Every policy file (or pack name) the deployment uses."""


class _StoreLike(Protocol):
    @property
    def url(self) -> str: ...


class _TenantLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def audience(self) -> Audience: ...
    @property
    def country(self) -> str: ...
    @property
    def policy(self) -> str: ...


class ConfigLike(Protocol):
    """The parts of ``proxy.config.ProxyConfig`` the exporter reads (``guard`` does not
    import ``proxy``: the proxy's CLI passes its loaded config in)."""

    @property
    def store(self) -> _StoreLike: ...
    @property
    def tenants(self) -> Sequence[_TenantLike]: ...
    @property
    def policies(self) -> Mapping[str, str]: ...


def deployment_from_config(config: ConfigLike) -> Deployment:
    """A loaded proxy config as a ``Deployment`` (its policy paths are already resolved)."""
    return Deployment(
        store_url=config.store.url,
        tenants={t.name: TenantInfo(t.audience, t.country, config.policies.get(t.policy))
                 for t in config.tenants},
        policies=tuple(config.policies.values()),
    )


DeploymentLoader = Callable[[str | None], Deployment]
"""``load(config_path_or_None) -> Deployment``; raises ``DeploymentError``."""


# ----------------------------------------------------------------------------- export
@dataclass(frozen=True, slots=True)
class Skipped:
    case_id: str
    reason: str


class _PolicyFinder:
    """Finds the policy file for a case's policy id: the tenant's own policy first, then
    every policy of the deployment, then the shipped packs."""

    def __init__(self, deployment: Deployment | None, out_dir: Path | None) -> None:
        self.deployment = deployment
        self.out_dir = out_dir
        self._ids: dict[str, str | None] = {}

    def _id_of(self, ref: str) -> str | None:
        if ref not in self._ids:
            try:
                self._ids[ref] = load_policy(resolve_policy(ref)).id
            except PolicyError:
                self._ids[ref] = None
        return self._ids[ref]

    def find(self, policy_id: str, tenant: str) -> str | None:
        candidates: list[str] = []
        if self.deployment is not None:
            info = self.deployment.tenants.get(tenant)
            if info is not None and info.policy:
                candidates.append(info.policy)
            candidates.extend(self.deployment.policies)
        candidates.extend(sorted(p.stem for p in POLICY_DIR.glob("*.yaml")))
        for ref in candidates:
            if self._id_of(ref) == policy_id:
                return self._portable(ref)
        return None

    def _portable(self, ref: str) -> str:
        """A shipped pack by name; another file relative to the golden file's directory
        (so a checkout can move), unless the two share nothing but the root: absolute."""
        path = Path(ref)
        if path.suffix not in (".yaml", ".yml") and not path.exists():
            return ref  # already a pack name
        resolved = path.resolve()
        if resolved.parent == POLICY_DIR.resolve():
            return resolved.stem
        if self.out_dir is not None:
            out_dir = self.out_dir.resolve()
            common = Path(os.path.commonpath([resolved, out_dir]))
            if common != Path(common.anchor):
                return Path(os.path.relpath(resolved, out_dir)).as_posix()
        return str(resolved)


def _usable(excerpt: str | None) -> bool:
    return bool(excerpt and excerpt.strip() and not excerpt.startswith(WITHHELD_PREFIX))


def golden_case(detail: Mapping[str, Any], *, policy: str | None = None,
                tenant: TenantInfo | None = None, pending: bool = False
                ) -> GoldenCase | Skipped:
    """The golden case for one resolved false-positive case (``ReviewStore.case()``'s
    detail: the case with its request's decisions), or why it cannot be one."""
    case_id = str(detail["case_id"])
    decisions = list(detail.get("decisions") or [])
    opened = [d for d in decisions if d.get("case_id") == case_id]
    if not opened:  # a decision that opened two cases names only the first
        opened = [d for d in decisions
                  if list(d.get("categories") or []) == list(detail.get("categories") or [])
                  and Action(d["action"]) is not Action.ALLOW]
    if not opened:
        return Skipped(case_id, "no stored decision of its request opened it")
    decision = opened[-1]
    stage = Stage(decision["stage"])
    inputs = [d for d in decisions if d["stage"] == Stage.INPUT.value]
    if not inputs:
        return Skipped(case_id, "its request's input decision is not in the store")
    user_text = inputs[0].get("excerpt")
    if not _usable(user_text):
        return Skipped(case_id, "the input excerpt was withheld or is empty (no PHI check "
                       "ran on it), so there is nothing to replay")
    response = None
    if stage is Stage.OUTPUT:
        response = decision.get("excerpt")
        if not _usable(response):
            return Skipped(case_id, "the answer's excerpt was withheld or is empty")
    recorded = Action(decision["action"])
    info = tenant or TenantInfo()
    return GoldenCase(
        id=f"fp-{case_id}",
        pending=pending,
        origin=Origin(
            case_id=case_id, request_id=detail.get("request_id"), tenant=detail.get("tenant"),
            model=detail.get("model") or None, rule=str(detail["rule"]),
            priority=detail.get("priority"), policy_id=detail.get("policy_id"),
            policy_version=detail.get("policy_version"), stage=stage,
            recorded_action=recorded, recorded_rules=list(decision.get("rules") or []),
            categories=list(decision.get("categories") or []),
            opened_at=detail.get("time"), resolution=detail.get("resolution"),
            resolved_at=detail.get("resolved_at"),
        ),
        policy=policy,
        audience=info.audience,
        country=info.country,
        stage=stage,
        messages=[Message(role="user", content=str(user_text))],
        response=response,
        expect=Expectation(action_below=None if recorded is Action.ALLOW else recorded,
                           not_escalations=[str(detail["rule"])]),
    )


def export_false_positives(
    review: ReviewStore,
    *,
    deployment: Deployment | None = None,
    tenants: Sequence[str] | None = None,
    since: datetime | None = None,
    policy_id: str | None = None,
    pending: bool = False,
    out_dir: Path | None = None,
) -> tuple[list[GoldenCase], list[Skipped]]:
    """Golden cases for every case resolved as ``false_positive`` (optionally: of these
    tenants, resolved at or after ``since``, decided by policy ``policy_id``), oldest
    first, and the cases skipped with why. Policy references are made relative to
    ``out_dir`` where they can be."""
    where = CaseFilter(tenants=tuple(tenants) if tenants else None, statuses=("resolved",),
                       resolutions=("false_positive",))
    finder = _PolicyFinder(deployment, out_dir)
    found: list[GoldenCase] = []
    skipped: list[Skipped] = []
    rows = list(review.iter_cases(where, order="newest"))
    for row in reversed(rows):
        if policy_id is not None and row.get("policy_id") != policy_id:
            continue
        if since is not None and (not row.get("resolved_at")
                                  or _parse_time(row["resolved_at"]) < since):
            continue
        detail = review.case(row["case_id"])
        if detail is None:  # deleted meanwhile
            continue
        tenant_info = deployment.tenants.get(row["tenant"]) if deployment else None
        policy = finder.find(row["policy_id"], row["tenant"])
        made = golden_case(detail, policy=policy, tenant=tenant_info, pending=pending)
        if isinstance(made, Skipped):
            skipped.append(made)
        else:
            found.append(made)
    return found, skipped


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# ----------------------------------------------------------------------------- runner
Status = Literal["pass", "fail", "pending", "fixed", "error"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: GoldenCase
    source: Path
    met: bool
    """Whether the expectation held."""
    action: Action | None = None
    escalations: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """Why the expectation did not hold, one sentence each."""
    error: str | None = None
    policy: str = ""
    """The policy the case ran with (id and version)."""

    @property
    def status(self) -> Status:
        if self.error is not None:
            return "error"
        if self.case.pending:
            return "fixed" if self.met else "pending"
        return "pass" if self.met else "fail"

    @property
    def ok(self) -> bool:
        """Whether a test run should count this case as good (pass, or still pending)."""
        return self.status in ("pass", "pending")

    def line(self) -> str:
        label = {"pass": "PASS", "fail": "FAIL", "pending": "PENDING", "fixed": "FIXED",
                 "error": "ERROR"}[self.status]
        where = f"{self.case.id} ({self.source.name}, {self.case.stage.value}, {self.policy})"
        if self.error is not None:
            return f"{label} {where}: {self.error}"
        got = f"{self.action.value if self.action else '?'}, escalations: " \
              f"{', '.join(self.escalations) or 'none'}"
        if self.status == "fixed":
            return f"{label} {where}: {got}; it passes now: remove 'pending: true' so it " \
                   "guards the fix"
        if self.problems:
            return f"{label} {where}: {'; '.join(self.problems)}"
        return f"{label} {where}: {got}"


class GoldenRunner:
    """Runs golden cases through policies with the SDK's pipeline (no recording). Engines
    are built and loaded once per policy file and shared between cases."""

    def __init__(self, registry: CheckRegistry | None = None,
                 policy: str | Path | None = None) -> None:
        self.registry = registry
        self.policy = policy
        """Run every case with this policy instead of the one each case names."""
        self._engines: dict[str, Engine] = {}

    def policy_path(self, loaded: LoadedCase) -> Path:
        """The policy file a case runs with; ``PolicyError`` when none can be found."""
        if self.policy is not None:
            return resolve_policy(self.policy)
        ref = loaded.case.policy
        if not ref:
            raise PolicyError(str(loaded.source), f"case {loaded.case.id} names no policy: "
                              "give one with --policy")
        path = Path(ref)
        if path.suffix in (".yaml", ".yml") or "/" in ref:
            return path if path.is_absolute() else loaded.source.parent / path
        return resolve_policy(ref)

    def engine(self, path: Path) -> Engine:
        key = str(path.resolve())
        if key not in self._engines:
            engine = build_engine(path, self.registry)
            engine.load()
            self._engines[key] = engine
        return self._engines[key]

    async def run_case(self, loaded: LoadedCase) -> CaseResult:
        case = loaded.case
        try:
            engine = await asyncio.to_thread(self.engine, self.policy_path(loaded))
        except PolicyError as exc:
            return CaseResult(case, loaded.source, False, error=str(exc))
        policy = f"{engine.policy.id} {engine.policy.version}"
        guard = AsyncGuard(Pipeline(engine), audience=case.audience, country=case.country,
                           tenant=(case.origin.tenant if case.origin and case.origin.tenant
                                   else "golden"))
        messages = [m.model_dump() for m in case.messages]
        try:
            inp = await guard.guard_input(messages)
            problems: list[str] = []
            if case.stage is Stage.INPUT:
                verdict = inp.verdict
            else:
                if inp.answered:
                    return CaseResult(
                        case, loaded.source, False, inp.verdict.action, inp.verdict.escalations,
                        (f"the input stage now answers itself ({inp.verdict.action.value}), so "
                         "the answer is never checked",), policy=policy)
                verdict = (await guard.guard_output(case.response or "", input=inp)).verdict
        except Exception as exc:  # one broken case must not stop the others
            return CaseResult(case, loaded.source, False,
                              error=f"{type(exc).__name__} while checking")
        below = case.expect.action_below
        if below is not None and not verdict.action < below:
            problems.append(f"action {verdict.action.value}, expected less severe than "
                            f"{below.value}")
        fired = sorted(set(verdict.escalations) & set(case.expect.not_escalations))
        if fired:
            problems.append(f"escalation {', '.join(fired)} fired, expected it not to")
        return CaseResult(case, loaded.source, not problems, verdict.action,
                          verdict.escalations, tuple(problems), policy=policy)

    async def run(self, cases: Iterable[LoadedCase]) -> list[CaseResult]:
        return [await self.run_case(c) for c in cases]


def iter_golden_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named, and every ``*.yaml``/``*.yml`` in directories named (sorted)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            yield path
