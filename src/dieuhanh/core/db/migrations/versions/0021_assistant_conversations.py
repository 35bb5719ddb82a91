"""assistant: conversations, one row each, with the last query as context (issue 14)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("last_question", sa.Text(), nullable=False),
        sa.Column("last_answer", sa.Text(), nullable=False),
        sa.Column("context", JSON, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_assistant_conversations_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_conversations")),
    )  # fmt: skip
    op.create_index(
        "ix_assistant_conversations_user", "assistant_conversations", ["user_id", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_assistant_conversations_user", table_name="assistant_conversations")
    op.drop_table("assistant_conversations")
