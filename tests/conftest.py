"""Shared test helpers: real uvicorn servers on free loopback ports, in background threads.

Importing ``guard`` first applies the offline settings before litellm is imported.
"""

from __future__ import annotations

import guard  # noqa: F401  (offline defaults before litellm/presidio are imported)
from tests.fakes.servers import ServerThread, wait_until

__all__ = ["ServerThread", "wait_until"]
