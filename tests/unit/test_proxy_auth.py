"""API keys: hashed in config, compared in constant time, 401 in the OpenAI shape."""

from __future__ import annotations

import hashlib

import pytest

from proxy.auth import KeyRing, hash_key
from proxy.config import TenantConfig
from proxy.errors import ApiError


def _tenant(name: str, *keys: str) -> TenantConfig:
    return TenantConfig(name=name, key_sha256=[hash_key(k) for k in keys], policy="default")


RING = KeyRing([_tenant("a", "sk-a1", "sk-a2"), _tenant("b", "sk-b")])


def test_hash_key_is_hex_sha256() -> None:
    assert hash_key("sk-primum-local") == (
        "8001047151618dc167150545071247ac72f8ef69a813e3407b7220d51506b906"
    )
    assert hash_key("ключ") == hashlib.sha256("ключ".encode()).hexdigest()


def test_each_key_names_its_tenant() -> None:
    assert RING.tenant_for("sk-a1").name == "a"  # type: ignore[union-attr]
    assert RING.tenant_for("sk-a2").name == "a"  # type: ignore[union-attr]
    assert RING.tenant_for("sk-b").name == "b"  # type: ignore[union-attr]
    assert RING.tenant_for("sk-c") is None
    assert RING.tenant_for(hash_key("sk-a1")) is None  # the hash itself is not a key


@pytest.mark.parametrize("header", ["Bearer sk-b", "bearer sk-b", "  Bearer   sk-b  "])
def test_bearer_header_variants(header: str) -> None:
    assert RING.authenticate(header).name == "b"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing API key"),
        ("", "missing API key"),
        ("Bearer", "malformed"),
        ("Basic c2stYg==", "malformed"),
        ("sk-b", "malformed"),
        ("Bearer sk-nope", "invalid API key"),
    ],
)
def test_bad_headers_are_401_with_a_challenge(header: str | None, message: str) -> None:
    with pytest.raises(ApiError) as info:
        RING.authenticate(header)
    err = info.value
    assert err.status == 401
    assert err.code == "invalid_api_key"
    assert err.type == "authentication_error"
    assert err.headers == {"WWW-Authenticate": "Bearer"}
    assert message in err.message
    assert "sk-nope" not in err.message
