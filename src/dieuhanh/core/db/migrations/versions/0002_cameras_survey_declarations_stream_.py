"""cameras, survey declarations, stream health, events

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "camera_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("camera_type", sa.String(length=20), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("recorder_kind", sa.String(length=10), nullable=True),
        sa.Column("recorder_details", sa.String(length=300), nullable=True),
        sa.Column("internet_stream", sa.Boolean(), nullable=True),
        sa.Column("stream_protocol", sa.String(length=40), nullable=True),
        sa.Column("connection_model", sa.String(length=300), nullable=True),
        sa.Column("ip_range", sa.String(length=100), nullable=True),
        sa.Column("reachable_from_government_network", sa.Boolean(), nullable=True),
        sa.Column("link_type", sa.String(length=100), nullable=True),
        sa.Column("link_speed", sa.String(length=60), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column(
            "extra", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_camera_declarations_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_declarations")),
    )
    with op.batch_alter_table("camera_declarations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_camera_declarations_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_events_unit_id_units"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_topic"), ["topic"], unique=False)

    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("camera_type", sa.String(length=20), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("recorder_kind", sa.String(length=10), nullable=True),
        sa.Column("recorder_make", sa.String(length=100), nullable=True),
        sa.Column("recorder_model", sa.String(length=100), nullable=True),
        sa.Column("stream_url", sa.String(length=500), nullable=False),
        sa.Column("sub_stream_url", sa.String(length=500), nullable=True),
        sa.Column("stream_kind", sa.String(length=10), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("network_path", sa.String(length=300), nullable=True),
        sa.Column("connection", sa.String(length=20), nullable=True),
        sa.Column("ip_range", sa.String(length=100), nullable=True),
        sa.Column("link_type", sa.String(length=100), nullable=True),
        sa.Column("link_speed_mbps", sa.Float(), nullable=True),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("sharing_permitted", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=120), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_email", sa.String(length=120), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["camera_declarations.id"],
            name=op.f("fk_cameras_declaration_id_camera_declarations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_cameras_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "camera_state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_state_changes_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_state_changes")),
    )
    with op.batch_alter_table("camera_state_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_camera_state_changes_camera_at", ["camera_id", "at"], unique=False
        )

    op.create_table(
        "camera_status",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("codec", sa.String(length=30), nullable=True),
        sa.Column("profile", sa.String(length=40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=True),
        sa.Column("keyframe_interval_s", sa.Float(), nullable=True),
        sa.Column("audio_codec", sa.String(length=30), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_live_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("probe_seconds", sa.Float(), nullable=True),
        sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picture_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picture_signature", sa.LargeBinary(), nullable=True),
        sa.Column("picture_same_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("luma_mean", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_status_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_status")),
    )
    with op.batch_alter_table("camera_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_camera_status_next_probe_at"), ["next_probe_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_camera_status_state"), ["state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("camera_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_status_state"))
        batch_op.drop_index(batch_op.f("ix_camera_status_next_probe_at"))

    op.drop_table("camera_status")
    with op.batch_alter_table("camera_state_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_camera_state_changes_camera_at")

    op.drop_table("camera_state_changes")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_unit_id"))

    op.drop_table("cameras")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_topic"))
        batch_op.drop_index(batch_op.f("ix_events_at"))

    op.drop_table("events")
    with op.batch_alter_table("camera_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_declarations_unit_id"))

    op.drop_table("camera_declarations")
