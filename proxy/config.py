"""The proxy's one configuration file: strict, validated at start-up, errors that point.

Like a policy, a broken config is an error naming the file, the line and the field; the
proxy never starts half-configured. API keys are stored as sha256 hashes only, and
provider secrets stay in the environment (``${VAR}`` in ``litellm_params``), so the file
itself can be reviewed and versioned without leaking credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guard.build import resolve_policy
from guard.errors import SourceError, line_of, parse_yaml
from guard.policy.loader import PolicyError
from guard.types import Audience

__all__ = [
    "CONFIG_ENV",
    "ConfigError",
    "MetricsConfig",
    "ModelEntry",
    "NotificationsConfig",
    "ProxyConfig",
    "ReviewConfig",
    "ReviewerConfig",
    "RouterSettings",
    "ServerConfig",
    "StoreConfig",
    "TenantConfig",
    "WebhookConfig",
    "default_config_text",
    "load_config",
    "parse_config",
]

CONFIG_ENV = "PRIMUM_CONFIG"
DEFAULT_CONFIG_NAME = "<embedded default config>"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class ConfigError(SourceError):
    """A config that cannot be used. ``str()`` names the file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    host: str = Field(default="127.0.0.1", description="Bind address; loopback unless exposed.")
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Larger request bodies get 413 before parsing."
    )
    max_message_chars: int = Field(
        default=100_000, gt=0, description="Per-message content limit (characters)."
    )
    request_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Longest wait for the upstream's answer, or for its next chunk when "
        "streaming, before the client gets 504.",
    )


def _key_digests(values: list[str]) -> list[str]:
    out = []
    for value in values:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise ValueError(
                "each entry must be a 64-hex-digit sha256 of a key (run `primum hash-key "
                "KEY`); plain keys are never stored"
            )
        out.append(value.lower())
    return out


class TenantConfig(_Strict):
    name: str = Field(pattern=_NAME, max_length=64, description="Bounded: used as a metric label.")
    key_sha256: list[str] = Field(
        min_length=1,
        description="sha256 (hex) of each API key of this tenant; `primum hash-key KEY`.",
    )
    policy: str = Field(description="An id under `policies`.")
    audience: Audience = "patient"
    country: str = Field(
        default="US", pattern=r"^[A-Z]{2}$", description="ISO 3166 code for local crisis lines."
    )
    models: list[str] | Literal["*"] = Field(
        default="*", description="Model names this tenant may use, or '*' for all."
    )

    @field_validator("key_sha256")
    @classmethod
    def _hex_digests(cls, values: list[str]) -> list[str]:
        return _key_digests(values)


class ReviewerConfig(_Strict):
    """A person (or team) of the safety team with a review key, separate from client keys."""

    name: str = Field(pattern=_NAME, max_length=64,
                      description="Shown as the actor in case timelines and as assignee.")
    key_sha256: list[str] = Field(min_length=1, description="sha256 (hex) of each review key.")
    role: Literal["reviewer", "admin"] = Field(
        default="reviewer",
        description="admin: every tenant, and may reopen resolved cases; reviewer: the "
        "tenants granted below.")
    tenants: list[str] | Literal["*"] = Field(
        default_factory=list, description="Tenant names this reviewer may see, or '*'.")

    @field_validator("key_sha256")
    @classmethod
    def _hex_digests(cls, values: list[str]) -> list[str]:
        return _key_digests(values)

    def granted(self, all_tenants: Sequence[str]) -> tuple[str, ...] | None:
        """The tenants this reviewer may see; ``None`` means every tenant."""
        if self.role == "admin" or self.tenants == "*":
            return None
        return tuple(t for t in self.tenants if t in all_tenants)


class ReviewConfig(_Strict):
    """The review API and web page at /review. Off (404) while no reviewer is configured."""

    reviewers: list[ReviewerConfig] = Field(default_factory=list)
    max_export_rows: int = Field(
        default=100_000, gt=0, le=10_000_000,
        description="Most rows one CSV/JSON export returns; narrow the filters for more.")


