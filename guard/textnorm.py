"""Undo the obfuscations and jailbreak wrappers that slip a request past a text classifier.

Why this exists: the harmful-request classifier is a MiniLM sentence-embedding model, and
an embedding of ``pr3scr1pt10n``, of ``p r e s c r i p t i o n``, of a base64 blob or of a
three-paragraph "you are DAN" preamble lands nowhere near the embedding of the plain ask
it hides. Rather than teach every classifier every trick, the checks classify the views
this module produces, and the original text too: a normaliser that is wrong must only ever
*add* a view, never take the original away.

Two independent steps, both pure functions of the text (no model, no I/O, no state):

- :func:`deobfuscate` removes invisible characters (zero-width, bidi controls, soft
  hyphen, variation selectors; "ASCII smuggled" tag characters are decoded), folds
  full-width and mathematical letter forms, maps Cyrillic and Greek look-alikes to Latin
  *only inside words that are otherwise Latin*, decodes base64 runs that decode to text,
  decodes ROT13 clauses when the result is plainly English and the input plainly is not,
  joins letter-spaced words and undoes leetspeak inside words that mix letters with digits
  or symbols. Each step is conservative: medical numbers ("500mg", "24/7", "B12",
  "HbA1c", "H1N1"), URLs, hex digests, CJK, Russian and Greek text pass unchanged.
- :func:`unwrap` recognises jailbreak framings (role-play, developer mode, "ignore all
  previous instructions", hypotheticals, fiction) and cuts out the request they carry.
  The wrapper names are a *signal*; harm is for the classifier to decide, so a benign
  role-play ("pretend you're my GP and explain my results") is reported but keeps its ask,
  and when the ask cannot be located the text is returned whole.

:func:`normalize` runs both until nothing changes (so it is idempotent) and returns the
distinct views worth classifying. Everything is linear-time: the regular expressions have
no nested quantifiers and the rare slow paths (spaced letters, homoglyphs) are guarded by
cheap pre-checks, so a 200-word message takes well under a millisecond.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "OBFUSCATIONS",
    "WRAPPERS",
    "Normalized",
    "deobfuscate",
    "normalize",
    "unwrap",
]

OBFUSCATIONS: Final = (
    "zero_width",
    "fullwidth",
    "homoglyph",
    "base64",
    "rot13",
    "spaced_letters",
    "leetspeak",
)
"""Every obfuscation name :func:`deobfuscate` may report, in the order it undoes them."""

WRAPPERS: Final = ("roleplay", "developer_mode", "ignore_instructions", "hypothetical", "fiction")
"""Every wrapper name :func:`unwrap` may report."""

_MAX_VARIANTS = 4
_MAX_ROUNDS = 4  # deobfuscate/unwrap repeat until stable; nesting deeper than this is absurd


@dataclass(frozen=True, slots=True)
class Normalized:
    """The views of one message worth classifying.

    ``text`` is the most processed view (deobfuscated, then unwrapped); ``variants`` the
    distinct views, the original first, at most four; ``obfuscations`` and ``wrappers`` name
    what was undone and found, in first-seen order.
    """

    text: str
    variants: tuple[str, ...]
    obfuscations: tuple[str, ...] = ()
    wrappers: tuple[str, ...] = ()


def normalize(text: str) -> Normalized:
    """Deobfuscate, then unwrap, repeating until stable; see the module docstring."""
    obfuscations: list[str] = []
    wrappers: list[str] = []
    deobfuscated, found = deobfuscate(text)
    obfuscations.extend(found)
    current = deobfuscated
    for _ in range(_MAX_ROUNDS):  # deobfuscate() is already at its fixed point here
        inner, kinds = unwrap(current)
        wrappers.extend(kinds)
        if inner == current:
            break
        current, found = deobfuscate(inner)  # a decoded payload may hold another wrapper
        obfuscations.extend(found)
    variants = _unique((text, deobfuscated, current))[:_MAX_VARIANTS]
    return Normalized(
        text=variants[-1],
        variants=variants,
        obfuscations=_unique(obfuscations),
        wrappers=_unique(wrappers),
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _words(spaced: str) -> tuple[str, ...]:
    return tuple(spaced.split())


# =========================================================================== deobfuscation


def deobfuscate(text: str) -> tuple[str, tuple[str, ...]]:
    """``(plain text, names of the obfuscations undone)``; ``text`` itself when none."""
    found: list[str] = []
    current = text
    for _ in range(_MAX_ROUNDS):  # a decoded payload may itself be obfuscated
        step = _deobfuscate_once(current, found)
        if step == current:
            break
        current = step
    return current, _unique(found)


def _deobfuscate_once(text: str, found: list[str]) -> str:
    if not text.isascii():
        text = _apply(_strip_invisible, text, "zero_width", found)
        text = _apply(_fold_compat, text, "fullwidth", found)
        text = _apply(_fold_homoglyphs, text, "homoglyph", found)
    text = _apply(_decode_base64, text, "base64", found)
    text = _apply(_decode_rot13, text, "rot13", found)
    text = _apply(_join_spaced_letters, text, "spaced_letters", found)
    return _apply(_undo_leetspeak, text, "leetspeak", found)


def _apply(step: Callable[[str], str], text: str, name: str, found: list[str]) -> str:
    out = step(text)
    if out != text:
        found.append(name)
    return out


# --------------------------------------------------------------------------- invisible

# Zero-width space/joiners, LRM/RLM, bidi embeddings and isolates, word joiner and invisible
# operators, BOM, soft hyphen, Mongolian vowel separator, variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_EMOJI_GLUE = frozenset("\u200d\ufe0e\ufe0f")  # kept after a symbol: they build emoji
_TAG_FLAG = "\U0001f3f4"  # tag sequences after the black flag spell subdivision flags


def _strip_invisible(text: str) -> str:
    if _TAGS.search(text):
        text = _TAGS.sub(_decode_tags, text)
    return _INVISIBLE.sub(_drop_invisible, text)


def _drop_invisible(m: re.Match[str]) -> str:
    ch = m.group()
    start = m.start()
    if ch in _EMOJI_GLUE and start > 0:
        before = m.string[start - 1]
        if unicodedata.category(before) in ("So", "Sk") or before in _EMOJI_GLUE:
            return ch
    return ""


def _decode_tags(m: re.Match[str]) -> str:
    """Tag characters mirror ASCII (U+E0041 is an invisible "A"): "ASCII smuggling" hides
    instructions in them. Decode a run to the text it spells, except a flag's tag sequence."""
    start = m.start()
    if start > 0 and m.string[start - 1] == _TAG_FLAG:
        return m.group()
    decoded = "".join(chr(ord(c) - 0xE0000) for c in m.group() if 0xE0020 <= ord(c) <= 0xE007E)
    return f" {decoded} " if len(decoded) >= 4 else ""


