"""A bad policy is an error naming the file, the line and the field; never an empty policy."""

from pathlib import Path

import pytest

from guard.build import build_engine, resolve_policy
from guard.policy import PolicyError, load_policy, parse_policy
from tests.fakes.checks import FAKE_POLICY, fake_registry

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_policies_load() -> None:
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        policy = load_policy(path)
        assert policy.id and policy.version and policy.checks and policy.rules


def test_fake_policy_loads() -> None:
    p = parse_policy(FAKE_POLICY)
    assert (p.id, p.version) == ("test-policy", "2.1")
    assert p.check_config("phi").scope == "all"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "fragment"),
    [
        ("timeout_ms", "timeout_msec", None, "checks.0.timeout_msec", "Extra inputs"),
        ("action: redact", "action: obliterate", 21, "rules.0.action", "Input should be"),
        ("{check: phi}", "{check: phi, min_score: 1.5}", 20, "rules.0.when.min_score", "less than"),
        ("escalation: crisis\n", "escalation: nope\n", None, None, "unknown escalation 'nope'"),
        ("template: refuse", "template: missing", None, None, "unknown template 'missing'"),
        ("{check: harm, categories: [falsify_records], audiences: [patient]}",
         "{check: harm, categories: [falsify_records], audiences: [nurse]}", None,
         "rules.3.when.audiences.0", "Input should be"),
        ("Call {crisis_line} now", "Call {hotline} now", None, "templates", "unknown variable"),
    ],
)
def test_bad_policy_names_where(old, new, line, field, fragment, tmp_path) -> None:
    text = FAKE_POLICY
    if old == "timeout_ms":
        text = FAKE_POLICY.replace("    scope: all\n", "    scope: all\n    timeout_msec: 5\n", 1)
    else:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = str(err.value)
    assert message.startswith(str(path) + ":")
    assert fragment in message
    if field:
        assert err.value.field == field
    if line:
        assert err.value.line == line
    assert err.value.line is not None


def test_invalid_yaml_reports_line(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nversion: '1'\nchecks: [\n  - kind: a\n")
    with pytest.raises(PolicyError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_policy(path)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string"])
def test_non_mapping_policy_is_an_error(text) -> None:
    with pytest.raises(PolicyError, match="must be a YAML mapping"):
        parse_policy(text, "x.yaml")


def test_missing_file_is_an_error(tmp_path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_bad_check_params_name_the_param(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(FAKE_POLICY.replace("entity: PII}", "entity: PII, colour: red}"))
    from guard.engine import Engine
    with pytest.raises(PolicyError) as err:
        Engine.build(load_policy(path), fake_registry(), source=str(path))
    assert err.value.field == "checks.0.params.colour"


def test_unknown_check_kind(tmp_path) -> None:
    from guard.engine import Engine
    policy = parse_policy(
        FAKE_POLICY.replace("kind: phi\n    name: phi", "kind: nope\n    name: phi")
    )
    with pytest.raises(PolicyError, match="unknown check kind 'nope'"):
        Engine.build(policy, fake_registry())


def test_fail_closed_check_requires_unavailable_template() -> None:
    line = '  check_unavailable: "A safety check is unavailable; emergencies {emergency_number}."\n'
    text = FAKE_POLICY.replace(line, "")
    with pytest.raises(PolicyError, match="fail-closed check needs template"):
        parse_policy(text)


def test_resolve_policy_by_name_and_unknown() -> None:
    assert resolve_policy("default").name == "default.yaml"
    with pytest.raises(PolicyError, match=r"shipped: .*default"):
        resolve_policy("no-such-pack")
    with pytest.raises(PolicyError):
        build_engine("no-such-pack", fake_registry())
