"""One request's path through the guard. The proxy and the SDK both call this; there is
one code path for decisions.

    guard_input  -> redact PHI, decide; block/clarify answer at once, else call upstream
    guard_output -> check the answer in context, redact, restore the user's own PHI,
                    amend (crisis resources first, notes after), record
    stream       -> the same, window by window: text is released only after its window
                    passed the output checks

Recording (audit store, metrics) goes through the injected ``Recorder``; a recorder that
fails is logged by ``MultiRecorder`` and never costs the user the answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from guard.engine import Engine
from guard.messages import input_segments, replace_segment_texts
from guard.recording import CaseRecord, DecisionRecord, NullRecorder, Recorder, dedup_key
from guard.redaction import Vault, redact, restore, spans_from_findings
from guard.types import Action, Context, Finding, Segment, Stage, Verdict, most_severe

__all__ = ["GuardedStream", "InputOutcome", "OutputOutcome", "Pipeline"]

RequestCounter = Callable[[str, str, Action], None]
"""``count(tenant, model, action)``: called once per finished request."""
UpstreamErrorCounter = Callable[[str, str], None]
"""``count(model, reason)``: called when the upstream call of a request failed."""

_WITHHELD = "[excerpt withheld: no PHI check ran on this text]"


@dataclass
class InputOutcome:
    request_id: str
    verdict: Verdict
    messages: list[dict[str, Any]]
    """What may leave for the upstream: the request with PHI replaced by placeholders."""
    vault: Vault
    case_ids: tuple[str, ...] = ()
    segments: tuple[Segment, ...] = ()
    """The request's segments as checked at the input stage (output checks see them)."""
    subject: tuple[str | None, str] = (None, "")
    """What a case opened for this request is about, for merging duplicates: the client's
    ``user`` field (``ctx.metadata["user"]``) and the input's redacted excerpt ("" when
    withheld). Only ever stored hashed (``guard.recording.dedup_key``)."""

    @property
    def answered(self) -> bool:
        """True when the guard answers itself (block or clarify): no upstream call."""
        return self.verdict.action in (Action.BLOCK, Action.CLARIFY)

    @property
    def answer(self) -> str:
        return self.verdict.message or ""


@dataclass
class OutputOutcome:
    verdict: Verdict
    text: str
    finish_reason: str | None = None
    """``content_filter`` when the guard stopped the answer; otherwise keep upstream's."""
    case_ids: tuple[str, ...] = ()

    @property
    def action(self) -> Action:
        return self.verdict.action


