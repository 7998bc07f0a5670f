"""Golden table for the pure decision function: findings in -> action, rules, template out."""

import pytest

from guard.decide import decide
from guard.policy import parse_policy
from guard.types import Action, CheckFailure, Finding, Stage
from tests.fakes.checks import FAKE_POLICY

POLICY = parse_policy(FAKE_POLICY)


def f(check: str, category: str, score: float = 0.9) -> Finding:
    return Finding(check, category, score, segment=0, span=(0, 3))


CASES = [
    # (name, stage, audience, findings, failures, action, rules, template)
    ("nothing found", Stage.INPUT, "patient", [], [], Action.ALLOW, (), None),
    ("phi redacts", Stage.INPUT, "patient", [f("phi", "person")], [], Action.REDACT,
     ("phi-redact",), None),
    ("crisis escalates", Stage.INPUT, "patient", [f("crisis", "suicidal_ideation")], [],
     Action.ESCALATE, ("crisis-escalate",), "crisis"),
    ("below threshold ignored", Stage.INPUT, "patient", [f("crisis", "suicidal_ideation", 0.4)],
     [], Action.ALLOW, (), None),
    ("threshold is inclusive", Stage.INPUT, "patient", [f("crisis", "suicidal_ideation", 0.5)],
     [], Action.ESCALATE, ("crisis-escalate",), "crisis"),
    ("unmatched category ignored", Stage.INPUT, "patient", [f("crisis", "other")], [],
     Action.ALLOW, (), None),
    ("audience patient blocks", Stage.INPUT, "patient", [f("harm", "falsify_records")], [],
     Action.BLOCK, ("harm-block",), "refuse"),
    ("audience clinician annotates", Stage.INPUT, "clinician", [f("harm", "falsify_records")],
     [], Action.ANNOTATE, ("harm-clinician-note",), "note"),
    ("stage-limited rule", Stage.OUTPUT, "patient", [f("harm", "missing_age")], [],
     Action.ALLOW, (), None),
    ("clarify on input", Stage.INPUT, "patient", [f("harm", "missing_age")], [],
     Action.CLARIFY, ("ask-age",), "ask_age"),
    ("most severe wins", Stage.INPUT, "patient",
     [f("phi", "person"), f("crisis", "suicidal_ideation"), f("harm", "falsify_records")], [],
     Action.BLOCK, ("phi-redact", "crisis-escalate", "harm-block"), "refuse"),
    ("fail closed blocks", Stage.INPUT, "patient", [],
     [CheckFailure("crisis", "timeout", "closed")], Action.BLOCK, ("fail-closed.crisis",),
     "check_unavailable"),
    ("fail open passes", Stage.INPUT, "patient", [f("phi", "person")],
     [CheckFailure("crisis", "error", "open")], Action.REDACT, ("phi-redact",), None),
]


@pytest.mark.parametrize(
    ("stage", "audience", "findings", "failures", "action", "rules", "template"),
    [c[1:] for c in CASES], ids=[c[0] for c in CASES],
)
def test_decide_golden(stage, audience, findings, failures, action, rules, template) -> None:
    d = decide(POLICY, stage, audience, findings, failures)
    assert d.action is action
    assert d.rules == rules
    assert d.template == template


def test_redactions_kept_even_when_a_more_severe_action_wins() -> None:
    d = decide(POLICY, Stage.INPUT, "patient",
               [f("phi", "person"), f("crisis", "suicidal_ideation")])
    assert d.action is Action.ESCALATE
    assert [r.category for r in d.redactions] == ["person"]
    assert d.escalations == ("crisis",)


def test_notes_kept_when_more_severe_action_still_answers() -> None:
    d = decide(POLICY, Stage.INPUT, "patient",
               [f("phi", "person"), f("crisis", "passive_ideation")])
    assert d.action is Action.REDACT and d.notes == ("note",)
    d = decide(POLICY, Stage.INPUT, "patient",
               [f("crisis", "passive_ideation"), f("harm", "falsify_records")])
    assert d.action is Action.BLOCK and d.notes == ()


