"""jobs: each background job's last run, next run, last error and lease, shared by all processes

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"  # the merger re-chains after 0005
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("next_run_at", moment, nullable=True),
        sa.Column("last_started_at", moment, nullable=True),
        sa.Column("last_finished_at", moment, nullable=True),
        sa.Column("last_duration_s", sa.Float(), nullable=True),
        sa.Column("last_success_at", moment, nullable=True),
        sa.Column("last_result", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_error_at", moment, nullable=True),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_run_by", sa.String(length=200), nullable=True),
        sa.Column("lease_until", moment, nullable=True),
        sa.Column("run_requested_by", sa.String(length=100), nullable=True),
        sa.Column("run_requested_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_jobs")),
    )


def downgrade() -> None:
    op.drop_table("jobs")
