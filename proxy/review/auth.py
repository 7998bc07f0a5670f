"""Review keys: who the safety team's people are and which tenants each may see.

Separate from client keys on purpose: a chatbot's key must never open the audit trail,
and a reviewer's key must never send chat traffic. Like client keys, review keys are kept
only as sha256 hashes and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from proxy.config import ReviewerConfig
from proxy.errors import ApiError

__all__ = ["Reviewer", "ReviewerRing"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    role: Literal["reviewer", "admin"]
    tenants: tuple[str, ...] | None
    """The tenants this reviewer may see; ``None``: every tenant."""

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def visible(self, all_tenants: Sequence[str]) -> list[str]:
        return list(all_tenants) if self.tenants is None else list(self.tenants)


class ReviewerRing:
    def __init__(self, reviewers: Sequence[ReviewerConfig], tenant_names: Sequence[str]) -> None:
        self._entries = [
            (bytes.fromhex(digest),
             Reviewer(r.name, r.role, r.granted(tenant_names)))
            for r in reviewers for digest in r.key_sha256
        ]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def authenticate(self, authorization: str | None) -> Reviewer:
        """The reviewer for an ``Authorization: Bearer <review key>`` header, or a 401."""
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if not authorization or scheme.lower() != "bearer" or not key:
            raise ApiError(401, "missing review key: send 'Authorization: Bearer <review key>'",
                           code="invalid_api_key", headers=_CHALLENGE)
        presented = hashlib.sha256(key.encode("utf-8")).digest()
        found: Reviewer | None = None
        for digest, reviewer in self._entries:  # no early exit: same work for every key
            if hmac.compare_digest(presented, digest):
                found = reviewer
        if found is None:
            raise ApiError(401, "invalid review key", code="invalid_api_key",
                           headers=_CHALLENGE)
        return found