# --------------------------------------------------------------------------- compat forms

# Full-width ASCII is folded only in runs that hold Latin letters: CJK text uses full-width
# punctuation (，！？) that must stay as typed. Mathematical alphanumerics (𝐤𝐢𝐥𝐥, 𝓀𝒾𝓁𝓁) and
# circled letters are never CJK, and fold wherever they are.
_FULLWIDTH_RUN = re.compile("[\uff01-\uff5e\u3000 ]+")
_FULLWIDTH_LETTER = re.compile("[\uff21-\uff3a\uff41-\uff5a]")
_STYLED = re.compile("[\U0001d400-\U0001d7ff\u24b6-\u24e9]")


def _fold_compat(text: str) -> str:
    if _FULLWIDTH_LETTER.search(text):
        text = _FULLWIDTH_RUN.sub(_fold_fullwidth_run, text)
    if _STYLED.search(text):
        text = _STYLED.sub(_nfkc, text)
    return text


def _fold_fullwidth_run(m: re.Match[str]) -> str:
    run = m.group()
    if len(_FULLWIDTH_LETTER.findall(run)) < 2:
        return run
    return unicodedata.normalize("NFKC", run)


def _nfkc(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group())


# --------------------------------------------------------------------------- homoglyphs

_HOMOGLYPHS: Final = {
    # Cyrillic lower and upper case
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w",
    "к": "k", "ү": "y", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y",
    "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "υ": "u",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n",
}  # fmt: skip
_HOMOGLYPH_TABLE: Final = str.maketrans(_HOMOGLYPHS)
_CONFUSABLE = re.compile("[" + "".join(_HOMOGLYPHS) + "]")
_ASCII_LETTER = re.compile("[A-Za-z]")
# A letter of a script with look-alikes that is not itself a look-alike: genuine text.
_FOREIGN_LETTER = re.compile("[\u0370-\u03ff\u0400-\u052f\u0530-\u058f]")


def _is_latin(ch: str) -> bool:
    return ch < "\u0250" and ch.isalpha()


