"""Small statistics shared by the safety benchmarks' reports."""

from __future__ import annotations

import hashlib
import math

__all__ = ["hash_half", "wilson"]


def hash_half(item_id: str) -> str:
    """'dev' or 'test', fixed by the sha256 of an item's id: a split nobody can steer."""
    return "dev" if hashlib.sha256(item_id.encode()).digest()[0] < 128 else "test"


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for ``k`` of ``n`` ((0, 0) when ``n`` is 0)."""
    if n == 0:
        return (0.0, 0.0)
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
