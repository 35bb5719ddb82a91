"""citizen reports: photos, public once reviewed

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_report_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["citizen_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_citizen_report_photos_report_id_citizen_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_photos")),
    )  # fmt: skip
    with op.batch_alter_table("citizen_report_photos") as batch:
        batch.create_index("ix_citizen_report_photos_report_id", ["report_id"])


def downgrade() -> None:
    op.drop_table("citizen_report_photos")