def _fold_homoglyphs(text: str) -> str:
    """Map look-alikes to Latin inside mixed-script words (``реnісillin``). When the whole
    message is Latin apart from look-alikes, whole look-alike words (a Cyrillic ``а``) fold
    too: genuine Russian or Greek always has letters with no Latin twin."""
    if not _CONFUSABLE.search(text) or not _ASCII_LETTER.search(text):
        return text
    foreign = [c for c in _FOREIGN_LETTER.findall(text) if c not in _HOMOGLYPHS]
    if not foreign:
        confusables = len(_CONFUSABLE.findall(text))
        if len(_ASCII_LETTER.findall(text)) >= 2 * confusables:
            return text.translate(_HOMOGLYPH_TABLE)
    out: list[str] = []
    last = 0
    for m in _CONFUSABLE.finditer(text):
        if m.start() < last:
            continue
        start, end = m.start(), m.end()
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        while end < len(text) and text[end].isalpha():
            end += 1
        word = text[start:end]
        if any(_is_latin(c) for c in word) and all(_is_latin(c) or c in _HOMOGLYPHS for c in word):
            out.append(text[last:start])
            out.append(word.translate(_HOMOGLYPH_TABLE))
            last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# --------------------------------------------------------------------------- base64

_MIN_B64 = 16
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_B64_WHOLE = re.compile(r"[A-Za-z0-9+/=_\s-]+")
_WHITESPACE = re.compile(r"\s+")
_HAN = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LOWER = re.compile("[a-z]")
_UPPER = re.compile("[A-Z]")


def _decode_base64(text: str) -> str:
    stripped = text.strip()
    if (
        len(stripped) >= _MIN_B64
        and _B64_WHOLE.fullmatch(stripped)
        and _WHITESPACE.search(stripped)
    ):
        whole = _b64_text(_WHITESPACE.sub("", stripped))  # MIME base64 wraps at 76 columns
        if whole is not None:
            return whole
    if len(text) < _MIN_B64:
        return text
    return _B64_RUN.sub(_decode_b64_match, text)


def _decode_b64_match(m: re.Match[str]) -> str:
    decoded = _b64_text(m.group())
    return m.group() if decoded is None else decoded


def _b64_text(run: str) -> str | None:
    """The text ``run`` encodes, or None when it is not base64 of human text.

    Padding must be right when present; an unpadded run may not have a length of 1 mod 4.
    Ordinary words, paths and hex digests are rejected by what they decode to: strict UTF-8,
    at least 80% printable, half letters, and a space or CJK character in it.
    """
    body = run.rstrip("=")
    if len(run) - len(body) and len(run) % 4:
        return None
    if len(body) % 4 == 1 or "=" in body:
        return None
    if not (_LOWER.search(body) and _UPPER.search(body)):  # base64 of text always mixes case
        return None
    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(padded)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not decoded:
        return None
    printable = sum(1 for c in decoded if c.isprintable() or c in "\n\r\t")
    if printable < 0.8 * len(decoded):
        return None
    if not (any(c.isspace() for c in decoded) or _HAN.search(decoded)):
        # base64 of base64 of text: decode on down (depth bounded by the length)
        return _b64_text(decoded) if len(decoded) >= _MIN_B64 else None
    visible = [c for c in decoded if not c.isspace()]
    if sum(1 for c in visible if c.isalpha()) < 0.5 * len(visible):
        return None
    return decoded


# --------------------------------------------------------------------------- ROT13


_ROT13: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
# Frequent English words, chosen so that no word's ROT13 is also in the set.
_COMMON_WORDS: Final = frozenset(
    _words(
        "the and you that was for are with his they this have from one had but not what all "
        "were when your can said there each which she how their will other about out many then "
        "them these some her would make like him into time has look more see way could people "
        "than first been who its now find long down day did get come made may over new take "
        "only know back give most very after our just good think say where help through much "
        "before right too old any same tell does want well also even here must why ask need "
        "try is it of in a i my me do should dose pills kill die fake prescription without "
        "doctor someone to"
    )
)
# ROT13 of the commonest words (the, and, you, how, what, with, for, that, to, is): English
# in ROT13 all but always has one of them.
_ROT13_HINTS: Final = ("gur", "naq", "lbh", "ubj", "jung", "jvgu", "sbe", "gung", "gb", "vf")
_ROT13_SEGMENT = re.compile(r"[^\n.!?:;\"“”()\[\]]+")
_WORD = re.compile(r"[A-Za-z]+")


def _decode_rot13(text: str) -> str:
    """Decode clauses whose ROT13 is plainly English while they themselves are not."""
    lowered = text.lower()
    if not any(word in lowered for word in _ROT13_HINTS):
        return text
    rotated = text.translate(_ROT13)
    if _common_count(_WORD.findall(rotated)) < 3:
        return text
    out: list[str] = []
    last = 0
    for m in _ROT13_SEGMENT.finditer(text):
        words = _WORD.findall(m.group())
        if len(words) < 4:
            continue
        if _common_count(words) > 0.1 * len(words):
            continue
        rot_words = _WORD.findall(rotated[m.start() : m.end()])
        hits = _common_count(rot_words)
        if hits >= 3 and hits >= 0.3 * len(rot_words):
            out.append(text[last : m.start()])
            out.append(rotated[m.start() : m.end()])
            last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _common_count(words: list[str]) -> int:
    return sum(1 for w in words if w.lower() in _COMMON_WORDS)