@dataclass
class Pipeline:
    engine: Engine
    recorder: Recorder = field(default_factory=NullRecorder)
    count_request: RequestCounter | None = None
    count_upstream_error: UpstreamErrorCounter | None = None
    excerpt_chars: int = 300
    stream_window_chars: int = 160
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    # ------------------------------------------------------------------ input
    async def guard_input(
        self, messages: Sequence[Mapping[str, Any]], ctx: Context, request_id: str | None = None
    ) -> InputOutcome:
        request_id = request_id or self.new_id()
        ctx = replace(ctx, stage=Stage.INPUT)
        segments = input_segments(messages)
        verdict = await self.engine.run(Stage.INPUT, segments, ctx)

        vault = Vault()
        replacements: dict[Segment, str] = {}
        if verdict.redactions:
            for index, segment in enumerate(segments):
                spans = spans_from_findings(verdict.redactions, index)
                if spans:
                    replacements[segment] = redact(segment.text, spans, vault)
        outgoing = replace_segment_texts(messages, replacements)

        excerpt = self._excerpt(_shown(segments), segments, verdict)
        subject = (ctx.metadata.get("user") or None, "" if excerpt == _WITHHELD else excerpt)
        case_ids = await self._open_cases(request_id, ctx, verdict, excerpt, subject)
        await self._record(request_id, ctx, verdict, excerpt, case_ids)
        outcome = InputOutcome(request_id, verdict, outgoing, vault, case_ids, tuple(segments),
                               subject)
        if outcome.answered:
            self._count(ctx, verdict.action)
        return outcome

    # ----------------------------------------------------------------- output
    async def guard_output(
        self, text: str, ctx: Context, inp: InputOutcome, upstream_ms: float | None = None
    ) -> OutputOutcome:
        ctx = replace(ctx, stage=Stage.OUTPUT, input_findings=inp.verdict.findings,
                      conversation=inp.segments)
        segment = Segment(text, "assistant", -1)
        verdict = await self.engine.run(Stage.OUTPUT, [segment], ctx)
        outcome = self._compose(text, verdict, inp)
        excerpt = self._excerpt([segment], [segment], verdict)
        case_ids = await self._open_cases(inp.request_id, ctx, verdict, excerpt, inp.subject)
        outcome.case_ids = case_ids
        await self._record(inp.request_id, ctx, verdict, excerpt, case_ids, upstream_ms)
        self._count(ctx, most_severe({inp.verdict.action, verdict.action}))
        return outcome

    def upstream_failed(self, ctx: Context, inp: InputOutcome, reason: str) -> None:
        """Count a request whose upstream call failed. It passed the input stage, so it is a
        finished request with that stage's action; the failure is counted by reason."""
        self._count(ctx, inp.verdict.action)
        if self.count_upstream_error is not None:
            self.count_upstream_error(ctx.model or "", reason)

    def stream(self, ctx: Context, inp: InputOutcome) -> GuardedStream:
        return GuardedStream(self, replace(ctx, stage=Stage.OUTPUT,
                                           input_findings=inp.verdict.findings,
                                           conversation=inp.segments), inp)

    # ---------------------------------------------------------------- helpers
    def _compose(self, text: str, verdict: Verdict, inp: InputOutcome) -> OutputOutcome:
        if verdict.action is Action.BLOCK:
            return OutputOutcome(verdict, verdict.message or "", "content_filter")
        body = self._clean(text, verdict, inp)
        body = self.amend(body, inp.verdict)
        body = self.amend(body, verdict)
        return OutputOutcome(verdict, body)

    def _clean(self, text: str, verdict: Verdict, inp: InputOutcome) -> str:
        """Redact what the model produced itself, then restore the user's own identifiers."""
        spans = spans_from_findings(verdict.redactions, 0)
        if spans:
            text = redact(text, spans, Vault(reserved=inp.vault))
        if self.engine.policy.phi.restore_in_response:
            text = restore(text, inp.vault)
        return text

    def amendment(self, verdict: Verdict) -> tuple[str, str] | None:
        """``(mode, text)`` to combine with the answer, or None."""
        if not verdict.message:
            return None
        if verdict.action is Action.ESCALATE:
            modes = [self.engine.policy.escalations[name].amend for name in verdict.escalations]
            mode = modes[0] if modes else "prepend"
            return None if mode == "none" else (mode, verdict.message)
        if verdict.action is Action.ANNOTATE:
            return ("append", verdict.message)
        return None

    def amend(self, body: str, verdict: Verdict) -> str:
        """Combine an answer with a verdict's message (per its escalation) and notes."""
        amendment = self.amendment(verdict)
        if amendment is not None:
            mode, message = amendment
            if mode == "replace":
                body = message
            elif mode == "prepend":
                body = f"{message}\n\n{body}" if body else message
            else:
                body = f"{body}\n\n{message}" if body else message
        for note in verdict.notes:
            body = f"{body}\n\n{note}" if body else note
        return body

    def _excerpt(
        self, shown: Sequence[Segment], segments: Sequence[Segment], verdict: Verdict
    ) -> str:
        """The checked text with every entity finding replaced, whatever the policy's action.

        If no PHI check ran successfully on this stage, nothing is kept: the store must
        never hold raw PHI, even under a policy that lets PHI through to the model.
        """
        if not self.has_phi_check(verdict):
            return _WITHHELD
        vault = Vault()
        position = {segment: i for i, segment in enumerate(segments)}
        entity_findings = [f for f in verdict.findings if f.entity is not None]
        parts = [
            redact(s.text, spans_from_findings(entity_findings, position[s]), vault)
            for s in shown
        ]
        excerpt = " | ".join(p.replace("\n", " ") for p in parts)
        return excerpt[: self.excerpt_chars]

    def has_phi_check(self, verdict: Verdict) -> bool:
        """Whether a PHI check ran without failing for this verdict's stage."""
        phi_checks = {c.id for c in self.engine.policy.checks
                      if c.kind == "phi" and verdict.stage in c.stages}
        failed = {f.check for f in verdict.failures}
        return bool(phi_checks - failed)

    async def _open_cases(
        self, request_id: str, ctx: Context, verdict: Verdict, excerpt: str,
        subject: tuple[str | None, str] = (None, ""),
    ) -> tuple[str, ...]:
        """One case per escalation. The recorder (the audit store) may merge one into a
        recent unresolved case about the same thing: then that case's id is returned."""
        ids: list[str] = []
        user, text = subject
        for name in verdict.escalations:
            escalation = self.engine.policy.escalations[name]
            case = CaseRecord(
                case_id=self.new_id(),
                request_id=request_id,
                time=self.clock(),
                tenant=ctx.tenant,
                rule=name,
                priority=escalation.priority,
                policy_id=verdict.policy_id,
                policy_version=verdict.policy_version,
                categories=verdict.categories,
                excerpt=excerpt,
                model=ctx.model or "",
                dedup_key=dedup_key(ctx.tenant, name, user, text),
            )
            effective = await self.recorder.open_case(case)
            ids.append(effective or case.case_id)
        return tuple(dict.fromkeys(ids))

    async def _record(
        self,
        request_id: str,
        ctx: Context,
        verdict: Verdict,
        excerpt: str,
        case_ids: tuple[str, ...],
        upstream_ms: float | None = None,
    ) -> None:
        record = DecisionRecord(
            request_id=request_id,
            time=self.clock(),
            tenant=ctx.tenant,
            model=ctx.model or "",
            stage=verdict.stage,
            verdict=verdict,
            excerpt=excerpt,
            case_id=case_ids[0] if case_ids else None,
            upstream_ms=upstream_ms,
            case_priorities=tuple(self.engine.policy.escalations[name].priority
                                  for name in verdict.escalations),
        )
        await self.recorder.record_decision(record)

    def _count(self, ctx: Context, action: Action) -> None:
        if self.count_request is not None:
            self.count_request(ctx.tenant, ctx.model or "", action)


