"""Which rows of the external data sets the harmful-request classifier may learn from.

MedSafetyBench has a train and a test split; only ``train`` is used for training, model
selection and thresholds. The benign control sets (MedQuAD, PubMedQA, HealthSearchQA,
GenMedGPT) have no split, and they are both the best source of ordinary medical questions
to learn from and the controls the benchmark reports false positives on. They are
therefore split here once, deterministically by row id: a row with
``is_training_row(set, id)`` may be used to train; every other row is reserved for the
benchmark. The rule depends only on the set name and the row id, so it gives the same
answer on every machine and for every copy of the data.
"""

from __future__ import annotations

import hashlib

__all__ = ["BENIGN_SETS", "TRAINING_FRACTION", "is_training_row"]

BENIGN_SETS: dict[str, str] = {
    "medquad": "benign/medquad.jsonl",
    "pubmedqa": "benign/pubmedqa_pqal.jsonl",
    "healthsearchqa": "benign/healthsearchqa_dev.jsonl",
    "genmedgpt": "benign/genmedgpt_patient_dev.jsonl",
}
"""Benign control set name -> path relative to the data directory."""

TRAINING_FRACTION = 0.25
"""Share of each benign set's rows that training may use; the rest is benchmark-only."""


def is_training_row(set_name: str, row_id: str) -> bool:
    """True when row ``row_id`` of benign set ``set_name`` belongs to the training part."""
    digest = hashlib.sha256(f"{set_name}\x00{row_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < TRAINING_FRACTION * 2**32