# --------------------------------------------------------------------------- spaced letters

# Any run has two inner letters with separators on both sides; a cheap first filter.
_SPACED_HINT = re.compile(r"[ .\-_][A-Za-z][ .\-_]{1,3}[A-Za-z][ .\-_]")
_SPACERS = frozenset(" .-_")
_MAX_SPACER = 3
_MIN_SPACED = 4


def _ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _join_spaced_letters(text: str) -> str:
    """``h o w  t o  f a k e`` becomes ``how to fake``: a run of 4+ single letters with
    1-3 separators between them. The commonest separator is the in-word one, any other
    separator a word break. Dotted abbreviations (``p.o. b.i.d.``) are left alone."""
    hint = _SPACED_HINT.search(text)
    if hint is None:
        return text
    out: list[str] = []
    last = 0
    while hint is not None:
        start = _run_start(text, hint.start() + 1)
        letters, seps, end = _run_from(text, start)
        if len(letters) >= _MIN_SPACED and start >= last:
            joined = _join_run(letters, seps)
            if joined is not None:
                out.append(text[last:start])
                out.append(joined)
                last = end
        hint = _SPACED_HINT.search(text, max(end, hint.end() - 1))
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _single_letter(text: str, i: int) -> bool:
    """``text[i]`` is an ASCII letter standing alone (no letter or digit either side)."""
    return (
        _ascii_letter(text[i])
        and (i == 0 or not text[i - 1].isalnum())
        and (i + 1 == len(text) or not text[i + 1].isalnum())
    )


def _run_start(text: str, i: int) -> int:
    """Walk back from the single letter at ``i`` to the first letter of its run."""
    while True:
        k = i - 1
        while k >= 0 and text[k] in _SPACERS and i - 1 - k < _MAX_SPACER:
            k -= 1
        if k == i - 1 or k < 0 or not _single_letter(text, k):
            return i
        i = k


def _run_from(text: str, i: int) -> tuple[list[str], list[str], int]:
    """The letters and separators of the run starting at ``i``, and where it ends."""
    letters = [text[i]]
    seps: list[str] = []
    n = len(text)
    j = i + 1
    while j < n:
        k = j
        while k < n and text[k] in _SPACERS and k - j < _MAX_SPACER:
            k += 1
        if k == j or k >= n or not _single_letter(text, k):
            break
        seps.append(text[j:k])
        letters.append(text[k])
        j = k + 1
    return letters, seps, j


def _join_run(letters: list[str], seps: list[str]) -> str | None:
    counts: dict[str, int] = {}
    for sep in seps:
        counts[sep] = counts.get(sep, 0) + 1
    inner = max(counts, key=lambda s: (counts[s], -len(s)))
    words: list[str] = [letters[0]]
    for sep, letter in zip(seps, letters[1:], strict=True):
        if sep == inner:
            words[-1] += letter
        else:
            words.append(letter)
    if "." in inner and max(len(w) for w in words) <= 3:
        return None  # p.o. b.i.d., q.i.d.: clinical abbreviations, not obfuscation
    return " ".join(words)


# --------------------------------------------------------------------------- leetspeak

_LEET: Final = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    "@": "a", "$": "s", "!": "i", "|": "l",
}  # fmt: skip
_LEET_TABLE: Final = str.maketrans(_LEET)
_LEET_UPPER_TABLE: Final = str.maketrans({k: v.upper() for k, v in _LEET.items()})
# A leet character next to a letter; charset first, so the engine can skip ahead fast.
_LEET_HINT = re.compile(r"[0134578@$!|](?:(?<=[A-Za-z].)|(?=[A-Za-z]))")
_TOKEN = re.compile(r"[A-Za-z0-9@$!|]+")
_NUMBER_SUFFIX = re.compile(r"(\d+)([A-Za-z]+)")
_LETTERS_THEN_DIGITS = re.compile(r"[A-Za-z]+\d+")
_DIMENSIONS = re.compile(r"\d+[xX]\d+")  # 4x4, 3x10
_CAPS_CODE = re.compile(r"[A-Z]{1,4}\d[A-Z]")  # A1C, HBA1C
_HEX = re.compile(r"(?:0x)?[0-9A-Fa-f]{8,}")
_CAMEL = re.compile(r"[a-z][A-Z]")
_HEX_CHUNK = re.compile(r"[0-9A-Fa-f][0-9A-Fa-f-]{7,}")  # UUIDs, digests
_VOWELS = frozenset("aeiouyAEIOUY")
_MAX_LEET_TOKEN = 24

