"""Shared test helpers: real uvicorn servers on free loopback ports, in background threads.

Importing ``guard`` first applies the offline settings before litellm is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import guard  # noqa: F401  (offline defaults before litellm/presidio are imported)
from guard.audit import AuditStore, metadata
from guard.checks.crisis import CrisisCheck
from guard.types import Stage
from tests.fakes.servers import ServerThread, wait_until

__all__ = ["PG_ENV", "ServerThread", "reset_postgres", "wait_until"]

PG_ENV = "PRIMUM_TEST_POSTGRES_URL"
"""A real PostgreSQL for the store's tests (CI starts one: tests/pg/start_postgres.sh)."""


def reset_postgres(url: str) -> None:
    """Drop every audit table (and alembic's version table) so the next open migrates anew."""
    tables = ", ".join([*metadata.tables, "alembic_version"])
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {tables} CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty audit database of each backend (PostgreSQL when PG_ENV is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set (start one with tests/pg/start_postgres.sh)")
    reset_postgres(url)
    yield url
    reset_postgres(url)


@pytest.fixture
def store(fresh_url: str) -> Iterator[AuditStore]:
    with AuditStore(fresh_url) as s:
        yield s


@pytest.fixture(scope="session")
def semantic_check() -> CrisisCheck:
    """The crisis check with its semantic layer, loaded once per test session (the
    embedding model loads in ~0.2-1 s and the prototypes are embedded once)."""
    check = CrisisCheck("crisis", frozenset({Stage.INPUT}), semantic=True)
    check.load()
    return check
