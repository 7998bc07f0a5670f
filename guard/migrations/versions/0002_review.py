"""Review workflow: decision severity and finding index, case resolution and timeline.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Adds what the review API filters and pages on: ``decisions.severity``; the
``decision_findings`` table (one row per finding: check, category, AMA principle, CSEDB
criterion), so that filtering a million decisions by a finding attribute is an index scan;
``cases.model``, ``resolution`` and ``resolved_at``; and ``case_events``, the timeline of
each case. Existing rows are backfilled from what they already hold (findings JSON, action,
the priority of the case a decision opened), in batches so a large store is not read into
memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000
# As guard.recording.severity_of at this revision: the more urgent of the action's severity
# and the priority of the case the decision opened.
_ACTION_SEVERITY = {"block": "high", "escalate": "high", "clarify": "normal",
                    "redact": "normal", "annotate": "low", "allow": "none"}


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[Any]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("severity", sa.String(), nullable=False,
                                   server_default="none"))
    op.create_index("ix_decisions_model_created_at", "decisions", ["model", "created_at"])
    op.create_index("ix_decisions_severity_created_at", "decisions", ["severity", "created_at"])
    op.create_index("ix_decisions_case_id", "decisions", ["case_id"])

    op.create_table(
        "decision_findings",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", _id(), sa.ForeignKey("decisions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("check", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("principle", sa.Integer(), nullable=True),
        sa.Column("criterion", sa.String(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
    )
    op.create_index("ix_decision_findings_decision_id", "decision_findings", ["decision_id"])
    op.create_index("ix_decision_findings_check_category_created_at", "decision_findings",
                    ["check", "category", "created_at"])
    op.create_index("ix_decision_findings_principle_created_at", "decision_findings",
                    ["principle", "created_at"])
    op.create_index("ix_decision_findings_criterion_created_at", "decision_findings",
                    ["criterion", "created_at"])

    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("model", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("resolution", sa.String(), nullable=True))
        batch.add_column(sa.Column("resolved_at", _ts(), nullable=True))
    op.create_index("ix_cases_request_id", "cases", ["request_id"])
    op.create_index("ix_cases_created_at_case_id", "cases", ["created_at", "case_id"])
    op.create_index("ix_cases_assignee_status", "cases", ["assignee", "status"])

    op.create_table(
        "case_events",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", _json(), nullable=False),
    )
    op.create_index("ix_case_events_case_id_id", "case_events", ["case_id", "id"])
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    meta = sa.MetaData()
    decisions = sa.Table("decisions", meta, autoload_with=conn)
    findings = sa.Table("decision_findings", meta, autoload_with=conn)
    cases = sa.Table("cases", meta, autoload_with=conn)
    events = sa.Table("case_events", meta, autoload_with=conn)

    for action, severity in _ACTION_SEVERITY.items():
        conn.execute(decisions.update().where(decisions.c.action == action)
                     .values(severity=severity))
    scale = ("none", "low", "normal", "high", "critical")
    for rank, priority in enumerate(scale[1:], 1):
        opened = sa.select(cases.c.case_id).where(cases.c.priority == priority)
        conn.execute(decisions.update()
                     .where(decisions.c.case_id.in_(opened),
                            decisions.c.severity.in_(scale[:rank]))
                     .values(severity=priority))

    last = 0
    while True:
        rows = conn.execute(
            sa.select(decisions.c.id, decisions.c.created_at, decisions.c.findings)
            .where(decisions.c.id > last).order_by(decisions.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        batch = [
            {"decision_id": r.id, "created_at": r.created_at, "check": f.get("check", ""),
             "category": f.get("category", ""), "principle": f.get("principle"),
             "criterion": f.get("criterion"), "score": float(f.get("score") or 0.0)}
            for r in rows for f in (r.findings or [])
        ]
        if batch:
            conn.execute(findings.insert(), batch)
        last = rows[-1].id

    conn.execute(events.insert().from_select(
        ["case_id", "created_at", "actor", "kind", "detail"],
        sa.select(cases.c.case_id, cases.c.created_at, sa.literal("primum"),
                  sa.literal("opened"),
                  sa.cast(sa.literal("{}"), _json()) if conn.dialect.name == "postgresql"
                  else sa.literal("{}")),
    ))


def downgrade() -> None:
    op.drop_table("case_events")
    op.drop_index("ix_cases_assignee_status", "cases")
    op.drop_index("ix_cases_created_at_case_id", "cases")
    op.drop_index("ix_cases_request_id", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("resolved_at")
        batch.drop_column("resolution")
        batch.drop_column("model")
    op.drop_table("decision_findings")
    op.drop_index("ix_decisions_case_id", "decisions")
    op.drop_index("ix_decisions_severity_created_at", "decisions")
    op.drop_index("ix_decisions_model_created_at", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("severity")
