"""Placeholders in, originals back out: ``redact``, ``restore``, ``StreamRestorer``."""

from __future__ import annotations

import copy
import pickle
import random
from collections.abc import AsyncIterator

import pytest

from guard.redaction import (
    PLACEHOLDER_RE,
    StreamRestorer,
    Vault,
    arestore_stream,
    redact,
    restore,
    restore_stream,
    spans_from_findings,
)
from guard.types import Finding


def span(text: str, sub: str, entity: str, nth: int = 0) -> tuple[int, int, str]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(sub, start + 1)
    return (start, start + len(sub), entity)


def test_redact_and_restore_round_trip() -> None:
    text = "I'm John Smith, call 617-555-0123. John Smith's MRN is 00482913."
    spans = [
        span(text, "John Smith", "PERSON"),
        span(text, "617-555-0123", "PHONE_NUMBER"),
        span(text, "John Smith", "PERSON", nth=1),
        span(text, "00482913", "MRN"),
    ]
    vault = Vault()
    redacted = redact(text, spans, vault)
    assert redacted == ("I'm [PERSON_1], call [PHONE_NUMBER_1]. [PERSON_1]'s MRN is [MRN_1].")
    assert restore(redacted, vault) == text


def test_same_original_same_placeholder_across_calls() -> None:
    vault = Vault()
    a = redact("Ask Ana", [(4, 7, "PERSON")], vault)
    b = redact("Bo and Ana", [(0, 2, "PERSON"), (7, 10, "PERSON")], vault)
    assert a == "Ask [PERSON_1]"
    assert b == "[PERSON_2] and [PERSON_1]"
    assert vault.counts() == {"PERSON": 2}
    assert len(vault) == 2


def test_spans_may_come_unsorted() -> None:
    text = "Bo called Ana"
    vault = Vault()
    assert redact(text, [(10, 13, "PERSON"), (0, 2, "PERSON")], vault) == (
        "[PERSON_1] called [PERSON_2]"
    )


def test_overlapping_spans_merge_and_the_longer_names_them() -> None:
    text = "MRN 123-456-7890 noted"
    # A phone detector and an MRN detector overlap: the union is replaced once.
    spans = [(4, 16, "MRN"), (8, 16, "PHONE_NUMBER")]
    vault = Vault()
    assert redact(text, spans, vault) == "MRN [MRN_1] noted"
    partial = [(0, 6, "PERSON"), (4, 12, "PHONE_NUMBER")]
    assert redact("abcdefghijklmn", partial, Vault()) == "[PHONE_NUMBER_1]mn"


def test_touching_spans_stay_separate() -> None:
    assert redact("AnaBo", [(0, 3, "PERSON"), (3, 5, "PERSON")], Vault()) == (
        "[PERSON_1][PERSON_2]"
    )


def test_bad_spans_raise_without_text() -> None:
    text = "secret name here"
    for bad in [(5, 5, "PERSON"), (-1, 3, "PERSON"), (3, 99, "PERSON"), (6, 2, "PERSON")]:
        with pytest.raises(ValueError) as err:
            redact(text, [bad], Vault())
        assert "secret" not in str(err.value)


def test_no_spans_is_identity() -> None:
    assert redact("nothing here", [], Vault()) == "nothing here"


def test_entity_labels_are_sanitised() -> None:
    vault = Vault()
    assert redact("x y", [(0, 1, "date of birth"), (2, 3, "")], vault) == (
        "[DATE_OF_BIRTH_1] [PHI_1]"
    )
    assert all(PLACEHOLDER_RE.fullmatch(p) for p in vault.placeholders())


def test_placeholder_already_in_text_is_not_reused() -> None:
    text = "Template [PERSON_1] vs Ana"
    vault = Vault()
    redacted = redact(text, [span(text, "Ana", "PERSON")], vault)
    assert redacted == "Template [PERSON_1] vs [PERSON_2]"
    assert restore(redacted, vault) == text


def test_reserved_vault_never_collides_with_the_input_vault() -> None:
    inp = Vault()
    redact("I am Ana", [(5, 8, "PERSON")], inp)
    # The model's answer names someone else; it is redacted into an output vault.
    answer = "Ask Dr Bo about it"
    out = Vault(reserved=inp)
    redacted = redact(answer, [(7, 9, "PERSON")], out)
    assert redacted == "Ask Dr [PERSON_2] about it"
    # Restoring the user's own PHI leaves the model's redaction in place.
    assert restore(redacted, inp) == redacted
    assert "[PERSON_1]" not in out