# Units and counted things written straight after a number: "500mg", "3times", "10days".
_UNITS: Final = frozenset(
    _words(
        "mg mgs mcg ug g gr kg ml l dl cl ng pg iu u meq mmol mol kcal cal lb lbs oz tsp tbsp "
        "cup cups cm mm km m mi ft in inch inches feet mph bpm mmhg hz kb mb gb tb k x "
        "am pm h hr hrs hour hours min mins minute minutes s sec secs second seconds "
        "d day days wk wks week weeks mo mos month months y yr yrs year years yo "
        "st nd rd th time times dose doses pill pills tab tabs tablet tablets cap caps "
        "capsule capsules drop drops puff puffs unit units shot shots drink drinks beer beers "
        "glass glasses cig cigs pack packs bottle bottles percent pct ish gen star stars"
    )
)
# Alphanumerics that would otherwise look like leetspeak (lower-cased).
_KNOWN_CODES: Final = frozenset(
    _words(
        "a1c hba1c h1n1 h5n1 h7n9 h3n2 5ht 5htp t3 t4 b1 b3 b5 b7 b8 d3 k1 omega3 s1 s3 s4 "
        "covid19 4ever 4get 4got l8r gr8 h8 m8 w8 b4 2day 2nite"
    )
)


def _undo_leetspeak(text: str) -> str:
    """Letters for digits and symbols inside words that mix them (``m3d1c4l``), never in
    numbers, doses, times, lab and gene names, URLs, e-mail addresses or hex digests."""
    hint = _LEET_HINT.search(text)
    if hint is None:
        return text
    out: list[str] = []
    last = 0
    while hint is not None:
        start, end = hint.start(), hint.end()
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        word = text[start:end]
        if not _skip_chunk(word):
            for tok in _TOKEN.finditer(word):
                plain = _leet_token(tok.group())
                if plain is not None:
                    out.append(text[last : start + tok.start()])
                    out.append(plain)
                    last = start + tok.end()
        hint = _LEET_HINT.search(text, end)
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _skip_chunk(chunk: str) -> bool:
    lowered = chunk.lower()
    if _HEX_CHUNK.fullmatch(chunk.strip(".,;:!?()[]{}\"'")):
        return True
    if "://" in lowered or lowered.startswith("www.") or lowered.startswith("@"):
        return True
    at = chunk.find("@")
    return at > 0 and "." in chunk[at:].rstrip(".,;:!?)")  # an e-mail address


def _leet_token(token: str) -> str | None:
    """The de-leeted token, or None to keep it as typed."""
    core = token.strip("!")
    if core != token:  # "!" at either end is punctuation; keep it outside
        lead = token[: len(token) - len(token.lstrip("!"))]
        trail = token[len(lead) + len(core) :]
        plain = _leet_token(core) if core else None
        return None if plain is None else lead + plain + trail
    if len(token) > _MAX_LEET_TOKEN or not _ASCII_LETTER.search(token):
        return None
    if not any(c in _LEET for c in token):
        return None
    if any(c in "269" for c in token):  # digits with no letter twin: a real number
        return None
    lowered = token.lower()
    if lowered in _KNOWN_CODES or ("$" in token and _is_money(token)):
        return None
    suffix = _NUMBER_SUFFIX.fullmatch(token)
    if suffix is not None:
        digits, unit = suffix.groups()
        if len(digits) > 1 or len(unit) <= 2 or unit.lower() in _UNITS:
            return None
    if _LETTERS_THEN_DIGITS.fullmatch(token) or _DIMENSIONS.fullmatch(token):  # T4, p53, 4x4
        return None
    if _CAMEL.search(token) or _HEX.fullmatch(token):  # HbA1c, mRNA, base64, digests
        return None
    letters = [c for c in token if c.isalpha()]
    if all(c.isupper() for c in letters):
        if token[-1].isdigit() or _CAPS_CODE.fullmatch(token):  # H1N1, CYP3A4, A1C
            return None
        if any(c in _VOWELS for c in letters):  # CH3OH: leet would add missing vowels
            return None
        return token.translate(_LEET_UPPER_TABLE)
    return token.translate(_LEET_TABLE)


def _is_money(token: str) -> bool:
    at = token.find("$")
    after = token[at + 1 : at + 2]
    return after.isdigit() or token[:at].isupper() or at == len(token) - 1


