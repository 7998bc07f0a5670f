"""Initial audit schema: decisions and review cases.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full rather than built from ``guard.audit.metadata``: a migration is a
record of what the schema was at this revision and must not change when the models do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("tenant", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("policy_id", sa.String(), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=False),
        sa.Column("categories", _json(), nullable=False),
        sa.Column("findings", _json(), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        sa.Column("failures", _json(), nullable=False),
        sa.Column("latency_ms", _json(), nullable=False),
        sa.Column("upstream_ms", sa.Float(), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=True),
    )
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"])
    op.create_index("ix_decisions_tenant_created_at", "decisions", ["tenant", "created_at"])
    op.create_index("ix_decisions_action_created_at", "decisions", ["action", "created_at"])
    op.create_index("ix_decisions_request_id", "decisions", ["request_id"])

    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(), primary_key=True),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("tenant", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("policy_id", sa.String(), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=False),
        sa.Column("categories", _json(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("meta", _json(), nullable=False),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
    )
    op.create_index("ix_cases_status_priority_created_at", "cases",
                    ["status", "priority", "created_at"])
    op.create_index("ix_cases_tenant_created_at", "cases", ["tenant", "created_at"])


def downgrade() -> None:
    op.drop_table("cases")
    op.drop_table("decisions")
