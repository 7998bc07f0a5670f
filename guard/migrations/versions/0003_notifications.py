"""Notifications: the webhook outbox, and merging duplicate escalations into one case.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Adds ``notifications``, the outbox of webhook deliveries (one row per case and webhook,
written in the transaction that opens the case, delivered and retried by
``guard.escalation.DeliveryWorker``); and on ``cases`` the ``dedup_key`` (a hash naming
the tenant, rule and subject of an escalation) with ``merged_count``, the number of later
escalations merged into the case. Existing cases get ``merged_count`` 0 and no key, so
they are never merged into.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("merged_count", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("dedup_key", sa.String(), nullable=True))
    op.create_index("ix_cases_dedup_key_created_at", "cases", ["dedup_key", "created_at"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("webhook", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _ts(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
    )
    op.create_index("ix_notifications_status_next_attempt_at", "notifications",
                    ["status", "next_attempt_at"])
    op.create_index("ix_notifications_case_id", "notifications", ["case_id"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_index("ix_cases_dedup_key_created_at", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("dedup_key")
        batch.drop_column("merged_count")
