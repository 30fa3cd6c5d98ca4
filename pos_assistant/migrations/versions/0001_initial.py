"""Cases, their timeline, daily case-number counters, lookup guards and the handoff queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_number", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("contact_phone", sa.String(11), nullable=False),
        sa.Column("brand", sa.String(64)),
        sa.Column("device_serial", sa.String(32)),
        sa.Column("tracking_number", sa.String(32)),
        sa.Column("amount", sa.String(16)),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(128), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("content_fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("case_number", name="uq_cases_case_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_cases_idempotency_key"),
    )
    op.create_index("ix_cases_content_fingerprint", "cases", ["content_fingerprint"])
    op.create_index("ix_cases_channel_user", "cases", ["channel", "channel_user_id"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("to_status", sa.String(32)),
        sa.Column("note", sa.Text()),
        sa.Column("is_public", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_events_case_id_cases", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])

    op.create_table(
        "case_number_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_case_number_counters"),
    )

    op.create_table(
        "lookup_guards",
        sa.Column("case_number", sa.String(16), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_number", name="pk_lookup_guards"),
    )

    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32)),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("taken_by", sa.String(64)),
        sa.Column("open_conversation_id", sa.String(128)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_requests"),
        sa.UniqueConstraint(
            "open_conversation_id", name="uq_handoff_requests_open_conversation_id"
        ),
    )
    op.create_index("ix_handoff_requests_conversation_id", "handoff_requests", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("handoff_requests")
    op.drop_table("lookup_guards")
    op.drop_table("case_number_counters")
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
    op.drop_table("cases")
