"""``include``: packs are merged, not silently overridden; errors name the right file."""

from pathlib import Path

import pytest

from guard.policy import PolicyError, load_policy

BASE = """
id: base-pack
version: "3.0"
checks:
  - {kind: keyword, name: harm, stages: [input], params: {keywords: {forge: falsify}}}
rules:
  - id: harm-block
    when: {check: harm}
    action: block
    template: refuse
templates:
  refuse: "Base refusal."
  shared: "Base shared text."
  check_unavailable: "Unavailable; call {emergency_number}."
escalations:
  review: {priority: normal}
resources:
  default_country: GB
  emergency_numbers:
    GB: {number: "999", source: "NHS"}
"""

TOP = """
id: top
version: "1.2"
include: [base.yaml]
checks:
  - {kind: keyword, name: crisis, stages: [input], params: {keywords: {x: y}}}
rules:
  - id: crisis-annotate
    when: {check: crisis}
    action: annotate
    template: shared
templates:
  shared: "Tenant's own wording."
resources:
  emergency_numbers:
    US: {number: "911", source: "FCC"}
"""


def _write(tmp_path: Path, **files: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")


def test_include_merges_checks_rules_templates_and_resources(tmp_path: Path) -> None:
    _write(tmp_path, **{"base.yaml": BASE, "top.yaml": TOP})
    policy = load_policy(tmp_path / "top.yaml")
    assert (policy.id, policy.version) == ("top", "1.2")
    assert [c.id for c in policy.checks] == ["crisis", "harm"]
    assert [r.id for r in policy.rules] == ["crisis-annotate", "harm-block"]
    assert policy.templates["refuse"] == "Base refusal."
    assert policy.templates["shared"] == "Tenant's own wording."  # the includer wins
    assert set(policy.escalations) == {"review"}
    assert set(policy.resources.emergency_numbers) == {"GB", "US"}
    assert policy.resources.default_country == "GB"
    assert policy.included == ["base 3.0"]


def test_shipped_default_includes_ama_ethics() -> None:
    policy = load_policy(Path(__file__).resolve().parents[2] / "policies" / "default.yaml")
    assert any(i.startswith("ama-ethics ") for i in policy.included)
    assert {"phi", "crisis", "harmful_request", "harmful_compliance"} <= {
        c.id for c in policy.checks}


def test_shipped_pack_by_name_from_anywhere(tmp_path: Path) -> None:
    _write(tmp_path, **{"mine.yaml": 'id: mine\nversion: "1"\ninclude: [ama-ethics]\n'})
    policy = load_policy(tmp_path / "mine.yaml")
    assert "harmful_request" in {c.id for c in policy.checks}


def test_same_check_twice_is_an_error(tmp_path: Path) -> None:
    top = TOP.replace("name: crisis", "name: harm")
    _write(tmp_path, **{"base.yaml": BASE, "top.yaml": top})
    with pytest.raises(PolicyError, match="check names must be unique, repeated: harm"):
        load_policy(tmp_path / "top.yaml")


def test_error_in_included_pack_names_that_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, **{"base.yaml": BASE.replace("action: block", "action: obliterate"),
                        "top.yaml": TOP})
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "top.yaml")
    assert info.value.source.endswith("base.yaml")
    assert info.value.line == 9
    assert info.value.field == "rules.0.action"


def test_unknown_include_names_the_entry(tmp_path: Path) -> None:
    _write(tmp_path, **{"top.yaml": TOP.replace("[base.yaml]", "[nope]")})
    with pytest.raises(PolicyError, match="no such policy pack or file 'nope'") as info:
        load_policy(tmp_path / "top.yaml")
    assert info.value.line == 4


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, **{"a.yaml": 'id: a\nversion: "1"\ninclude: [b.yaml]\n',
                        "b.yaml": 'id: b\nversion: "1"\ninclude: [a.yaml]\n'})
    with pytest.raises(PolicyError, match="nest too deeply"):
        load_policy(tmp_path / "a.yaml")


def test_included_is_not_for_authors(tmp_path: Path) -> None:
    _write(tmp_path, **{"top.yaml": 'id: t\nversion: "1"\nincluded: [x]\n'})
    with pytest.raises(PolicyError, match="use 'include'"):
        load_policy(tmp_path / "top.yaml")


CRITERIA = """
  harm_done:
    name: harm done
    weight: 4
    weight_source: "assigned for the test"
    findings:
      - {check: harm, categories: ["falsify*"]}
"""


def test_criteria_merge_through_include_and_name_known_checks(tmp_path: Path) -> None:
    _write(tmp_path, **{"base.yaml": BASE + "criteria:" + CRITERIA, "top.yaml": TOP})
    policy = load_policy(tmp_path / "top.yaml")
    criterion = policy.criteria["harm_done"]
    assert (criterion.weight, criterion.findings[0].check, criterion.track) == (4, "harm", "safety")
    broken = BASE + "criteria:" + CRITERIA.replace("check: harm", "check: nothing")
    _write(tmp_path, **{"base.yaml": broken})
    with pytest.raises(PolicyError, match="criterion 'harm_done' names unknown check 'nothing'"):
        load_policy(tmp_path / "base.yaml")
    _write(tmp_path, **{"base.yaml": BASE + "criteria:" + CRITERIA.replace("weight: 4",
                                                                           "weight: 6")})
    with pytest.raises(PolicyError, match=r"criteria\.harm_done\.weight"):
        load_policy(tmp_path / "base.yaml")
