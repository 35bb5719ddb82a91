"""data hub: dataset records searchable without accents; confirmed dataset schemas

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Records stored before this revision are found again once their source next changes them.
    with op.batch_alter_table("dataset_records") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("dataset_records") as batch:
        batch.alter_column("search_text", server_default=None)
    op.create_table(
        "dataset_schemas",
        sa.Column("dataset", sa.String(length=60), nullable=False),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("confirmed_by", sa.String(length=100), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_dataset_schemas")),
    )


def downgrade() -> None:
    op.drop_table("dataset_schemas")
    with op.batch_alter_table("dataset_records") as batch:
        batch.drop_column("search_text")
