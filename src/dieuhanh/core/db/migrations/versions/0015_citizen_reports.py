"""citizen reports: categories (the shipped ones inserted), reports, their history, Open311 keys

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
import yaml
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    categories = op.create_table(
        "report_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("handled_by", sa.String(length=12), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("urgent_hours", sa.Integer(), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_report_categories_code")),
    )
    op.create_table(
        "citizen_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("suggested_category", sa.String(length=40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("located_by", sa.String(length=12), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("neighbour_unit_ids", JSON, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("contact_email", sa.String(length=120), nullable=True),
        sa.Column("external_id", sa.String(length=60), nullable=True),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.Column("due_at", MOMENT, nullable=False),
        sa.Column("resolved_at", MOMENT, nullable=True),
        sa.Column("closed_at", MOMENT, nullable=True),
        sa.Column("reopen_until", MOMENT, nullable=True),
        sa.Column("overdue_at", MOMENT, nullable=True),
        sa.Column("escalated_at", MOMENT, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["report_categories.id"],
                                name=op.f("fk_citizen_reports_category_id_report_categories")),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["citizen_reports.id"],
                                name=op.f("fk_citizen_reports_duplicate_of_id_citizen_reports")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_citizen_reports_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_citizen_reports_code")),
        sa.UniqueConstraint("token", name=op.f("uq_citizen_reports_token")),
    )  # fmt: skip
    with op.batch_alter_table("citizen_reports") as batch:
        batch.create_index("ix_citizen_reports_category_id", ["category_id"])
        batch.create_index("ix_citizen_reports_unit_id", ["unit_id"])
        batch.create_index("ix_citizen_reports_status", ["status"])
        batch.create_index("ix_citizen_reports_received_at", ["received_at"])
        batch.create_index("ix_citizen_reports_unit_status", ["unit_id", "status"])
    op.create_table(
        "citizen_report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["citizen_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_citizen_report_events_report_id_citizen_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_report_events")),
    )  # fmt: skip
    with op.batch_alter_table("citizen_report_events") as batch:
        batch.create_index("ix_citizen_report_events_report_id", ["report_id"])
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_keys_key_hash")),
    )
    shipped = yaml.safe_load(
        resources.files("dieuhanh.citizen").joinpath("categories.yaml").read_text("utf-8")
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        categories,
        [
            {
                "code": item["code"], "name": item["name"], "name_en": item["name_en"],
                "description": item.get("description", ""), "group": item.get("group", ""),
                "keywords": item.get("keywords", ""), "handled_by": item["handled_by"],
                "department_code": item.get("department_code"),
                "deadline_days": item.get("deadline_days", 5),
                "urgent_hours": item.get("urgent_hours", 24), "fields": item.get("fields", []),
                "active": True, "created_at": now, "updated_at": now,
            }
            for item in shipped
        ],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("open311_keys")
    op.drop_table("citizen_report_events")
    op.drop_table("citizen_reports")
    op.drop_table("report_categories")
