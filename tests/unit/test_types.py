from guard.types import Action, Finding, Stage, Verdict, most_severe


def test_actions_are_ordered_by_severity() -> None:
    order = [Action.ALLOW, Action.ANNOTATE, Action.CLARIFY, Action.REDACT, Action.ESCALATE,
             Action.BLOCK]
    assert sorted(reversed(order)) == order
    assert Action.BLOCK > Action.ESCALATE > Action.REDACT > Action.CLARIFY
    assert Action.ANNOTATE >= Action.ANNOTATE and Action.ALLOW <= Action.ANNOTATE


def test_most_severe_wins_and_empty_is_allow() -> None:
    assert most_severe([]) is Action.ALLOW
    assert most_severe([Action.REDACT, Action.BLOCK, Action.ANNOTATE]) is Action.BLOCK
    assert most_severe({Action.CLARIFY, Action.REDACT}) is Action.REDACT


def test_verdict_categories_are_distinct_sorted_and_textless() -> None:
    v = Verdict(Action.REDACT, Stage.INPUT, "p", "1", findings=(
        Finding("phi", "person", 0.9, 0, (0, 5), "PERSON"),
        Finding("phi", "person", 0.8, 1, (3, 9), "PERSON"),
        Finding("crisis", "self_harm", 0.9),
    ))
    assert v.categories == ("crisis/self_harm", "phi/person")
    assert not v.blocked


def test_public_api_is_complete() -> None:
    import guard

    for name in guard.__all__:
        assert getattr(guard, name) is not None
    assert guard.Guard.__name__ == "Guard"
