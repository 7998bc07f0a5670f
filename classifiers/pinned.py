"""A classifier head over the shared sentence embedding and word TF-IDF, pinned by sha256.

The harmful-request classifier and the risky-intent backstop are both one ONNX head read
with a TF-IDF vocabulary and the MiniLM encoder shared with the other checks. Their model
specs (``model_spec.json``) name the head and vocabulary files with their sha256 and the
encoder's sha256; :class:`PinnedHeadModel` verifies all three before anything is loaded, so
a file that differs from the one the spec was written for is refused at load, naming it.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from classifiers.embedding.runtime import Embedder, cpu_session, sha256_file
from classifiers.harmful_request.lexical import Lexical

__all__ = ["HeadSpec", "ModelSpecError", "PinnedHeadModel", "PinnedSpec", "load_head_spec",
           "pinned_fields", "read_spec_json", "text_of", "verify_pinned"]


class ModelSpecError(RuntimeError):
    """The model spec or a file it names cannot be used."""


class PinnedSpec(Protocol):
    """What a spec must pin for :class:`PinnedHeadModel` to load it."""

    @property
    def head_file(self) -> Path: ...

    @property
    def head_sha256(self) -> str: ...

    @property
    def lexical_file(self) -> Path: ...

    @property
    def lexical_sha256(self) -> str: ...

    @property
    def encoder_sha256(self) -> str: ...


SpecT = TypeVar("SpecT", bound=PinnedSpec)


def read_spec_json(path: str | os.PathLike[str] | None, package: str,
                   spec_file: str = "model_spec.json") -> tuple[Path, Mapping[str, Any]]:
    """``(where, parsed JSON)`` of the spec at ``path`` (``None``: ``spec_file`` shipped in
    ``package``); ``ModelSpecError`` when it cannot be read."""
    if path is None:
        where = Path(str(importlib.resources.files(package) / spec_file))
    else:
        where = Path(path)
    try:
        return where, json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelSpecError(f"{where}: cannot read model spec ({exc})") from None


def pinned_fields(where: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every pinned spec has (version, the head and vocabulary files next to the
    spec with their sha256, the encoder's sha256, the raw JSON), as keyword arguments for a
    spec dataclass; ``KeyError`` / ``TypeError`` when one is missing."""
    return {
        "version": str(raw["version"]),
        "head_file": where.parent / str(raw["head"]["file"]),
        "head_sha256": str(raw["head"]["sha256"]),
        "lexical_file": where.parent / str(raw["lexical"]["file"]),
        "lexical_sha256": str(raw["lexical"]["sha256"]),
        "encoder_sha256": str(raw["encoder"]["sha256"]),
        "raw": raw,
    }


def verify_pinned(*files: tuple[Path, str]) -> None:
    """Each ``(path, sha256)``: the file exists and has the digest its spec pins, else
    ``ModelSpecError`` naming it."""
    for path, pinned in files:
        if not path.is_file():
            raise ModelSpecError(f"{path}: classifier file not found")
        actual = sha256_file(path)
        if actual != pinned:
            raise ModelSpecError(
                f"{path}: sha256 mismatch (spec pins {pinned}, file is {actual}); "
                "retrain or restore the file the spec was written for"
            )


TURNS = 4
"""User turns joined in the ``turns`` view."""


def text_of(user_turns: Sequence[str], view: str) -> str:
    """The text a learned backstop reads for a conversation's user turns (oldest first,
    ending with the turn under judgement): ``turns`` joins the last :data:`TURNS` with
    newlines, ``last`` is the last one. Training and serving both call this."""
    if not user_turns:
        return ""
    if view == "last":
        return user_turns[-1]
    return "\n".join(user_turns[-TURNS:])


@dataclass(frozen=True, slots=True)
class HeadSpec:
    """What a learned backstop's ``model_spec.json`` pins: the head and vocabulary files and
    their sha256, the encoder's sha256, the threshold chosen by cross-validation and the text
    the model reads (``view``)."""

    version: str
    head_file: Path
    head_sha256: str
    lexical_file: Path
    lexical_sha256: str
    encoder_sha256: str
    threshold: float
    view: str
    raw: Mapping[str, Any]


def load_head_spec(path: str | os.PathLike[str] | None, package: str,
                   classes: Sequence[str], threshold_key: str,
                   views: Sequence[str] = ("turns", "last")) -> HeadSpec:
    """Read a backstop's spec (``None``: the one shipped in ``package``): its ``classes``
    must be ``classes`` in order, ``thresholds[threshold_key]`` in (0, 1) and
    ``text.view`` one of ``views``; ``ModelSpecError`` otherwise."""
    spec_path, raw = read_spec_json(path, package)
    try:
        threshold = float(raw["thresholds"][threshold_key])
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"thresholds.{threshold_key} must be in (0, 1)")
        if list(raw["classes"]) != list(classes):
            raise ValueError(f"classes must be {list(classes)}")
        view = str(raw["text"]["view"])
        if view not in views:
            raise ValueError(f"text.view must be one of {', '.join(views)}")
        return HeadSpec(**pinned_fields(spec_path, raw), threshold=threshold, view=view)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelSpecError(f"{spec_path}: invalid model spec ({exc})") from None


class PinnedHeadModel(Generic[SpecT]):
    """The encoder (shared with other checks) plus the head and vocabulary a spec names,
    loaded lazily, once, under a lock. Subclasses say how their spec is read."""

    _shared: ClassVar[dict[type, Any]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls) -> Self:
        """The process-wide model of this class for its shipped spec, loaded once: every
        check that reads the head gets the same one."""
        with PinnedHeadModel._shared_lock:
            model = PinnedHeadModel._shared.get(cls)
            if model is None:
                model = PinnedHeadModel._shared[cls] = cls()
            return model

    def __init__(
        self,
        spec_path: str | os.PathLike[str] | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.spec_path = spec_path
        self._embedder = embedder
        self._spec: SpecT | None = None
        self._session: Any = None
        self._lexical: Lexical | None = None
        self._lock = threading.Lock()

    def read_spec(self, path: str | os.PathLike[str] | None) -> SpecT:
        """The spec at ``path`` (``None``: the one shipped with the model)."""
        raise NotImplementedError

    @property
    def spec(self) -> SpecT:
        self.load()
        assert self._spec is not None
        return self._spec

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder.shared()
        return self._embedder

    def load(self) -> None:
        """Verify and load the head, the vocabulary and the encoder. Idempotent; raises
        ``ModelSpecError`` (or the encoder's ``EmbeddingModelError``) naming the file."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            spec = self.read_spec(self.spec_path)
            verify_pinned((spec.head_file, spec.head_sha256),
                          (spec.lexical_file, spec.lexical_sha256))
            lexical = Lexical.load(spec.lexical_file)
            embedder = self.embedder
            if embedder.sha256 is not None and embedder.sha256 != spec.encoder_sha256:
                raise ModelSpecError(
                    f"the head was trained on encoder {spec.encoder_sha256}, but the encoder "
                    f"in use is {embedder.sha256}"
                )
            embedder.load()
            try:
                session = cpu_session(spec.head_file)
            except Exception as exc:
                raise ModelSpecError(f"{spec.head_file}: cannot load ({exc})") from None
            self._spec = spec
            self._lexical = lexical
            self._session = session
