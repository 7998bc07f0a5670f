"""Render a policy's user-facing texts with the tenant's local resources."""

from __future__ import annotations

from collections.abc import Sequence

from guard.policy.schema import Policy
from guard.types import Finding

__all__ = ["render"]


def render(
    policy: Policy, template: str, country: str, findings: Sequence[Finding] = ()
) -> str:
    """Fill ``template`` (a key of ``policy.templates``) for ``country``.

    ``findings`` are the ones that matched the rules showing this template; ``{details}``
    lists their ``advice`` (a dose limit and its source), one line each.

    Unknown countries fall back to the policy's default country: a person in crisis gets
    some number rather than none.
    """
    res = policy.resources
    line = res.crisis_lines.get(country) or res.crisis_lines.get(res.default_country)
    emergency = res.emergency_numbers.get(country) or res.emergency_numbers.get(
        res.default_country
    )
    values = {
        "crisis_line": line.contact if line else "your local emergency number",
        "crisis_line_name": line.name if line else "a crisis line",
        "emergency_number": emergency.number if emergency else "your local emergency number",
        "country": country,
        "checks": ", ".join(sorted({f.check for f in findings})),
        "categories": ", ".join(sorted({f.category for f in findings})),
        "details": "\n".join(f"- {a}" for a in dict.fromkeys(
            f.advice for f in findings if f.advice)),
    }
    return policy.templates[template].format_map(values).strip()
