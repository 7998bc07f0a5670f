"""Findings + policy -> one action. Pure: no I/O, no clock, table-tested.

Every finding is matched against every rule; each matching rule proposes its action and
the most severe proposal wins. A fail-closed check that could not run proposes ``block``.
Ties between rules of the same action go to the rule listed first in the policy, so the
policy author controls which message is shown. A rule stands aside when a check it names in
``unless`` reported anything, or when a rule it names in ``unless_rules`` matched (judged on
the rules that matched before any stand-aside, so stand-asides do not chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from guard.policy.schema import Policy, Rule
from guard.types import Action, Audience, CheckFailure, Finding, Stage, most_severe

__all__ = ["Decision", "decide", "rule_matches"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    rules: tuple[str, ...]
    template: str | None
    escalations: tuple[str, ...]
    redactions: tuple[Finding, ...]
    """Findings whose spans must be replaced before the text leaves (redact rules)."""
    notes: tuple[str, ...] = ()
    """Templates of matched annotate rules kept when redact or escalate won."""
    evidence: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    """Template -> the findings that matched the rules showing it (for ``{details}``)."""


def category_matches(patterns: Sequence[str], category: str) -> bool:
    """``*`` matches any category, ``emergency.*`` any that starts with ``emergency.``,
    anything else only itself."""
    return any(
        p == "*" or p == category or (p.endswith("*") and category.startswith(p[:-1]))
        for p in patterns
    )


def rule_matches(rule: Rule, finding: Finding, stage: Stage, audience: Audience) -> bool:
    when = rule.when
    return (
        when.check == finding.check
        and category_matches(when.categories, finding.category)
        and finding.score >= when.min_score
        and (when.stages is None or stage in when.stages)
        and (when.audiences is None or audience in when.audiences)
    )


def decide(
    policy: Policy,
    stage: Stage,
    audience: Audience,
    findings: Sequence[Finding],
    failures: Sequence[CheckFailure] = (),
) -> Decision:
    matched: list[Rule] = []
    redactions: list[Finding] = []
    evidence: dict[str, list[Finding]] = {}
    reporting = {f.check for f in findings}
    candidates: list[tuple[Rule, list[Finding]]] = []
    for rule in policy.rules:
        if reporting.intersection(rule.when.unless):
            continue
        hits = [f for f in findings if rule_matches(rule, f, stage, audience)]
        if hits:
            candidates.append((rule, hits))
    matched_ids = [rule.id for rule, _ in candidates]
    for rule, hits in candidates:
        if rule.when.unless_rules and any(
            other != rule.id and category_matches(rule.when.unless_rules, other)
            for other in matched_ids
        ):
            continue
        matched.append(rule)
        if rule.template is not None:
            bucket = evidence.setdefault(rule.template, [])
            bucket.extend(f for f in hits if f not in bucket)
        if rule.action is Action.REDACT:
            redactions.extend(hits)

    proposals: list[tuple[Action, str, str | None]] = [
        (r.action, r.id, r.template) for r in matched
    ]
    for failure in failures:
        if failure.fail_mode == "closed":
            proposals.append(
                (Action.BLOCK, f"fail-closed.{failure.check}", policy.check_unavailable_template)
            )

    action = most_severe({a for a, _, _ in proposals})
    template = next((t for a, _, t in proposals if a is action and t is not None), None)
    escalations = tuple(dict.fromkeys(r.escalation for r in matched if r.escalation))
    notes: tuple[str, ...] = ()
    if action in (Action.REDACT, Action.ESCALATE):
        notes = tuple(dict.fromkeys(
            r.template for r in matched
            if r.action is Action.ANNOTATE and r.template is not None and r.template != template
        ))
    return Decision(
        action=action,
        rules=tuple(rule_id for _, rule_id, _ in proposals),
        template=template,
        escalations=escalations,
        redactions=tuple(dict.fromkeys(redactions)),
        notes=notes,
        evidence={t: tuple(fs) for t, fs in evidence.items()},
    )
