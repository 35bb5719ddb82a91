"""camera views, layouts, snapshots, gateway nodes

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "gateway_nodes",
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("public_url", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.Column("transcodes", sa.Integer(), nullable=False),
        sa.Column("max_transcodes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_gateway_nodes")),
    )
    op.create_table(
        "camera_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "camera_ids", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("rotate_seconds", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_camera_layouts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_layouts")),
    )
    with op.batch_alter_table("camera_layouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_layouts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "camera_snapshots",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_snapshots_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_snapshots")),
    )
    op.create_table(
        "camera_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("codec", sa.String(length=10), nullable=False),
        sa.Column("transcoded", sa.Boolean(), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_views_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_camera_views_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_camera_views_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_views")),
    )
    with op.batch_alter_table("camera_views", schema=None) as batch_op:
        batch_op.create_index(
            "ix_camera_views_camera_issued", ["camera_id", "issued_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("camera_views", schema=None) as batch_op:
        batch_op.drop_index("ix_camera_views_camera_issued")

    op.drop_table("camera_views")
    op.drop_table("camera_snapshots")
    with op.batch_alter_table("camera_layouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_layouts_user_id"))

    op.drop_table("camera_layouts")
    op.drop_table("gateway_nodes")