class ModelEntry(BaseModel):
    """One litellm Router deployment. Open like litellm's own (``model_info`` etc.)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    model_name: str = Field(pattern=_NAME, max_length=64)
    litellm_params: dict[str, Any] = Field(
        repr=False, description="Holds expanded secrets: never shown in repr or logs."
    )

    @field_validator("litellm_params")
    @classmethod
    def _has_model(cls, params: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(params.get("model"), str) or not params["model"]:
            raise ValueError("litellm_params.model is required (e.g. 'openai/gpt-4o-mini')")
        return params


class RouterSettings(_Strict):
    """Passed to ``litellm.Router``; only the reliability settings a proxy operator needs."""

    num_retries: int = Field(default=0, ge=0, le=10)
    timeout: float | None = Field(default=None, gt=0, description="Per attempt, seconds.")
    stream_timeout: float | None = Field(default=None, gt=0)
    fallbacks: list[dict[str, list[str]]] = Field(
        default_factory=list, description="[{model_name: [fallback_model_name, ...]}]"
    )
    retry_after: int = Field(default=0, ge=0)
    allowed_fails: int | None = Field(default=None, ge=0)
    cooldown_time: float | None = Field(default=None, ge=0)
    disable_cooldowns: bool | None = None
    routing_strategy: Literal[
        "simple-shuffle", "least-busy", "usage-based-routing", "latency-based-routing"
    ] = "simple-shuffle"

    def as_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class StoreConfig(_Strict):
    url: str = Field(
        default="sqlite:///var/primum.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the working dir. "
        "${VAR} references are read from the environment (e.g. the database password).",
        repr=False,
    )


class MetricsConfig(_Strict):
    multiproc_dir: str | None = Field(
        default=None,
        description="PROMETHEUS_MULTIPROC_DIR for several workers; wiped at start.",
    )


class WebhookConfig(_Strict):
    """An HTTP receiver told about new review cases (JSON, HMAC-signed, retried)."""

    name: str = Field(pattern=_NAME, max_length=64,
                      description="Names the webhook in the outbox, the logs and the metrics.")
    url: str = Field(
        repr=False,
        description="http(s) URL the JSON is POSTed to; ${VAR} references are read from the "
        "environment. Never logged.")
    secret: str = Field(
        repr=False,
        description="HMAC-SHA256 key for X-Primum-Signature; required, normally "
        "${PRIMUM_WEBHOOK_SECRET}. Never logged.")
    escalations: list[str] | Literal["*"] = Field(
        default="*", description="Escalation rule names whose cases are sent, or '*'.")
    min_priority: Literal["low", "normal", "high", "critical"] = Field(
        default="low", description="Only cases of at least this priority are sent.")
    timeout_s: float = Field(default=5.0, gt=0, le=60,
                             description="Per attempt; a timeout is retried.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if "${" not in url:  # checked again after ${VAR} expansion
            problem = _url_problem(url)
            if problem:
                raise ValueError(problem)
        return url

    @field_validator("secret")
    @classmethod
    def _has_secret(cls, secret: str) -> str:
        if not secret.strip():
            raise ValueError("a webhook needs a secret (e.g. ${PRIMUM_WEBHOOK_SECRET})")
        return secret


class NotificationsConfig(_Strict):
    """Webhooks for new review cases, and merging of duplicate escalations into one case."""

    webhooks: list[WebhookConfig] = Field(default_factory=list)
    max_attempts: int = Field(
        default=8, ge=1, le=50,
        description="Attempts per delivery before it is marked failed (kept, and counted).")
    merge_window_s: float = Field(
        default=600.0, ge=0, le=7 * 24 * 3600,
        description="An escalation duplicating an unresolved case opened within this many "
        "seconds is merged into it (0: never merge).")


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable webhook URL (the message never quotes the URL: it may
    hold credentials)."""
    try:
        parsed = urlsplit(url.strip())
        parsed.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return "a webhook url must be a valid http(s) URL"
    if parsed.scheme not in ("http", "https"):
        return "a webhook url must start with http:// or https://"
    if not parsed.hostname:
        return "a webhook url needs a host"
    return None


