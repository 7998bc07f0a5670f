"""classifiers.embedding.runtime: the all-MiniLM-L6-v2 ONNX wrapper."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from classifiers.embedding.runtime import (
    DIMENSION,
    MODEL_FILE,
    MODEL_SHA256,
    Embedder,
    EmbeddingModelError,
)
from guard.checks.crisis import CrisisCheck

HERE = Path(__file__).resolve().parents[1] / "classifiers" / "embedding"


@pytest.fixture(scope="module")
def embedder(semantic_check: CrisisCheck) -> Embedder:
    layer = semantic_check.semantic_layer
    assert layer is not None
    return layer.embedder


def test_shape_and_unit_norm(embedder: Embedder) -> None:
    out = embedder.embed(["I have a headache.", "what is the dose of ibuprofen", "ok"])
    assert out.shape == (3, DIMENSION)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_deterministic_and_batch_independent(embedder: Embedder) -> None:
    texts = ["short one", "a much longer sentence about blood pressure medication " * 5, "x"]
    batch = embedder.embed(texts)
    again = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts])
    np.testing.assert_array_equal(batch, again)
    assert float((batch * alone).sum(axis=1).min()) > 0.99999


def test_semantics_are_sane(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        ["I feel very sad", "I am really unhappy", "How do I renew a passport"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_long_text_is_truncated_not_rejected(embedder: Embedder) -> None:
    out = embedder.embed(["word " * 2000])
    assert out.shape == (1, DIMENSION)


def test_thread_safe(embedder: Embedder) -> None:
    ref = embedder.embed(["thread safety check"])
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(embedder.embed(["thread safety check"]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        np.testing.assert_allclose(r, ref, atol=1e-6)


def test_shipped_file_has_the_pinned_hash() -> None:
    import hashlib

    assert hashlib.sha256((HERE / MODEL_FILE).read_bytes()).hexdigest() == MODEL_SHA256


def test_sha256_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / MODEL_FILE
    shutil.copyfile(HERE / MODEL_FILE, bad)
    with bad.open("r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(EmbeddingModelError, match="sha256 mismatch"):
        Embedder(bad).load()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="not found"):
        Embedder(tmp_path / "nope.onnx").load()


def test_load_is_lazy() -> None:
    embedder = Embedder()
    assert not embedder.loaded