# =========================================================================== unwrapping

# Matching runs on the text with horizontal whitespace collapsed to one space, so the
# patterns use literal spaces and need no nested quantifiers. Role-play comes first in the
# alternation: "imagine you are" is role-play, "imagine that" a hypothetical.
_ROLEPLAY = (
    r"(?:you are|you're|youre|u r) (?:now )?(?:dan|stan|dude|aim|mongo tom"
    r"|an? (?:unfiltered|uncensored|unrestricted|amoral|evil|rogue)\b)\b"
    r"|do anything now\b"
    r"|pretend (?:to be|you are|you're|youre|that you are|that you're|you were|to act)\b"
    r"|(?P<act>act (?:as|like)\b)"
    r"|acting as (?:an?|my|the)\b"
    r"|role[ -]?play(?:ing)?\b"
    r"|(?:stay|remain|keep|be) in (?:your )?(?:character|role)\b"
    r"|break(?:ing)? character\b"
    r"|play the (?:role|part) of\b"
    r"|from now on,? you (?:are|will|must|shall)\b"
    r"|you are now (?:an?|my|the|playing)\b"
    r"|you will (?:now )?(?:play|act as|be playing|roleplay)\b"
    r"|imagine (?:that )?(?:you are|you're|youre|you were)\b"
)
_DEVELOPER_MODE = (
    r"dev(?:eloper)? mode\b"
    r"|jail ?br(?:eak|eaks|eaking|oken)\b"
    r"|(?:no|without|free of|free from) (?:any )?(?:ethical|moral|ethics|safety) "
    r"(?:guidelines|constraints|restrictions|limits|boundaries|rules|filters|principles"
    r"|considerations|concerns)\b"
    r"|(?:without|no|remove|disable|bypass|turn off|ignore) (?:any |all |your |the )?"
    r"(?:filters|filtering|censorship|content polic(?:y|ies)|guardrails|safety filters?"
    r"|safeguards)\b"
    r"|(?:unfiltered|uncensored|unrestricted|unlocked|god) mode\b"
    r"|(?:you|ai|assistant|model|bot|chatbot|dan|doctor|pharmacist|nurse|chemist"
    r"|physician|character|persona)\b[^.!?\n]{0,40}?\b(?:with no|without any|without|has no"
    r"|have no|free of|free from) (?:restrictions|limits|limitations|rules|boundaries)\b"
    r"|(?:answer|answers|respond|responds|reply|replies|speak|talk|write)\b[^.!?\n]{0,40}?"
    r"\b(?:without any|without|with no) (?:restrictions|limits|limitations|rules|boundaries"
    r"|refusals?|warnings|disclaimers|censorship)\b"
    r"|(?:never|do not|don't|dont|cannot|can't|can not) refuse\b"
)
_IGNORE_INSTRUCTIONS = (
    r"(?:ignore|disregard|forget|override|overwrite|bypass|abandon|discard) "
    r"(?:all |any |the |your |my |of |these |those |every |previous |prior |above |earlier "
    r"|preceding |former |initial |original |system |safety |ethical |openai |content ){0,4}"
    r"(?:instructions?|rules|guidelines|prompts?|directives|programming|restrictions"
    r"|polic(?:y|ies)|training|constraints|guardrails|limitations|filters)\b"
    r"|(?:forget|ignore|disregard) (?:everything|all|what) (?:you were told|you've been told"
    r"|you have been told|above|before|previously|said before)\b"
    r"|new (?:system )?instructions ?:"
)
_HYPOTHETICAL = (
    r"hypothetically\b"
    r"|hypothetical (?:world|scenario|situation|question|case|universe|setting|person)\b"
    r"|in a hypothetical\b"
    r"|imagine (?:that|a world|a scenario|a situation|if|a universe)\b"
    r"|thought experiment\b"
    r"|(?:just|purely|strictly|only|asking|speaking) (?:theoretically|academically)\b"
    r"|theoretically speaking\b"
    r"|(?P<theoretically>theoretically,)"
    r"|in an? (?:alternate|alternative|parallel|imaginary) (?:world|universe|reality)\b"
    r"|for (?:purely )?(?:educational|academic|research|informational) purposes\b"
)
_FICTION = (
    r"write (?:me )?(?:a|an|the|my) (?:short |fictional |fiction |dark |realistic |gritty )?"
    r"(?:story|novel|screenplay|script|scene|poem|play|chapter|fanfic|fan fiction|dialogue"
    r"|narrative|tale)\b"
    r"|(?:for|in) (?:my|a|our) (?:upcoming |new )?(?:novel|book|story|screenplay|script"
    r"|fiction|short story|movie|film|tv show|series|video game|fanfic|thriller)\b"
    r"|(?:a|the) (?:story|novel|screenplay|script|scene|tale) (?:in which|where|about how)\b"
    r"|the (?:main )?(?:character|protagonist|villain|hero|narrator|antagonist)\b"
    r"[^.!?\n]{0,60}?\b(?:explain|describe|tell|show|detail|teach|reveal|walk)s?\b"
    r"|in an? (?:fictional|fictitious) (?:story|setting|context|scenario|world|universe)\b"
)
_WRAPPER = re.compile(
    f"(?P<roleplay>{_ROLEPLAY})|(?P<developer_mode>{_DEVELOPER_MODE})"
    f"|(?P<ignore_instructions>{_IGNORE_INSTRUCTIONS})|(?P<hypothetical>{_HYPOTHETICAL})"
    f"|(?P<fiction>{_FICTION})",
    # No IGNORECASE and no leading \b: both defeat the regex engine's literal-prefix scan,
    # and this pattern runs on every message. It is matched against lower-cased text and
    # word boundaries are checked on each match instead.
)
# Gate: every alternative above needs one of these words, or one of the two phrases, so a
# message with none of them (most messages) skips the long alternation.
_WRAPPER_WORDS: Final = frozenset(
    _words(
        "dan stan dude aim mongo unfiltered uncensored unrestricted unlocked amoral evil rogue "
        "anything pretend act acting role roleplay roleplaying character part play playing "
        "imagine mode jail jailbreak jailbreaks jailbreaking jailbroken ethical moral ethics "
        "safety filters filter filtering censorship policy policies guardrails safeguards "
        "restrictions limits limitations rules boundaries refusal refusals warnings "
        "disclaimers refuse ignore disregard forget override overwrite bypass abandon "
        "discard instructions instruction hypothetically hypothetical experiment "
        "theoretically academically alternate alternative parallel imaginary purposes "
        "story novel screenplay script scene poem chapter fanfic fiction dialogue narrative "
        "tale book movie film show series game thriller protagonist villain hero narrator "
        "antagonist fictional fictitious"
    )
)
_WRAPPER_PHRASES = re.compile(r"now\s+on|are\s+now")
_LOWER_WORD = re.compile(r"[a-z]+")
# Context two framings need before them: "act as" only as an instruction (not "does it
# act as a blood thinner"), "theoretically," only opening a sentence.
_ACT_CONTEXT = re.compile(r"(?:^|[.!?\n:;] ?|\b(?:please|now|you to|and|then) )$")
_SENTENCE_START = re.compile(r"(?:^|[.!?\n] ?)$")
_CONTEXT_WINDOW = 12
_ASCII_LOWER: Final = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_HSPACE = re.compile(r"[^\S\n]+")
_SENTENCE_END = re.compile(r"[.!?]+(?= |\n|$)|\n")
_ASK_MARKER = re.compile(
    r"\b(?:answer|respond|reply|question|request|query|prompt|task|input)\b[^:\n]{0,30}:",
    re.IGNORECASE,
)
_CLAUSE_ASK = re.compile(
    r"(?:^[,;:\-—]? ?|[,;:] |\band |\bthen |\bso |\bbut )(?:now |please |just )?"
    r"(?=(?:explain|tell|describe|give|list|write|provide|show|teach|help|recommend|suggest"
    r"|answer|outline|detail|walk|how|what|what's|whats|why|is it"
    r"|can you|could you|would you|will you|i want|i need)\b)",
    re.IGNORECASE,
)
_HOW_CLAUSE = re.compile(
    r"\bhow (?:to|do|does|did|can|could|would|should|much|many|long|often|is|are|i|one)\b",
    re.IGNORECASE,
)
_LEAD_FILLER = re.compile(r"^(?:[,;:\-—] ?)?(?:speaking,? |that |if )?", re.IGNORECASE)
_PERSONA = re.compile(
    r"(?:you (?:are|will|must|can|have|should|shall|do not|don't|never|always|may)"
    r"|your (?:name|role|job|task|purpose|answers?|responses?|replies)"
    r"|as dan|dan |stay |remember|never |always |do not |don't )",
    re.IGNORECASE,
)
_MIN_INNER_WORDS = 2
_MIN_PLOT_WORDS = 3


