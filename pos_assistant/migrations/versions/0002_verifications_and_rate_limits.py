"""Case verifications recorded per conversation, rate counters; case numbers no longer counted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_verifications",
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_hash", "case_number", name="pk_case_verifications"),
    )
    op.create_table(
        "rate_counters",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("window_started", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", name="pk_rate_counters"),
    )
    # Case numbers are random now (identifiers.new_case_number): the daily counter is unused.
    op.drop_table("case_number_counters")


def downgrade() -> None:
    op.create_table(
        "case_number_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_case_number_counters"),
    )
    op.drop_table("rate_counters")
    op.drop_table("case_verifications")
