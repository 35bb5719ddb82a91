"""data hub: sensor readings from MQTT sources, one per device, metric and time

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("payload_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["run_payloads.id"],
            name=op.f("fk_sensor_readings_payload_id_run_payloads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["source_runs.id"],
            name=op.f("fk_sensor_readings_run_id_source_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["data_sources.id"],
            name=op.f("fk_sensor_readings_source_id_data_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_sensor_readings_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_readings")),
        sa.UniqueConstraint(
            "source_id", "device", "metric", "at", name=op.f("uq_sensor_readings_source_id")
        ),
    )
    op.create_index(
        "ix_sensor_readings_unit_metric_at",
        "sensor_readings",
        ["unit_id", "metric", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sensor_readings_unit_metric_at", table_name="sensor_readings")
    op.drop_table("sensor_readings")
