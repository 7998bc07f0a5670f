"""Build engines from policy files: the one place the proxy, the SDK and the CLI do it."""

from __future__ import annotations

from pathlib import Path

from guard.checks import CheckRegistry, default_registry
from guard.engine import Engine
from guard.policy import PolicyError, load_policy
from guard.policy.loader import POLICY_DIR, shipped_pack

__all__ = ["POLICY_DIR", "build_engine", "resolve_policy"]


def resolve_policy(name_or_path: str | Path) -> Path:
    """A path to a policy file: an existing path, or the name of a shipped pack."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    shipped = shipped_pack(str(name_or_path))
    if shipped is not None:
        return shipped
    known = ", ".join(sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))) or "none"
    raise PolicyError(str(name_or_path), f"no such policy file or shipped pack (shipped: {known})")


def build_engine(
    name_or_path: str | Path = "default", registry: CheckRegistry | None = None
) -> Engine:
    """Load and validate a policy and create its checks. Heavy models load in ``load()``."""
    path = resolve_policy(name_or_path)
    policy = load_policy(path)
    return Engine.build(policy, registry or default_registry(), source=str(path))
