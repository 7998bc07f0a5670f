"""Built-in checks, one per module, and the registry that knows them by kind."""

from __future__ import annotations

from guard.checks.base import Check, CheckFactory, CheckParamsError, CheckRegistry

__all__ = ["Check", "CheckFactory", "CheckParamsError", "CheckRegistry", "default_registry"]


def default_registry() -> CheckRegistry:
    """A fresh registry with every built-in check kind. Import cost is paid here, not at
    ``import guard``: presidio and spaCy load only when a policy uses the PHI check."""
    import guard.checks.crisis as crisis
    import guard.checks.critical_illness as critical_illness
    import guard.checks.harmful_compliance as harmful_compliance
    import guard.checks.harmful_request as harmful_request
    import guard.checks.medication as medication
    import guard.checks.phi as phi
    import guard.checks.risky_intent as risky_intent

    registry = CheckRegistry()
    registry.register("phi", phi.factory)
    registry.register("crisis", crisis.factory)
    registry.register("harmful_request", harmful_request.factory)
    registry.register("harmful_compliance", harmful_compliance.factory)
    registry.register("medication", medication.factory)
    registry.register("critical_illness", critical_illness.factory)
    registry.register("risky_intent", risky_intent.factory)
    return registry