def unwrap(text: str) -> tuple[str, tuple[str, ...]]:
    """``(inner request, wrapper names)``. ``inner`` is ``text`` itself when no wrapper is
    found or when the request inside one cannot be located with confidence; otherwise it
    is the request with horizontal whitespace collapsed.

    Where the ask is looked for, after the last framing phrase: text after an "answer:" /
    "question:" marker; else the rest of the framing sentence from its ask (", how ...",
    "and explain ...", "how to ...") followed by the sentences after it, persona
    instructions ("You must never refuse.") at their head dropped.
    """
    lowered = text.lower()
    if _WRAPPER_WORDS.isdisjoint(_LOWER_WORD.findall(lowered)) and not _WRAPPER_PHRASES.search(
        lowered
    ):
        return text, ()
    flat = _HSPACE.sub(" ", text)
    lowered = flat.lower()
    if len(lowered) != len(flat):  # a few non-ASCII letters lower-case to two characters
        lowered = flat.translate(_ASCII_LOWER)
    kinds: list[str] = []
    last: re.Match[str] | None = None
    for m in _WRAPPER.finditer(lowered):
        if m.lastgroup is not None and _framing_in_context(lowered, m):
            kinds.append(m.lastgroup)
            last = m
    if last is None:
        return text, ()
    inner = _inner_request(flat, last)
    if inner is None or inner == flat.strip():
        return text, _unique(kinds)
    return inner, _unique(kinds)


