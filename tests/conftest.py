"""Shared test helpers: real uvicorn servers on free loopback ports, in background threads.

Importing ``guard`` first applies the offline settings before litellm is imported.
"""

from __future__ import annotations

import pytest

import guard  # noqa: F401  (offline defaults before litellm/presidio are imported)
from guard.checks.crisis import CrisisCheck
from guard.types import Stage
from tests.fakes.servers import ServerThread, wait_until

__all__ = ["ServerThread", "wait_until"]


@pytest.fixture(scope="session")
def semantic_check() -> CrisisCheck:
    """The crisis check with its semantic layer, loaded once per test session (the
    embedding model loads in ~0.2-1 s and the prototypes are embedded once)."""
    check = CrisisCheck("crisis", frozenset({Stage.INPUT}), semantic=True)
    check.load()
    return check
