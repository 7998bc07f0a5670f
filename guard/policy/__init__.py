"""Policy packs: the schema and its loader."""

from guard.policy.loader import PolicyError, load_policy, parse_policy
from guard.policy.schema import CheckConfig, Escalation, Match, Policy, Rule

__all__ = [
    "CheckConfig",
    "Escalation",
    "Match",
    "Policy",
    "PolicyError",
    "Rule",
    "load_policy",
    "parse_policy",
]
