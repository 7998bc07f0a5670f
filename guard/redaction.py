"""Replace PHI with placeholders before text leaves, and put it back in the answer.

``redact`` swaps each detected span for a stable placeholder such as ``[PERSON_1]``; the
``Vault`` remembers which original each placeholder stands for, so ``restore`` (or a
``StreamRestorer`` for streamed answers) can give the user their own details back while
the upstream model, its provider's logs and our audit store only ever see placeholders.

Why placeholders rather than deletion: the model still needs to know *that* there was a
name or a date of birth ("Is it safe for [PERSON_1], born [DATE_OF_BIRTH_1], to ..."),
and a stable placeholder keeps the answer's references ("[PERSON_1] should ...")
restorable. The same original always maps to the same placeholder within one vault, so a
name repeated across turns stays one person to the model.

A vault is per conversation/request and lives in memory only. It never shows originals in
``repr``/``str``, so logging it, or an exception that formats it, cannot leak PHI.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence

from guard.types import Finding

__all__ = [
    "PLACEHOLDER_RE",
    "StreamRestorer",
    "Vault",
    "arestore_stream",
    "redact",
    "restore",
    "restore_stream",
    "spans_from_findings",
]

PLACEHOLDER_RE = re.compile(r"\[([A-Z][A-Z0-9_]*)_([1-9][0-9]*)\]")
"""What a placeholder looks like: ``[ENTITY_N]``, entity in upper case, N from 1."""

_ENTITY_CLEAN = re.compile(r"[^A-Z0-9_]+")


def _entity_label(entity: str) -> str:
    label = _ENTITY_CLEAN.sub("_", entity.upper()).strip("_")
    if not label or not label[0].isalpha():
        label = "PHI" + (f"_{label}" if label else "")
    return label


class Vault:
    """Placeholder <-> original map for one conversation. Holds PHI: keep it in memory.

    ``repr``/``str`` show only how many placeholders it holds. Pickling is refused, so a
    vault cannot be written to a cache or a task queue by accident.
    """

    __slots__ = ("_by_original", "_by_placeholder", "_counters", "_reserved")

    def __init__(self, *, reserved: Vault | None = None) -> None:
        """``reserved``: a vault whose placeholders this one must never hand out.

        For the output stage: PHI the model produced itself is redacted into a second vault
        reserved against the input's, so that restoring the input's placeholders cannot
        turn the model's "[PERSON_1]" into the user's own name.
        """
        self._by_original: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._reserved = reserved

    def __repr__(self) -> str:
        return f"Vault({len(self._by_placeholder)} placeholders)"

    __str__ = __repr__

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def __bool__(self) -> bool:
        return bool(self._by_placeholder)

    def __contains__(self, placeholder: object) -> bool:
        return placeholder in self._by_placeholder

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Vault holds PHI and cannot be pickled")

    def __copy__(self) -> Vault:
        clone = Vault(reserved=self._reserved)
        clone._by_original = dict(self._by_original)
        clone._by_placeholder = dict(self._by_placeholder)
        clone._counters = dict(self._counters)
        return clone

    def __deepcopy__(self, memo: dict[int, object]) -> Vault:
        return self.__copy__()

    def placeholder_for(self, original: str, entity: str, *, avoid: str = "") -> str:
        """The placeholder for ``original``, creating ``[ENTITY_N]`` on first sight.

        A new placeholder skips numbers whose placeholder already appears in ``avoid``
        (the text being redacted), so text that happens to contain "[PERSON_1]" keeps
        its meaning after restoration.
        """
        existing = self._by_original.get(original)
        if existing is not None:
            return existing
        label = _entity_label(entity)
        n = self._counters.get(label, 0)
        while True:
            n += 1
            placeholder = f"[{label}_{n}]"
            if (
                placeholder not in self._by_placeholder
                and placeholder not in avoid
                and (self._reserved is None or placeholder not in self._reserved)
            ):
                break
        self._counters[label] = n
        self._by_original[original] = placeholder
        self._by_placeholder[placeholder] = original
        return placeholder

    def original(self, placeholder: str) -> str | None:
        """The original text behind ``placeholder``, or ``None`` if it is not ours."""
        return self._by_placeholder.get(placeholder)

    def placeholders(self) -> tuple[str, ...]:
        """Every placeholder handed out, in order of creation (safe to log)."""
        return tuple(self._by_placeholder)

    def counts(self) -> dict[str, int]:
        """Placeholders per entity label, e.g. ``{"PERSON": 2}`` (safe to log)."""
        out: dict[str, int] = {}
        for placeholder in self._by_placeholder:
            m = PLACEHOLDER_RE.fullmatch(placeholder)
            label = m.group(1) if m else "PHI"
            out[label] = out.get(label, 0) + 1
        return out

    @property
    def longest_placeholder(self) -> int:
        return max((len(p) for p in self._by_placeholder), default=0)


def _merge(spans: Sequence[tuple[int, int, str]], length: int) -> list[tuple[int, int, str]]:
    """Sort spans and merge overlapping ones; the merged span takes the longest's entity.

    The merged span covers the union, so nothing any detector flagged is left in clear.
    Touching spans (one ends where the next starts) stay separate.
    """
    for start, end, _ in spans:
        if not (0 <= start < end <= length):
            raise ValueError(f"span ({start}, {end}) is empty or outside text of length {length}")
    ordered = sorted(spans, key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[tuple[int, int, str]] = []
    best_len: list[int] = []
    for start, end, entity in ordered:
        if merged and start < merged[-1][1]:
            m_start, m_end, m_entity = merged[-1]
            if end - start > best_len[-1]:
                m_entity, best_len[-1] = entity, end - start
            merged[-1] = (m_start, max(m_end, end), m_entity)
        else:
            merged.append((start, end, entity))
            best_len.append(end - start)
    return merged


def redact(text: str, spans: Sequence[tuple[int, int, str]], vault: Vault) -> str:
    """``text`` with each ``(start, end, entity)`` span replaced by its placeholder.

    Overlapping spans are merged (the longest names the entity). Raises ``ValueError`` for
    an empty or out-of-range span; the message holds offsets only.
    """
    if not spans:
        return text
    parts: list[str] = []
    cursor = 0
    for start, end, entity in _merge(spans, len(text)):
        parts.append(text[cursor:start])
        parts.append(vault.placeholder_for(text[start:end], entity, avoid=text))
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def restore(text: str, vault: Vault) -> str:
    """Put the originals back for every placeholder of ``vault`` found in ``text``.

    One pass: an original that itself looks like a placeholder is not expanded again.
    Placeholders the vault does not know are left as they are.
    """
    if not vault:
        return text

    def replace(m: re.Match[str]) -> str:
        original = vault.original(m.group(0))
        return m.group(0) if original is None else original

    return PLACEHOLDER_RE.sub(replace, text)


class StreamRestorer:
    """Restores a streamed answer chunk by chunk, never splitting a placeholder.

    A chunk may end in the middle of a placeholder ("... call [PERS"); that tail is held
    back until the next chunk shows whether it completes one of the vault's placeholders.
    Only a tail that is a prefix of a placeholder the vault knows is held, so ordinary
    brackets ("[1]") pass through without delay. Call ``flush()`` at the end of the stream.
    """

    __slots__ = ("_pending", "_vault")

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._pending = ""

    def __repr__(self) -> str:
        return f"StreamRestorer(holding={len(self._pending)} chars)"

    def feed(self, chunk: str) -> str:
        """Text safe to emit now (restored); may be empty while a placeholder is open."""
        buffer = self._pending + chunk
        cut = self._hold_from(buffer)
        self._pending = buffer[cut:]
        return restore(buffer[:cut], self._vault)

    def flush(self) -> str:
        """Whatever is still held, restored as far as it can be. Ends the stream."""
        rest, self._pending = self._pending, ""
        return restore(rest, self._vault)

    def _hold_from(self, buffer: str) -> int:
        """Index from which ``buffer`` may be the start of an unfinished placeholder."""
        open_at = buffer.rfind("[")
        if open_at < 0 or not self._vault:
            return len(buffer)
        tail = buffer[open_at:]
        if "]" in tail or len(tail) >= self._vault.longest_placeholder:
            return len(buffer)
        if any(p.startswith(tail) for p in self._vault.placeholders()):
            return open_at
        return len(buffer)


def restore_stream(chunks: Iterable[str], vault: Vault) -> Iterator[str]:
    """Restore a stream of text chunks; empty pieces are not yielded."""
    restorer = StreamRestorer(vault)
    for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail


async def arestore_stream(chunks: AsyncIterable[str], vault: Vault) -> AsyncIterator[str]:
    """``restore_stream`` for async streams (the proxy's streamed responses)."""
    restorer = StreamRestorer(vault)
    async for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail


def spans_from_findings(findings: Iterable[Finding], segment: int) -> list[tuple[int, int, str]]:
    """The ``(start, end, entity)`` spans of ``findings`` that fall in ``segment``.

    Bridges a verdict's ``redactions`` to ``redact``; findings without a span or entity
    (not from a span detector) are skipped.
    """
    return [
        (f.span[0], f.span[1], f.entity or f.category.upper())
        for f in findings
        if f.segment == segment and f.span is not None and f.span[1] > f.span[0]
    ]
