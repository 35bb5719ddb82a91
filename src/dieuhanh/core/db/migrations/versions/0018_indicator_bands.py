"""indicators: each watched indicator's last known figure, band and target per unit and period
(indicator.band_changed is published when they change)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_bands",
        sa.Column("indicator", sa.String(length=50), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("color", sa.String(length=20), nullable=True),
        sa.Column("meets_target", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("indicator", "unit_code", "period",
                                name=op.f("pk_indicator_bands")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("indicator_bands")
