"""Small statistics and report helpers shared by the safety benchmarks."""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["fmt_rate", "hash_half", "percentiles", "proportion", "shown_path", "wilson"]


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


def proportion(k: int, n: int) -> dict[str, Any]:
    """``k`` of ``n`` as a JSON-ready record: counts, rate and its Wilson 95% interval."""
    lo, hi = wilson(k, n)
    return {"k": k, "n": n, "rate": k / n if n else 0.0, "ci95": [lo, hi]}


def fmt_rate(r: Mapping[str, Any]) -> str:
    """A :func:`proportion` record for a report: ``12.5% (1/8; CI 2-47)``."""
    lo, hi = r["ci95"]
    return f"{100 * r['rate']:.1f}% ({r['k']}/{r['n']}; CI {100 * lo:.0f}-{100 * hi:.0f})"


def percentiles(times: Sequence[float]) -> dict[str, float]:
    """Median, p99 (nearest rank) and mean of timings in milliseconds."""
    if not times:
        return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    s = sorted(times)
    return {"n": len(s), "p50_ms": statistics.median(s),
            "p99_ms": s[min(len(s) - 1, math.ceil(len(s) * 0.99) - 1)],
            "mean_ms": statistics.fmean(s)}


def shown_path(path: Path | str) -> str:
    """A path as reports show it: relative to the checkout when inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