class ProxyConfig(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    policies: dict[str, str] = Field(
        default_factory=lambda: {"default": "default"},
        description="Policy id -> policy file (relative to this file) or shipped pack name.",
    )
    tenants: list[TenantConfig] = Field(min_length=1)
    model_list: list[ModelEntry] = Field(min_length=1)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    store: StoreConfig = Field(default_factory=StoreConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    source: str = Field(default=DEFAULT_CONFIG_NAME, exclude=True, repr=False)

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> ProxyConfig:
        if not (info.context or {}).get("defer_references"):
            problems = self.reference_problems()
            if problems:
                raise ValueError(problems[0][1])
        return self

    def reference_problems(self) -> list[tuple[list[str | int], str]]:
        """Cross-references that do not resolve, each with the location it concerns."""
        problems: list[tuple[list[str | int], str]] = []
        names = self.model_names()
        seen_tenants: set[str] = set()
        seen_keys: dict[str, str] = {}
        seen_review_keys: dict[str, str] = {}
        for i, tenant in enumerate(self.tenants):
            if tenant.name in seen_tenants:
                problems.append(
                    (["tenants", i, "name"], f"tenant names must be unique: {tenant.name!r}")
                )
            seen_tenants.add(tenant.name)
            if tenant.policy not in self.policies:
                known = ", ".join(sorted(self.policies)) or "none"
                problems.append((
                    ["tenants", i, "policy"],
                    f"unknown policy {tenant.policy!r} (known: {known})",
                ))
            if tenant.models != "*":
                for j, model in enumerate(tenant.models):
                    if model not in names:
                        problems.append((
                            ["tenants", i, "models", j],
                            f"model {model!r} is not in model_list (known: {', '.join(names)})",
                        ))
            for j, digest in enumerate(tenant.key_sha256):
                other = seen_keys.setdefault(digest, tenant.name)
                if other != tenant.name:
                    problems.append((
                        ["tenants", i, "key_sha256", j],
                        f"this key hash is also listed for tenant {other!r}: a key must name "
                        "exactly one tenant",
                    ))
        tenant_names = {t.name for t in self.tenants}
        seen_reviewers: set[str] = set()
        for i, reviewer in enumerate(self.review.reviewers):
            where: list[str | int] = ["review", "reviewers", i]
            if reviewer.name in seen_reviewers:
                problems.append(([*where, "name"],
                                 f"reviewer names must be unique: {reviewer.name!r}"))
            seen_reviewers.add(reviewer.name)
            if reviewer.role == "reviewer" and not reviewer.tenants:
                problems.append(([*where, "tenants"],
                                 "a reviewer must be granted tenants (a list of names, or '*')"))
            if reviewer.tenants != "*":
                for j, name in enumerate(reviewer.tenants):
                    if name not in tenant_names:
                        problems.append(([*where, "tenants", j], f"unknown tenant {name!r}"))
            for j, digest in enumerate(reviewer.key_sha256):
                if digest in seen_keys:
                    problems.append((
                        [*where, "key_sha256", j],
                        f"this key hash is a client key of tenant {seen_keys[digest]!r}: review "
                        "keys must be separate from client keys",
                    ))
                other = seen_review_keys.setdefault(digest, reviewer.name)
                if other != reviewer.name:
                    problems.append(([*where, "key_sha256", j],
                                     f"this key hash is also listed for reviewer {other!r}"))
        seen_webhooks: set[str] = set()
        for i, webhook in enumerate(self.notifications.webhooks):
            if webhook.name in seen_webhooks:
                problems.append((["notifications", "webhooks", i, "name"],
                                 f"webhook names must be unique: {webhook.name!r}"))
            seen_webhooks.add(webhook.name)
        for i, entry in enumerate(self.router_settings.fallbacks):
            for model, fallbacks in entry.items():
                for name in (model, *fallbacks):
                    if name not in names:
                        problems.append((
                            ["router_settings", "fallbacks", i, model],
                            f"unknown model {name!r} (known: {', '.join(names)})",
                        ))
        return problems

    def model_names(self) -> list[str]:
        """Distinct model names in order (several deployments may share one name)."""
        return list(dict.fromkeys(m.model_name for m in self.model_list))

    def tenant_models(self, tenant: TenantConfig) -> list[str]:
        return self.model_names() if tenant.models == "*" else list(tenant.models)

    def router_model_list(self) -> list[dict[str, Any]]:
        return [m.model_dump() for m in self.model_list]


def default_config_text() -> str:
    """The embedded default config (package data), used with neither --config nor env."""
    return resources.files("proxy").joinpath("default_config.yaml").read_text(encoding="utf-8")


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> ProxyConfig:
    """Load ``path``, else ``$PRIMUM_CONFIG``, else the embedded default."""
    env = os.environ if environ is None else environ
    chosen = path if path is not None else env.get(CONFIG_ENV) or None
    if chosen is None:
        return parse_config(default_config_text(), DEFAULT_CONFIG_NAME, Path.cwd(), env)
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), f"cannot read config file ({exc.strerror})") from None
    return parse_config(text, str(file), file.resolve().parent, env)


