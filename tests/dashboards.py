"""The Grafana dashboards in deploy/grafana/dashboards, as the tests that check them read them.

Grafana expands its variables in a query before Prometheus sees it; ``to_promql`` does the
same with fixed values (every dashboard variable as its "All" value), so an expression can
be linted here and evaluated by a real Prometheus in tests/test_dashboards_prometheus.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD_DIR = GRAFANA_DIR / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Grafana's global variables. The windows are long enough to cover all of a short test's
# traffic (Grafana derives $__rate_interval from the scrape interval; 1 m for 15 s).
GLOBALS = {
    "__rate_interval": "5m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
# $name, ${name}, ${name:format} and the deprecated [[name]].
VARIABLE = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)\]\]")
METRIC = re.compile(r"\b(primum_[a-z0-9_]+|primum:[a-z0-9_:]+)")


@dataclass(frozen=True)
class Query:
    """One PromQL expression of a dashboard: a panel target or an annotation."""

    dashboard: str
    where: str
    """The panel title and refId (or the annotation name), for messages."""
    expr: str
    instant: bool
    target: dict[str, Any]


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARD_DIR.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard."""
    return {path.name: load(path) for path in dashboard_files()}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, with the panels of collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def queries(dashboard: dict[str, Any]) -> Iterator[Query]:
    title = dashboard["title"]
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield Query(title, f"{panel.get('title')!r} {target.get('refId')}",
                        target.get("expr", ""), bool(target.get("instant")), target)
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            yield Query(title, f"annotation {annotation['name']!r}", annotation["expr"], False,
                        annotation)


def used_variables(text: str) -> set[str]:
    return {next(filter(None, m.groups())) for m in VARIABLE.finditer(text)}


def to_promql(expr: str, dashboard: dict[str, Any]) -> str:
    """``expr`` with Grafana's variables replaced: globals by ``GLOBALS``, the dashboard's
    own by their "All" value. An unknown variable is an error, as it would be in Grafana."""
    defined = variables(dashboard)

    def value(match: re.Match[str]) -> str:
        name = next(filter(None, match.groups()))
        if name in GLOBALS:
            return GLOBALS[name]
        if name not in defined:
            raise KeyError(f"undefined variable ${name} in {expr!r}")
        all_value: str = defined[name].get("allValue") or ".*"
        return all_value

    return VARIABLE.sub(value, expr)


def metric_names(expr: str) -> set[str]:
    """The primum metric and recording-rule names an expression reads."""
    return set(METRIC.findall(expr))
