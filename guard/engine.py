"""Run one stage's checks concurrently, each within its time budget, then decide.

A check that raises or runs out of time is never counted as a pass: it becomes a
``CheckFailure`` carrying the check's fail mode, and the policy turns a fail-closed
failure into a block.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from guard.checks.base import Check, CheckParamsError, CheckRegistry
from guard.decide import decide
from guard.policy.loader import PolicyError
from guard.policy.schema import CheckConfig, Policy
from guard.templates import render
from guard.types import CheckFailure, Context, Finding, Segment, Stage, Verdict

__all__ = ["Engine"]

log = logging.getLogger(__name__)


class Engine:
    """A policy with its checks built. Cheap to construct; call ``load()`` before serving."""

    def __init__(
        self,
        policy: Policy,
        checks: Mapping[str, Check],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        missing = [c.id for c in policy.checks if c.id not in checks]
        if missing:
            raise ValueError(f"no check instance for: {', '.join(missing)}")
        self.policy = policy
        self._checks = dict(checks)
        self._clock = clock
        self._loaded = False

    @classmethod
    def build(cls, policy: Policy, registry: CheckRegistry, source: str = "<policy>") -> Engine:
        """Create every check the policy lists. Bad params are a ``PolicyError``."""
        checks: dict[str, Check] = {}
        for i, config in enumerate(policy.checks):
            try:
                checks[config.id] = registry.create(
                    config.kind, config.id, frozenset(config.stages), config.params
                )
            except CheckParamsError as exc:
                raise PolicyError(
                    source, exc.message, field=f"checks.{i}.params.{exc.field}"
                ) from None
            except KeyError as exc:
                raise PolicyError(source, str(exc.args[0]), field=f"checks.{i}.kind") from None
        return cls(policy, checks)

    @property
    def ready(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """Build every check's heavy resources (models, NLP pipelines). Blocking."""
        for check in self._checks.values():
            check.load()
        self._loaded = True

    def checks_for(self, stage: Stage) -> list[tuple[CheckConfig, Check]]:
        return [
            (config, self._checks[config.id])
            for config in self.policy.checks
            if stage in config.stages
        ]

    async def run(self, stage: Stage, segments: Sequence[Segment], ctx: Context) -> Verdict:
        if ctx.stage is not stage:
            ctx = replace(ctx, stage=stage)
        selected = self.checks_for(stage) if segments else []
        results = await asyncio.gather(
            *(self._run_one(config, check, segments, ctx) for config, check in selected)
        )
        findings: list[Finding] = []
        failures: list[CheckFailure] = []
        latency: dict[str, float] = {}
        for (config, _), (found, failure, elapsed) in zip(selected, results, strict=True):
            if elapsed is not None:  # None: nothing in the check's scope, so it did not run
                latency[config.id] = elapsed
            findings.extend(found)
            if failure is not None:
                failures.append(failure)

        decision = decide(self.policy, stage, ctx.audience, findings, failures)
        message = (
            render(self.policy, decision.template, ctx.country,
                   decision.evidence.get(decision.template, findings))
            if decision.template
            else None
        )
        return Verdict(
            action=decision.action,
            stage=stage,
            policy_id=self.policy.id,
            policy_version=self.policy.version,
            findings=tuple(findings),
            rules=decision.rules,
            message=message,
            escalations=decision.escalations,
            failures=tuple(failures),
            latency_ms=latency,
            redactions=decision.redactions,
            notes=tuple(render(self.policy, t, ctx.country, decision.evidence.get(t, findings))
                        for t in decision.notes),
        )

    async def _run_one(
        self, config: CheckConfig, check: Check, segments: Sequence[Segment], ctx: Context
    ) -> tuple[list[Finding], CheckFailure | None, float | None]:
        start = self._clock()
        failure: CheckFailure | None = None
        found: list[Finding] = []
        # Checks see only their scope; finding indexes are mapped back to ``segments``.
        index = [i for i, s in enumerate(segments) if config.scope == "all" or s.new]
        if not index:
            return [], None, None
        try:
            raw = await asyncio.wait_for(
                check.detect([segments[i] for i in index], ctx), timeout=config.timeout_ms / 1000
            )
            found = [
                replace(
                    f,
                    check=config.id,
                    segment=index[f.segment] if f.segment is not None else None,
                )
                for f in raw
            ]
        except TimeoutError:
            failure = CheckFailure(config.id, "timeout", config.fail_mode,
                                   f"exceeded {config.timeout_ms} ms")
        except Exception as exc:  # a detector bug must not take the request down
            log.warning("check %s failed: %s", config.id, type(exc).__name__)
            failure = CheckFailure(config.id, "error", config.fail_mode, type(exc).__name__)
        elapsed_ms = (self._clock() - start) * 1000
        return found, failure, elapsed_ms
