"""Settings that keep the stack offline and silent, applied before its packages load.

Measured on these packages: without them ``import litellm`` fetches a price map from the
internet, presidio's email recognizer fetches the public suffix list, and guardrails-ai
sends telemetry (and delays every process exit by ~18 s). Operators can still override
each variable in the environment; we only set defaults.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_DEFAULTS", "apply_offline_defaults", "disable_guardrails_telemetry"]

OFFLINE_DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_TELEMETRY": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


def apply_offline_defaults() -> None:
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)


def disable_guardrails_telemetry() -> None:
    """Turn off guardrails-ai metrics and remote inference, now and on every settings reload.

    guardrails-ai has no environment variable for this, and every ``guardrails.Guard()``
    reloads its settings from ``~/.guardrailsrc`` (metrics on by default), so setting the
    in-memory settings once is not enough: we also make its settings loader return
    telemetry-off settings. Measured without this: OTLP export attempts and a 7-18 s delay
    at process exit. Idempotent.
    """
    from typing import Any

    from guardrails.classes.rc import RC
    from guardrails.settings import settings

    rc = settings.rc
    rc.enable_metrics = False
    rc.use_remote_inferencing = False
    settings.use_server = False
    if getattr(RC.load, "_primum_silenced", False):
        return
    original = RC.load.__func__

    def load(cls: type[Any], logger: Any = None) -> Any:
        loaded = original(cls, logger)
        loaded.enable_metrics = False
        loaded.use_remote_inferencing = False
        return loaded

    load._primum_silenced = True  # type: ignore[attr-defined]
    RC.load = classmethod(load)
