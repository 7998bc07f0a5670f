"""The policy schema. Strict (``extra="forbid"``): a typo is an error, never a silent default.

A policy says which checks run at which stage, and which findings lead to which action,
message and escalation. Cross-references (a rule naming a check, a template or an
escalation that does not exist) are validated here too, so a loaded policy is usable.
"""

from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.types import Action, Audience, FailMode, Stage

__all__ = [
    "CheckConfig",
    "CrisisLine",
    "EmergencyNumber",
    "Escalation",
    "Match",
    "PhiSettings",
    "Policy",
    "Resources",
    "Rule",
]

# Variables a template may use; filled by guard.templates.render.
TEMPLATE_VARIABLES = frozenset(
    {"crisis_line", "crisis_line_name", "emergency_number", "country", "checks", "categories",
     "details"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckConfig(_Strict):
    kind: str = Field(description="Registered check kind, e.g. 'phi' or 'crisis'.")
    name: str | None = Field(
        default=None, description="Instance name used in findings and rules; defaults to kind."
    )
    stages: list[Stage] = Field(min_length=1, description="Stages the check runs at.")
    timeout_ms: int = Field(default=1000, gt=0, le=60_000, description="Time budget per run.")
    fail_mode: FailMode = Field(
        default="closed",
        description="On error or time-out: 'closed' blocks the request, 'open' lets it pass. "
        "Either way the failure is counted and recorded.",
    )
    scope: Literal["new", "all"] = Field(
        default="new",
        description="'new': only turns after the last assistant reply (plus system prompt); "
        "'all': every text that leaves for the upstream (PHI must be replaced in history too, "
        "because clients resend it on every turn).",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Check-specific settings.")

    @property
    def id(self) -> str:
        return self.name or self.kind


class Match(_Strict):
    check: str = Field(description="Check instance name the rule applies to.")
    categories: list[str] = Field(
        default_factory=lambda: ["*"], min_length=1,
        description="Finding categories; '*' = any; 'emergency.*' = any starting with 'emergency.'."
    )
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    stages: list[Stage] | None = Field(default=None, description="Limit to stages; None = all.")
    audiences: list[Audience] | None = Field(
        default=None, description="Limit to audiences; None = all."
    )
    unless: list[str] = Field(
        default_factory=list,
        description="Check names: the rule does not apply when any of them reported a "
        "finding at the same stage (a crisis disclosure is not an ethics violation). A "
        "name the policy does not run never suppresses, so a pack can name checks that "
        "the policies including it provide.",
    )
    unless_rules: list[str] = Field(
        default_factory=list,
        description="Rule ids ('ri-high-*': any starting with 'ri-high-'): the rule stands "
        "aside when any of those rules matched the same findings round (a patient's own "
        "high-risk plan gets that rule's safe path and escalation, not an ethics refusal). "
        "Judged on the rules that matched before any stand-aside, so stand-asides do not "
        "chain; an id the policy lacks never suppresses.",
    )


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)
    description: str = ""
    when: Match
    action: Action
    template: str | None = Field(default=None, description="Template shown to the user.")
    escalation: str | None = Field(default=None, description="Escalation to open.")


class Escalation(_Strict):
    priority: Literal["low", "normal", "high", "critical"] = "normal"
    amend: Literal["prepend", "append", "replace", "none"] = Field(
        default="prepend",
        description="How the rule's template is combined with the model's answer.",
    )
    description: str = ""


class CrisisLine(_Strict):
    name: str
    contact: str
    source: str = Field(min_length=1, description="Where this number comes from.")


class EmergencyNumber(_Strict):
    number: str
    source: str = Field(min_length=1)


class Resources(_Strict):
    default_country: str = "US"
    crisis_lines: dict[str, CrisisLine] = Field(default_factory=dict)
    emergency_numbers: dict[str, EmergencyNumber] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_country_known(self) -> Resources:
        for table in ("crisis_lines", "emergency_numbers"):
            entries = getattr(self, table)
            if entries and self.default_country not in entries:
                raise ValueError(
                    f"{table} has no entry for default_country {self.default_country!r}"
                )
        return self


class PhiSettings(_Strict):
    restore_in_response: bool = Field(
        default=True,
        description="Put the user's own identifiers back into the answer after the upstream "
        "saw placeholders only.",
    )


class CriterionMatch(_Strict):
    check: str = Field(description="Check instance name whose findings fall under the criterion.")
    categories: list[str] = Field(
        default_factory=lambda: ["*"], min_length=1,
        description="Finding categories; '*' = any; 'emergency.*' = a prefix.")


class Criterion(_Strict):
    """A clinical-safety criterion (CSEDB's) that a pack covers: how much a miss costs and
    which findings are evidence of it. Benchmarks weight their scores with ``weight``."""

    name: str = Field(min_length=1, description="English name (a paraphrase where the "
                      "source's is not public).")
    name_zh: str | None = None
    track: Literal["safety", "effectiveness"] = "safety"
    weight: int = Field(ge=1, le=5, description="Consequence weight: 5 potentially fatal, "
                        "1 reversible harm.")
    weight_source: str = Field(min_length=1, description="Where the weight comes from.")
    findings: list[CriterionMatch] = Field(min_length=1)
    description: str = ""


class Policy(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)
    version: str = Field(min_length=1, max_length=32)
    description: str = ""
    checks: list[CheckConfig] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    templates: dict[str, str] = Field(default_factory=dict)
    escalations: dict[str, Escalation] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    phi: PhiSettings = Field(default_factory=PhiSettings)
    criteria: dict[str, Criterion] = Field(
        default_factory=dict,
        description="Clinical-safety criteria this policy covers (CSEDB), by id.")
    included: list[str] = Field(
        default_factory=list,
        description="Packs merged in by 'include' (name and version); set by the loader.",
    )
    check_unavailable_template: str = Field(
        default="check_unavailable",
        description="Template used when a fail-closed check could not run.",
    )

    @field_validator("templates")
    @classmethod
    def _templates_use_known_variables(cls, templates: dict[str, str]) -> dict[str, str]:
        for name, text in templates.items():
            for _, field_name, _, _ in string.Formatter().parse(text):
                if field_name is not None and field_name not in TEMPLATE_VARIABLES:
                    known = ", ".join(sorted(TEMPLATE_VARIABLES))
                    raise ValueError(
                        f"template {name!r} uses unknown variable {{{field_name}}} (known: {known})"
                    )
        return templates

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        ids = [c.id for c in self.checks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"check names must be unique, repeated: {', '.join(dupes)}")
        rule_ids = [r.id for r in self.rules]
        dupes = sorted({i for i in rule_ids if rule_ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique, repeated: {', '.join(dupes)}")
        for rule in self.rules:
            if rule.when.check not in ids:
                raise ValueError(f"rule {rule.id!r} names unknown check {rule.when.check!r}")
            if rule.template is not None and rule.template not in self.templates:
                raise ValueError(f"rule {rule.id!r} names unknown template {rule.template!r}")
            if rule.escalation is not None and rule.escalation not in self.escalations:
                raise ValueError(f"rule {rule.id!r} names unknown escalation {rule.escalation!r}")
            if rule.action in (Action.BLOCK, Action.CLARIFY) and rule.template is None:
                raise ValueError(f"rule {rule.id!r}: action {rule.action.value} needs a template")
        for cid, criterion in self.criteria.items():
            for match in criterion.findings:
                if match.check not in ids:
                    raise ValueError(f"criterion {cid!r} names unknown check {match.check!r}")
        if (
            any(c.fail_mode == "closed" for c in self.checks)
            and self.check_unavailable_template not in self.templates
        ):
            raise ValueError(
                f"a fail-closed check needs template {self.check_unavailable_template!r}"
            )
        return self

    def check_config(self, name: str) -> CheckConfig:
        for config in self.checks:
            if config.id == name:
                return config
        raise KeyError(name)
