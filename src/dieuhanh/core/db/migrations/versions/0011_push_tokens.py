"""data hub: a push source's token, kept as its SHA-256

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_sources") as batch:
        batch.add_column(sa.Column("push_token_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_sources") as batch:
        batch.drop_column("push_token_hash")
