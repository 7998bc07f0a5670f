"""The proxy config: defaults, the embedded default, and every kind of bad config naming
its file, line and field."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from guard.build import POLICY_DIR
from proxy.config import (
    CONFIG_ENV,
    ConfigError,
    default_config_text,
    load_config,
    parse_config,
)

HASH = hashlib.sha256(b"sk-a").hexdigest()
HASH_B = hashlib.sha256(b"sk-b").hexdigest()

GOOD = f"""\
server:
  port: 9000
  workers: 2
policies:
  default: default
  strict: policies/strict.yaml
tenants:
  - name: clinic
    key_sha256: ["{HASH.upper()}"]
    policy: strict
    audience: clinician
    country: GB
    models: [gpt]
  - name: app
    key_sha256: ["{HASH_B}"]
    policy: default
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: ${{TEST_OPENAI_KEY}}
      extra_headers: {{x-team: "${{TEST_TEAM}}-primum"}}
  - model_name: local
    litellm_params: {{model: ollama/llama3, api_base: "http://127.0.0.1:11434"}}
router_settings:
  num_retries: 2
  timeout: 30
  fallbacks: [{{gpt: [local]}}]
store:
  url: postgresql://db/primum
metrics:
  multiproc_dir: /tmp/primum-metrics
"""

ENV = {"TEST_OPENAI_KEY": "sk-provider", "TEST_TEAM": "icu"}


@pytest.fixture
def base(tmp_path: Path) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "strict.yaml").write_text((POLICY_DIR / "default.yaml").read_text())
    return tmp_path


def test_good_config(base: Path) -> None:
    config = parse_config(GOOD, "conf.yaml", base, ENV)
    assert config.server.port == 9000 and config.server.workers == 2
    assert config.server.host == "127.0.0.1"
    assert config.server.max_body_bytes == 1024 * 1024
    assert config.server.max_message_chars == 100_000
    assert config.policies["strict"] == str(base / "policies" / "strict.yaml")
    assert config.policies["default"] == str(POLICY_DIR / "default.yaml")
    clinic, app = config.tenants
    assert clinic.key_sha256 == [HASH]  # normalised to lower case
    assert (clinic.audience, clinic.country, clinic.models) == ("clinician", "GB", ["gpt"])
    assert (app.audience, app.country, app.models) == ("patient", "US", "*")
    assert config.tenant_models(app) == ["gpt", "local"]
    params = config.model_list[0].litellm_params
    assert params["api_key"] == "sk-provider"
    assert params["extra_headers"] == {"x-team": "icu-primum"}
    assert config.router_settings.as_kwargs() == {
        "num_retries": 2, "timeout": 30.0, "fallbacks": [{"gpt": ["local"]}], "retry_after": 0,
        "routing_strategy": "simple-shuffle",
    }
    assert config.store.url == "postgresql://db/primum"
    assert config.metrics.multiproc_dir == "/tmp/primum-metrics"
    assert config.source == "conf.yaml"


def test_expanded_secrets_stay_out_of_the_configs_repr(base: Path) -> None:
    config = parse_config(GOOD, "conf.yaml", base, ENV)
    assert config.model_list[0].litellm_params["api_key"] == "sk-provider"
    assert "sk-provider" not in repr(config)
    assert "sk-provider" not in str(config)


def test_store_url_reads_its_password_from_the_environment(base: Path) -> None:
    text = GOOD.replace("postgresql://db/primum", "postgresql://primum:${TEST_DB_PW}@db/primum")
    config = parse_config(text, "conf.yaml", base, {**ENV, "TEST_DB_PW": "s3cret"})
    assert config.store.url == "postgresql://primum:s3cret@db/primum"
    assert "s3cret" not in repr(config)
    with pytest.raises(ConfigError) as err:
        parse_config(text, "conf.yaml", base, ENV)
    assert err.value.field == "store.url"
    assert "TEST_DB_PW is not set" in str(err.value)


def test_embedded_default_config() -> None:
    config = load_config(None, environ={})
    assert config.source == "<embedded default config>"
    assert (config.server.host, config.server.port, config.server.workers) == (
        "127.0.0.1", 8080, 1)
    (tenant,) = config.tenants
    assert tenant.name == "local"
    assert tenant.key_sha256 == [hashlib.sha256(b"sk-primum-local").hexdigest()]
    assert (tenant.audience, tenant.country, tenant.policy) == ("patient", "US", "default")
    assert config.model_names() == ["primum-demo"]
    assert config.model_list[0].litellm_params == {"model": "primum/demo"}
    assert config.policies == {"default": str(POLICY_DIR / "default.yaml")}
    assert config.store.url == "sqlite:///var/primum.db"
    assert "sk-primum-local" in default_config_text()  # documented, never as a key entry


def test_config_path_from_environment(base: Path) -> None:
    path = base / "primum.yaml"
    path.write_text(GOOD)
    config = load_config(None, environ={CONFIG_ENV: str(path), **ENV})
    assert config.source == str(path)
    assert config.policies["strict"] == str(base / "policies" / "strict.yaml")


def test_explicit_path_wins_over_environment(base: Path) -> None:
    path = base / "primum.yaml"
    path.write_text(GOOD)
    config = load_config(path, environ={CONFIG_ENV: "/nonexistent.yaml", **ENV})
    assert config.source == str(path)


def test_unreadable_file() -> None:
    with pytest.raises(ConfigError, match=r"^/nonexistent/p\.yaml: cannot read config file"):
        load_config("/nonexistent/p.yaml", environ={})


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


BAD = [
    ("yaml-syntax", _replace("  port: 9000", "  port: [9000"), 3, None, "invalid YAML"),
    ("not-a-mapping", "- 1\n- 2\n", None, None, "must be a YAML mapping"),
    ("unknown-section", GOOD + "extras: {a: 1}\n", 33, "extras", "Extra inputs"),
    ("unknown-server-field", _replace("  workers: 2", "  wrokers: 2"), 3, "server.wrokers",
     "Extra inputs"),
    ("bad-port", _replace("port: 9000", "port: 70000"), 2, "server.port", "less than or equal"),
    ("plain-key", _replace(f'["{HASH.upper()}"]', '["sk-a"]'), 9, "tenants.0.key_sha256",
     "sha256"),
    ("bad-audience", _replace("audience: clinician", "audience: doctor"), 11,
     "tenants.0.audience", "'patient' or 'clinician'"),
    ("bad-country", _replace("country: GB", "country: UK1"), 12, "tenants.0.country",
     "pattern"),
    ("unknown-policy", _replace("policy: strict", "policy: lenient"), 10, "tenants.0.policy",
     "unknown policy 'lenient'"),
    ("unknown-model", _replace("models: [gpt]", "models: [gpt, claude]"), 13,
     "tenants.0.models.1", "model 'claude' is not in model_list"),
    ("duplicate-tenant", _replace("name: app", "name: clinic"), 14, "tenants.1.name",
     "unique"),
    ("key-in-two-tenants", _replace(f'["{HASH_B}"]', f'["{HASH}"]'), 15,
     "tenants.1.key_sha256.0", "also listed for tenant 'clinic'"),
    ("missing-model-param", _replace("model: ollama/llama3, ", ""), 24,
     "model_list.1.litellm_params", "litellm_params.model is required"),
    ("missing-env", _replace("${TEST_OPENAI_KEY}", "${TEST_NOT_SET}"), 21,
     "model_list.0.litellm_params.api_key", "TEST_NOT_SET is not set"),
    ("unknown-fallback", _replace("[{gpt: [local]}]", "[{gpt: [nope]}]"), 28,
     "router_settings.fallbacks.0.gpt", "unknown model 'nope'"),
    ("bad-router-setting", _replace("num_retries: 2", "retries: 2"), 26,
     "router_settings.retries", "Extra inputs"),
    ("missing-policy-file", _replace("policies/strict.yaml", "policies/nope.yaml"), 6,
     "policies.strict", "does not exist"),
    ("unknown-shipped-pack", _replace("default: default", "default: no-such-pack"), 5,
     "policies.default", "no such policy file or shipped pack"),
    ("no-tenants", GOOD.split("tenants:")[0] + "tenants: []\nmodel_list: [{model_name: a, "
     "litellm_params: {model: openai/a}}]\n", 7, "tenants", "at least 1"),
    ("source-is-internal", GOOD + "source: x\n", 33, "source", "Extra inputs"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_config_names_file_line_and_field(
    base: Path, text: str, line: int | None, field: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "conf.yaml", base, ENV)
    err = info.value
    assert err.source == "conf.yaml"
    assert message in err.message
    assert (err.line, err.field) == (line, field)
    where = "conf.yaml" if line is None else f"conf.yaml:{line}"
    assert str(err).startswith(f"{where}: ")