def test_restore_leaves_unknown_placeholders_and_is_single_pass() -> None:
    vault = Vault()
    assert vault.placeholder_for("Ana", "PERSON") == "[PERSON_1]"
    # An original that itself looks like a placeholder must not be expanded again.
    assert vault.placeholder_for("[PERSON_1]", "PERSON") == "[PERSON_2]"
    assert restore("[PERSON_2] and [PERSON_9]", vault) == "[PERSON_1] and [PERSON_9]"
    assert restore("no placeholders", Vault()) == "no placeholders"


def test_vault_never_shows_originals() -> None:
    vault = Vault()
    redact("Ana Lopez 536-22-8726", [(0, 9, "PERSON"), (10, 21, "US_SSN")], vault)
    for shown in (repr(vault), str(vault), f"{vault}", repr(StreamRestorer(vault))):
        assert "Ana" not in shown and "8726" not in shown
    assert vault.original("[PERSON_1]") == "Ana Lopez"
    assert "[PERSON_1]" in vault
    assert vault.placeholders() == ("[PERSON_1]", "[US_SSN_1]")


def test_vault_refuses_pickle_but_copies() -> None:
    vault = Vault()
    redact("Ana", [(0, 3, "PERSON")], vault)
    with pytest.raises(TypeError):
        pickle.dumps(vault)
    clone = copy.deepcopy(vault)
    assert clone.original("[PERSON_1]") == "Ana"
    clone.placeholder_for("Bo", "PERSON")
    assert len(vault) == 1 and len(clone) == 2


def test_spans_from_findings() -> None:
    findings = [
        Finding("phi", "person", 0.9, segment=1, span=(0, 3), entity="PERSON"),
        Finding("phi", "mrn", 0.9, segment=0, span=(4, 9), entity="MRN"),
        Finding("phi", "email_address", 0.9, segment=1, span=(5, 9)),
        Finding("crisis", "self_harm", 0.9, segment=1),
    ]
    assert spans_from_findings(findings, 1) == [(0, 3, "PERSON"), (5, 9, "EMAIL_ADDRESS")]


# --------------------------------------------------------------------------- streaming


def _vault() -> Vault:
    vault = Vault()
    redact(
        "Ana Lopez 617-555-0123",
        [(0, 9, "PERSON"), (10, 22, "PHONE_NUMBER")],
        vault,
    )
    return vault


ANSWER = "Hello [PERSON_1], we will call [PHONE_NUMBER_1] [1]. Bye [PERSON_1]!"
RESTORED = "Hello Ana Lopez, we will call 617-555-0123 [1]. Bye Ana Lopez!"


def test_stream_holds_back_a_split_placeholder() -> None:
    r = StreamRestorer(_vault())
    assert r.feed("Hello [PERS") == "Hello "
    assert r.feed("ON_1], how") == "Ana Lopez, how"
    assert r.feed(" are you [") == " are you "
    assert r.feed("1] ok") == "[1] ok"
    assert r.flush() == ""


def test_stream_does_not_hold_ordinary_brackets() -> None:
    r = StreamRestorer(_vault())
    assert r.feed("see [1") == "see [1"
    assert r.feed("] and [x") == "] and [x"
    assert StreamRestorer(Vault()).feed("[PERS") == "[PERS"


def test_stream_flush_emits_an_unfinished_tail() -> None:
    r = StreamRestorer(_vault())
    assert r.feed("cut off [PHONE_") == "cut off "
    assert r.flush() == "[PHONE_"


@pytest.mark.parametrize("seed", range(25))
def test_stream_equals_restore_for_any_chunking(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(ANSWER)), rng.randint(1, 20)))
    chunks = [ANSWER[a:b] for a, b in zip([0, *cuts], [*cuts, len(ANSWER)], strict=True)]
    assert "".join(restore_stream(chunks, _vault())) == RESTORED


def test_stream_one_character_at_a_time() -> None:
    assert "".join(restore_stream(list(ANSWER), _vault())) == RESTORED


async def test_async_stream() -> None:
    async def chunks() -> AsyncIterator[str]:
        for i in range(0, len(ANSWER), 3):
            yield ANSWER[i : i + 3]

    out = [piece async for piece in arestore_stream(chunks(), _vault())]
    assert "".join(out) == RESTORED
    assert all(out)
