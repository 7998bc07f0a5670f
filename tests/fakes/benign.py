"""Benign control sets for training fixtures: the layout of the data directory, with only the
training part (``classifiers/harmful_request/splits``) holding the given questions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from classifiers.harmful_request.splits import BENIGN_SETS, is_training_row

__all__ = ["write_benign_sets"]


def write_benign_sets(data: Path, questions: Sequence[str]) -> None:
    """Write every benign set under ``data`` so that its training part holds ``questions``
    in order. Rows outside the training part get unique ``zzreserved<k>`` texts: they must
    never be read, and would show up in a trained vocabulary if they were."""
    (data / "benign").mkdir(parents=True, exist_ok=True)
    for set_name, rel in BENIGN_SETS.items():
        with (data / rel).open("w") as f:
            kept, k = 0, 0
            while kept < len(questions):
                row_id = f"{set_name}-{k}"
                k += 1
                text = questions[kept]
                if not is_training_row(set_name, row_id):
                    text = f"zzreserved{k} question"
                else:
                    kept += 1
                f.write(json.dumps({"id": row_id, "question": text}) + "\n")