def _shown(segments: Sequence[Segment]) -> list[Segment]:
    """The new segments a reviewer should read first: the user's words and tool results,
    then system prompts (resent with every request, they would crowd out the rest)."""
    new = [s for s in segments if s.new]
    return [s for s in new if s.role not in ("system", "developer")] + [
        s for s in new if s.role in ("system", "developer")
    ]


def _relative_to_chunk(findings: Sequence[Finding], offset: int) -> tuple[Finding, ...]:
    """The findings that touch the text after ``offset`` (a stream window's new chunk),
    with spans made relative to that chunk. Findings without a span are kept as they are."""
    return tuple(
        f if f.span is None else replace(f, span=(max(f.span[0] - offset, 0), f.span[1] - offset))
        for f in findings
        if f.span is None or f.span[1] > offset
    )


class GuardedStream:
    """Release a streamed answer window by window, each after it passed the output checks.

    ``prefix()`` is what goes out before the model's first token (crisis resources);
    ``feed()`` returns the text that may be released now; ``close()`` checks the rest,
    records the decision and returns the last text plus the stage outcome. After a block,
    nothing more of the model's text is released.
    """

    _CONTEXT_CHARS = 80

    def __init__(self, pipeline: Pipeline, ctx: Context, inp: InputOutcome) -> None:
        self._p = pipeline
        self._ctx = ctx
        self._inp = inp
        self._buffer = ""
        self._released = ""
        self._excerpt = ""
        self._verdicts: list[Verdict] = []
        self.blocked = False

    def prefix(self) -> str:
        amendment = self._p.amendment(self._inp.verdict)
        if amendment and amendment[0] in ("prepend", "replace"):
            return amendment[1] + "\n\n"
        return ""

    @property
    def replaces_answer(self) -> bool:
        amendment = self._p.amendment(self._inp.verdict)
        return bool(amendment and amendment[0] == "replace")

    async def feed(self, delta: str) -> str:
        if self.blocked or not delta:
            return ""
        self._buffer += delta
        window = self._p.stream_window_chars
        if len(self._buffer) < window:
            return ""
        cut = max(self._buffer.rfind(" ", window // 2), self._buffer.rfind("\n", window // 2))
        if cut <= 0:
            if len(self._buffer) < 4 * window:
                return ""
            cut = len(self._buffer)
        chunk, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return await self._check(chunk)

    async def close(self, upstream_ms: float | None = None) -> tuple[str, OutputOutcome]:
        tail = ""
        if not self.blocked and self._buffer:
            tail = await self._check(self._buffer)
            self._buffer = ""
        verdict = _merge(self._verdicts, self._ctx, self._p.engine)
        if self.blocked:
            outcome = OutputOutcome(verdict, self._released, "content_filter")
        else:
            for v in (self._inp.verdict, verdict):
                amendment = self._p.amendment(v)
                if amendment and amendment[0] == "append":
                    tail += "\n\n" + amendment[1]
                for note in v.notes:
                    tail += "\n\n" + note
            outcome = OutputOutcome(verdict, self._released + tail)
        excerpt = self._excerpt[: self._p.excerpt_chars] if self._p.has_phi_check(
            verdict) else _WITHHELD
        outcome.case_ids = await self._p._open_cases(
            self._inp.request_id, self._ctx, verdict, excerpt, self._inp.subject
        )
        await self._p._record(self._inp.request_id, self._ctx, verdict, excerpt,
                              outcome.case_ids, upstream_ms)
        self._p._count(self._ctx, most_severe({self._inp.verdict.action, verdict.action}))
        return tail, outcome

    async def _check(self, chunk: str) -> str:
        context = self._released[-self._CONTEXT_CHARS:]
        text = context + chunk
        verdict = await self._p.engine.run(
            Stage.OUTPUT, [Segment(text, "assistant", -1)], self._ctx
        )
        offset = len(context)
        shifted = _relative_to_chunk(verdict.findings, offset)
        redactions = _relative_to_chunk(
            tuple(f for f in verdict.redactions if f.span is not None), offset
        )
        verdict = replace(verdict, findings=shifted, redactions=redactions)
        self._verdicts.append(verdict)
        if len(self._excerpt) < self._p.excerpt_chars:
            entities = [f for f in shifted if f.entity is not None]
            excerpt = redact(chunk, spans_from_findings(entities, 0), Vault())
            self._excerpt += excerpt.replace("\n", " ")
        if verdict.action is Action.BLOCK:
            self.blocked = True
            message = "\n\n" + (verdict.message or "")
            self._released += message
            return message
        spans = spans_from_findings(redactions, 0)
        if spans:
            chunk = redact(chunk, spans, Vault(reserved=self._inp.vault))
        if self._p.engine.policy.phi.restore_in_response:
            chunk = restore(chunk, self._inp.vault)
        self._released += chunk
        return chunk


def _merge(verdicts: Sequence[Verdict], ctx: Context, engine: Engine) -> Verdict:
    """One verdict for a whole streamed answer: the most severe window decides."""
    policy = engine.policy
    if not verdicts:
        return Verdict(Action.ALLOW, Stage.OUTPUT, policy.id, policy.version)
    worst = max(verdicts, key=lambda v: v.action.severity)
    latency: dict[str, float] = {}
    for v in verdicts:
        for check, ms in v.latency_ms.items():
            latency[check] = latency.get(check, 0.0) + ms
    return Verdict(
        action=worst.action,
        stage=Stage.OUTPUT,
        policy_id=policy.id,
        policy_version=policy.version,
        findings=tuple(f for v in verdicts for f in v.findings),
        rules=tuple(dict.fromkeys(r for v in verdicts for r in v.rules)),
        message=worst.message,
        escalations=tuple(dict.fromkeys(e for v in verdicts for e in v.escalations)),
        failures=tuple(f for v in verdicts for f in v.failures),
        latency_ms=latency,
        redactions=tuple(f for v in verdicts for f in v.redactions),
    )