def parse_config(
    text: str,
    source: str = "<config>",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProxyConfig:
    """Validate ``text``; resolve policy paths against ``base_dir`` and ``${VAR}`` in
    ``litellm_params``, ``store.url`` and the webhooks' ``url`` and ``secret`` against
    ``environ`` (secrets stay out of the file)."""
    env = os.environ if environ is None else environ
    base = base_dir or Path.cwd()
    root, data = parse_yaml(text, source, ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(source, "the config must be a YAML mapping with tenants and model_list")

    def error(message: str, loc: Sequence[Any]) -> ConfigError:
        field = ".".join(str(p) for p in loc) or None
        return ConfigError(source, message, line=line_of(root, loc), field=field)

    if "source" in data:
        raise error("Extra inputs are not permitted", ["source"])
    try:
        config = ProxyConfig.model_validate(
            {**data, "source": source}, context={"defer_references": True}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        message = first["msg"] + (f" (and {more} more error{'s' * (more > 1)})" if more else "")
        raise error(message, list(first["loc"])) from None
    problems = config.reference_problems()
    if problems:
        loc, message = problems[0]
        raise error(message, loc)

    policies: dict[str, str] = {}
    for policy_id, ref in config.policies.items():
        try:
            policies[policy_id] = str(_resolve_policy_ref(ref, base))
        except PolicyError as exc:
            raise error(exc.message, ["policies", policy_id]) from None

    models = []
    for i, entry in enumerate(config.model_list):
        params = {}
        for key, value in entry.litellm_params.items():
            try:
                params[key] = _expand_env(value, env)
            except KeyError as exc:
                raise error(
                    f"environment variable {exc.args[0]} is not set",
                    ["model_list", i, "litellm_params", key],
                ) from None
        models.append(entry.model_copy(update={"litellm_params": params}))
    try:
        store = config.store.model_copy(update={"url": _expand_env(config.store.url, env)})
    except KeyError as exc:
        raise error(f"environment variable {exc.args[0]} is not set", ["store", "url"]) from None
    webhooks = []
    for i, webhook in enumerate(config.notifications.webhooks):
        where: list[str | int] = ["notifications", "webhooks", i]
        expanded: dict[str, str] = {}
        for key in ("url", "secret"):
            try:
                expanded[key] = _expand_env(getattr(webhook, key), env)
            except KeyError as exc:
                raise error(f"environment variable {exc.args[0]} is not set",
                            [*where, key]) from None
        problem = _url_problem(expanded["url"])
        if problem:
            raise error(problem, [*where, "url"])
        if not expanded["secret"].strip():
            raise error("the webhook secret is empty after ${VAR} expansion", [*where, "secret"])
        webhooks.append(webhook.model_copy(update=expanded))
    notifications = config.notifications.model_copy(update={"webhooks": webhooks})
    return config.model_copy(update={"policies": policies, "model_list": models, "store": store,
                                     "notifications": notifications})


def _resolve_policy_ref(ref: str, base: Path) -> Path:
    looks_like_path = Path(ref).suffix in (".yaml", ".yml") or "/" in ref or os.sep in ref
    if looks_like_path:
        path = Path(ref) if Path(ref).is_absolute() else base / ref
        if not path.is_file():
            raise PolicyError(ref, f"policy file {str(path)!r} does not exist")
        return path
    return resolve_policy(ref)


def _expand_env(value: Any, env: Mapping[str, str]) -> Any:
    """Replace ``${VAR}`` in strings, recursively; a missing variable is a ``KeyError``."""
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise KeyError(name)
            return env[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, list):
        return [_expand_env(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v, env) for k, v in value.items()}
    return value