def test_unless_stands_a_rule_aside_when_the_named_check_reported() -> None:
    """A crisis disclosure must not be refused as an ethics violation: with
    ``unless: [crisis]`` the harm rule does not apply when crisis found anything."""
    policy = parse_policy(FAKE_POLICY.replace(
        "{check: harm, categories: [falsify_records], audiences: [patient]}",
        "{check: harm, categories: [falsify_records], audiences: [patient], "
        "unless: [crisis, not_in_this_policy]}"))
    harm = f("harm", "falsify_records")
    alone = decide(policy, Stage.INPUT, "patient", [harm])
    assert alone.action is Action.BLOCK
    with_crisis = decide(policy, Stage.INPUT, "patient",
                         [harm, f("crisis", "suicidal_ideation")])
    assert with_crisis.action is Action.ESCALATE
    assert "harm-block" not in with_crisis.rules


def test_unless_rules_stands_a_rule_aside_when_a_named_rule_matched() -> None:
    """A patient's own high-risk plan must get the patient-safety escalation and its safe
    path, not an ethics refusal: with ``unless_rules: [crisis-*]`` the harm rule stands
    aside only when a rule of that pattern matched, for that audience and score; a lower
    crisis finding that matches no rule does not move it. Ids the policy lacks are harmless,
    and stand-asides do not chain."""
    policy = parse_policy(FAKE_POLICY.replace(
        "{check: harm, categories: [falsify_records], audiences: [patient]}",
        "{check: harm, categories: [falsify_records], audiences: [patient], "
        "unless_rules: [crisis-*, not-in-this-policy]}"))
    harm = f("harm", "falsify_records")
    assert decide(policy, Stage.INPUT, "patient", [harm]).action is Action.BLOCK
    beside = decide(policy, Stage.INPUT, "patient", [harm, f("crisis", "suicidal_ideation")])
    assert beside.action is Action.ESCALATE and beside.template == "crisis"
    assert beside.rules == ("crisis-escalate",)
    below = decide(policy, Stage.INPUT, "patient", [harm, f("crisis", "suicidal_ideation", 0.3)])
    assert below.action is Action.BLOCK and below.rules == ("harm-block",)
    # A rule never stands aside for itself, even when its own id fits the pattern.
    selfish = parse_policy(FAKE_POLICY.replace(
        "{check: harm, categories: [falsify_records], audiences: [patient]}",
        "{check: harm, categories: [falsify_records], audiences: [patient], "
        "unless_rules: [harm-*]}"))
    assert decide(selfish, Stage.INPUT, "patient", [harm]).action is Action.BLOCK


def test_evidence_holds_the_findings_of_the_rules_showing_each_template() -> None:
    """``{details}`` lists the advice of the findings that matched the rule showing the
    template, not of every finding in the stage."""
    harm = f("harm", "falsify_records")
    passive = f("crisis", "passive_ideation")
    d = decide(POLICY, Stage.INPUT, "clinician", [harm, passive, f("phi", "person")])
    assert set(d.evidence["note"]) == {harm, passive}
    assert "refuse" not in d.evidence


def test_details_renders_advice_once_per_distinct_text() -> None:
    from dataclasses import replace

    from guard.templates import render

    policy = parse_policy(FAKE_POLICY.replace('note: "Note: {categories}."',
                                              'note: "Note:\\n{details}"'))
    a = replace(f("harm", "x"), advice="Limit is 4,000 mg a day (Source: label).")
    b = replace(f("harm", "y"), advice="Limit is 4,000 mg a day (Source: label).")
    c = replace(f("harm", "z"), advice="")
    assert render(policy, "note", "US", [a, b, c]) == (
        "Note:\n- Limit is 4,000 mg a day (Source: label).")


@pytest.mark.parametrize(("patterns", "category", "expected"), [
    (["*"], "anything", True),
    (["emergency.*"], "emergency.acs", True),
    (["emergency.*"], "urgent.uti", False),
    (["emergency.*"], "emergency", False),
    (["emergency.acs", "urgent.*"], "urgent.uti", True),
    (["acs"], "emergency.acs", False),
])
def test_category_patterns(patterns: list[str], category: str, expected: bool) -> None:
    from guard.decide import category_matches

    assert category_matches(patterns, category) is expected
