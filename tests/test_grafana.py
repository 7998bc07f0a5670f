"""The Grafana dashboards and provisioning in deploy/grafana, checked by structure.

Grafana itself is not run here. What an import needs is checked instead: valid dashboard
JSON that Grafana 10/11 reads (schemaVersion, unique panel ids, a grid that fits), the
data source chosen by a template variable (never a hard-coded uid, so the same file imports
anywhere), a PromQL expression and refId for every target, variables that exist, and no
links to other sites. tests/test_dashboards_prometheus.py evaluates every expression
against a real Prometheus; tests/test_deploy.py checks their metric names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dashboards import (
    DASHBOARD_DIR,
    DATASOURCE,
    GLOBALS,
    GRAFANA_DIR,
    dashboard_files,
    dashboards,
    load,
    metric_names,
    panels,
    queries,
    to_promql,
    used_variables,
    variables,
)

PROMETHEUS_YML = GRAFANA_DIR.parent / "prometheus" / "prometheus.yml"
PANEL_TYPES = {"row", "timeseries", "stat", "bargauge", "table", "gauge", "text"}
QUERY_VARIABLES = {"job", "instance", "tenant", "model"}
URL = re.compile(r"(?i)\b(?:https?|ftp)://|//[a-z0-9.-]+\.[a-z]{2,}/")


@pytest.fixture(scope="module", params=[p.name for p in dashboard_files()])
def board(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(DASHBOARD_DIR / request.param)


def _content_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in panels(dashboard) if p["type"] != "row"]


def test_the_dashboards_are_there() -> None:
    names = {p.name for p in dashboard_files()}
    assert {"primum-overview.json", "primum-safety.json"} <= names
    uids = [d["uid"] for d in dashboards().values()]
    titles = [d["title"] for d in dashboards().values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)


def test_dashboard_fields_grafana_needs(board: dict[str, Any]) -> None:
    assert board["title"].startswith("Primum")
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), board["uid"]
    assert 36 <= board["schemaVersion"] <= 41  # Grafana 10.x-11.x
    # No numeric id: an import creates the dashboard (or updates it by uid), never another one.
    assert board.get("id") is None
    assert "primum" in board["tags"]
    assert board["time"]["from"].startswith("now-") and board["time"]["to"] == "now"
    assert isinstance(board["panels"], list) and board["panels"]


def test_panels_have_unique_ids_and_a_grid_that_fits(board: dict[str, Any]) -> None:
    all_panels = list(panels(board))
    ids = [p["id"] for p in all_panels]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    cells: dict[tuple[int, int], str] = {}
    for panel in all_panels:
        assert panel["type"] in PANEL_TYPES, panel["type"]
        assert panel.get("title"), panel["id"]
        grid = panel["gridPos"]
        assert {k: type(v) for k, v in grid.items()} == dict.fromkeys("hwxy", int), panel["title"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["y"] >= 0
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']}: wider than the grid"
        for dx in range(grid["w"]):
            for dy in range(grid["h"]):
                cell = (grid["x"] + dx, grid["y"] + dy)
                assert cell not in cells, f"{panel['title']} overlaps {cells[cell]}"
                cells[cell] = panel["title"]
    for panel in _content_panels(board):
        assert panel.get("description", "").strip(), f"{panel['title']}: no description"


def test_the_data_source_is_a_template_variable(board: dict[str, Any]) -> None:
    defined = variables(board)
    datasource = defined["datasource"]
    assert datasource["type"] == "datasource"
    assert datasource["query"] == "prometheus"
    assert not datasource.get("current"), "a saved current data source would pin one uid"
    for panel in _content_panels(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", DATASOURCE) == DATASOURCE, panel["title"]
    for name in QUERY_VARIABLES:
        assert defined[name]["type"] == "query"
        assert defined[name]["datasource"] == DATASOURCE, name
    for annotation in board["annotations"]["list"]:
        if annotation.get("builtIn"):
            assert annotation["datasource"] == {"type": "grafana", "uid": "-- Grafana --"}
        else:
            assert annotation["datasource"] == DATASOURCE, annotation["name"]
    # No other data source uid anywhere in the file.
    uids = re.findall(r'"uid":\s*"([^"]*)"', (DASHBOARD_DIR / _file(board)).read_text())
    assert set(uids) <= {board["uid"], "${datasource}", "-- Grafana --"}, uids


def _file(board: dict[str, Any]) -> str:
    (name,) = [n for n, d in dashboards().items() if d["uid"] == board["uid"]]
    return name


def test_query_variables_select_primum_series(board: dict[str, Any]) -> None:
    defined = variables(board)
    for name in QUERY_VARIABLES:
        variable = defined[name]
        query = variable["query"]
        query = query["query"] if isinstance(query, dict) else query
        match = re.fullmatch(r"label_values\((primum_[a-z_]+)(\{[^}]*\})?, (\w+)\)", query)
        assert match and match.group(3) == name, query
        # "All" is a regex that matches everything, used with =~ in every expression.
        assert variable["includeAll"] and variable["allValue"] == ".*", name
        assert variable["multi"], name


def test_every_target_has_an_expression_and_ref_id(board: dict[str, Any]) -> None:
    for panel in _content_panels(board):
        targets = panel.get("targets", [])
        assert targets, f"{panel['title']}: no query"
        ref_ids = [t.get("refId") for t in targets]
        assert all(ref_ids) and len(set(ref_ids)) == len(ref_ids), panel["title"]
        for target in targets:
            assert target.get("expr", "").strip(), f"{panel['title']} {target.get('refId')}"
            assert target.get("legendFormat") is not None, panel["title"]
        if panel["type"] in {"stat", "bargauge", "table"}:
            assert all(t.get("instant") for t in targets), f"{panel['title']}: not instant"


def test_expressions_use_defined_variables_as_regexes(board: dict[str, Any]) -> None:
    defined = variables(board)
    for query in queries(board):
        for name in used_variables(query.expr):
            assert name in defined or name in GLOBALS, f"{query.where}: ${name}"
        # A multi-value variable expands to a regex (a|b): it must sit behind =~ or !~.
        for name in (n for n, v in defined.items() if v.get("multi")):
            for match in re.finditer(rf'(\w+)\s*(=~|!~|!=|=)\s*"\$\{{?{name}\}}?"', query.expr):
                assert match.group(2) in {"=~", "!~"}, f"{query.where}: {match.group(0)}"
        # Counters are read through rate()/increase() over Grafana's windows, never a fixed
        # one that would be too short for some scrape intervals.
        for window in re.findall(r"\[([^\]]+)\]", query.expr):
            assert window in {"$__rate_interval", "$__range"}, f"{query.where}: [{window}]"
        to_promql(query.expr, board)  # raises on an undefined variable


def test_no_links_or_urls_to_other_sites(board: dict[str, Any]) -> None:
    text = (DASHBOARD_DIR / _file(board)).read_text(encoding="utf-8")
    assert not URL.search(text), URL.search(text)
    for link in board.get("links", []):
        assert link["type"] == "dashboards" and not link.get("url"), link
    for panel in panels(board):
        assert not panel.get("links"), panel["title"]
        assert not panel.get("libraryPanel"), "library panels do not travel with the file"
    assert "__inputs" not in board, "a data source input would pin it at import"


def test_the_dashboards_cover_the_safety_signals() -> None:
    used = {
        name
        for board in dashboards().values()
        for query in queries(board)
        for name in metric_names(query.expr)
    }
    assert {
        "primum_requests_total",
        "primum_decisions_total",
        "primum_principle_findings_total",
        "primum_criterion_findings_total",
        "primum_findings_total",
        "primum_escalations_total",
        "primum_cases_unresolved",
        "primum_case_oldest_unresolved_age_seconds",
        "primum_check_seconds_bucket",
        "primum_check_failures_total",
        "primum_upstream_errors_total",
        "primum_upstream_seconds_bucket",
        "primum_store_errors_total",
        "primum_ready",
    } <= used


def test_principle_names_are_the_classifiers() -> None:
    """The safety dashboard names the nine AMA principles as the classifier does."""
    principles = pytest.importorskip("classifiers.harmful_request.principles")
    expected = {f"Principle {p.number}": f"{p.number}. {p.title}" for p in principles.PRINCIPLES}
    board = dashboards()["primum-safety.json"]
    found = 0
    for panel in panels(board):
        if "principle" not in panel["title"].lower():
            continue
        names = {
            o["matcher"]["options"]: o["properties"][0]["value"]
            for o in panel["fieldConfig"]["overrides"]
            if o["properties"][0]["id"] == "displayName"
        }
        assert names == expected, panel["title"]
        assert all(t["legendFormat"] == "Principle {{principle}}" for t in panel["targets"])
        found += 1
    assert found >= 2


def test_readme_explains_every_panel() -> None:
    readme = (GRAFANA_DIR / "README.md").read_text(encoding="utf-8")
    for name, board in dashboards().items():
        assert name in readme
        for panel in _content_panels(board):
            assert panel["title"] in readme, f"{name}: {panel['title']!r} is not in the README"


# --------------------------------------------------------------------------- provisioning
def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_provisioning_files() -> None:
    datasources = _yaml(GRAFANA_DIR / "provisioning" / "datasources.yaml")
    assert datasources["apiVersion"] == 1
    (prometheus,) = [d for d in datasources["datasources"] if d["type"] == "prometheus"]
    assert prometheus["isDefault"] is True  # what the dashboards' variable starts on
    assert prometheus["access"] == "proxy"
    # $__rate_interval is derived from the scrape interval Grafana is told about.
    scrape = _yaml(PROMETHEUS_YML)["global"]
    assert prometheus["jsonData"]["timeInterval"] == scrape["scrape_interval"]

    providers = _yaml(GRAFANA_DIR / "provisioning" / "dashboards.yaml")
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")