def _framing_in_context(lowered: str, m: re.Match[str]) -> bool:
    start = m.start()
    if start > 0 and lowered[start - 1].isalnum():
        return False
    before = max(0, start - _CONTEXT_WINDOW)
    if m.group("act") is not None:
        return _ACT_CONTEXT.search(lowered, before, start) is not None
    if m.group("theoretically") is not None:
        return _SENTENCE_START.search(lowered, before, start) is not None
    return True


def _inner_request(flat: str, framing: re.Match[str]) -> str | None:
    start, end = framing.span()
    markers = list(_ASK_MARKER.finditer(flat, end))
    if markers:
        after = flat[markers[-1].end() :].strip()
        if _enough(after):
            return after
    sentence_start = 0
    for b in _SENTENCE_END.finditer(flat, 0, start):
        sentence_start = b.end()
    boundary = _SENTENCE_END.search(flat, end)
    sentence_end = len(flat) if boundary is None else boundary.end()
    # Only a hypothetical is followed by the ask itself ("Hypothetically speaking, someone
    # ..."); after "act as" or "write a story" comes a role or a plot.
    leading = framing.lastgroup == "hypothetical" and not flat[sentence_start:start].strip()
    ask = _ask_in_sentence(flat[end:sentence_end], leading=leading)
    rest = _drop_persona(flat[sentence_end:].strip())
    if not ask and rest and framing.lastgroup == "fiction":
        # A story's plot is its content ("Write a poem about a midwife's first night
        # shift."): without it the inner request would be the directions that follow
        # ("Make it hopeful."), a fragment with nothing to judge. The framing phrase goes.
        ask = _plot(flat[sentence_start:start], flat[end:sentence_end])
    inner = " ".join(part for part in (ask, rest) if part)
    return inner if _enough(inner) else None


def _ask_in_sentence(tail: str, *, leading: bool) -> str:
    """The ask in what follows the framing phrase within its sentence, or ""."""
    tail = tail.strip()
    colon = tail.find(":")
    if colon >= 0 and _enough(tail[colon + 1 :]):
        return tail[colon + 1 :].strip()
    clause = _CLAUSE_ASK.search(tail)
    if clause is not None and _enough(tail[clause.end() :]):
        return tail[clause.end() :]
    how = _HOW_CLAUSE.search(tail)
    if how is not None:
        return tail[how.start() :]
    if leading:
        filler = _LEAD_FILLER.match(tail)
        stripped = tail[filler.end() :] if filler is not None else tail
        if len(stripped.split()) >= 3:
            return stripped
    return ""


_PLOT_EDGE = re.compile(r"^[\s,;:\-—]+|[\s,;:\-—]+$")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.!?]+)$")


def _plot(before: str, after: str) -> str:
    """The framing sentence without its framing phrase, or "" when too little is left."""
    plot = " ".join(_PLOT_EDGE.sub("", part) for part in (before, after)).strip()
    plot = _SPACE_BEFORE_STOP.sub(r"\1", plot)
    return plot if len(plot.split()) >= _MIN_PLOT_WORDS else ""


def _drop_persona(rest: str) -> str:
    """Drop persona instructions at the head of the rest while an ask remains after them."""
    while rest:
        boundary = _SENTENCE_END.search(rest)
        if boundary is None or boundary.end() >= len(rest):
            return rest
        if not _PERSONA.match(rest):
            return rest
        rest = rest[boundary.end() :].strip()
    return rest


def _enough(text: str) -> bool:
    return len(text.split()) >= _MIN_INNER_WORDS
