"""API keys name tenants. Keys are kept only as sha256 hashes, compared in constant time.

A leaked config file then reveals no usable key, and the comparison takes the same time
whichever hash (if any) matches, so response timing says nothing about the key space.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from proxy.config import TenantConfig
from proxy.errors import ApiError

__all__ = ["KeyRing", "hash_key"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def hash_key(key: str) -> str:
    """The hex sha256 of an API key, as written in the config's ``key_sha256``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyRing:
    def __init__(self, tenants: Sequence[TenantConfig]) -> None:
        self._entries = [
            (bytes.fromhex(digest), tenant) for tenant in tenants for digest in tenant.key_sha256
        ]

    def tenant_for(self, key: str) -> TenantConfig | None:
        presented = hashlib.sha256(key.encode("utf-8")).digest()
        found: TenantConfig | None = None
        for digest, tenant in self._entries:  # no early exit: same work for every key
            if hmac.compare_digest(presented, digest):
                found = tenant
        return found

    def authenticate(self, authorization: str | None) -> TenantConfig:
        """The tenant for an ``Authorization: Bearer <key>`` header, or a 401 ``ApiError``."""
        if not authorization:
            raise ApiError(
                401,
                "missing API key: send 'Authorization: Bearer <key>'",
                code="invalid_api_key",
                headers=_CHALLENGE,
            )
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(
                401,
                "malformed Authorization header: expected 'Bearer <key>'",
                code="invalid_api_key",
                headers=_CHALLENGE,
            )
        tenant = self.tenant_for(key)
        if tenant is None:
            raise ApiError(
                401, "invalid API key", code="invalid_api_key", headers=_CHALLENGE
            )
        return tenant
