"""indicators: the last forecast verdict of each indicator with a target, per unit and year
(indicator.forecast_miss is published when it changes)

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_forecasts",
        sa.Column("indicator", sa.String(length=50), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("forecast", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("indicator", "unit_code", "period",
                                name=op.f("pk_indicator_forecasts")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("indicator_forecasts")
