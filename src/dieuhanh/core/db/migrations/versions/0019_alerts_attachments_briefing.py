"""alerts: files attached to directives and to recipients' reports, the daily briefing's
e-mails (one per person and day) and who wants them; the shipped rules on report forms overdue
and on indicator forecasts (from alerts/rules.yaml)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
import yaml
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)
NEW_RULES = ("report_form_overdue", "indicator_forecast_miss")


def upgrade() -> None:
    op.create_table(
        "directive_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["directive_id"], ["directives.id"], ondelete="CASCADE",
                                name=op.f("fk_directive_attachments_directive_id_directives")),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["directive_recipients.id"], ondelete="CASCADE",
            name=op.f("fk_directive_attachments_recipient_id_directive_recipients")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_directive_attachments_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_attachments")),
    )  # fmt: skip
    with op.batch_alter_table("directive_attachments") as batch:
        batch.create_index("ix_directive_attachments_directive_id", ["directive_id"])
    op.create_table(
        "briefing_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("sent_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_briefing_sends_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_sends")),
        sa.UniqueConstraint("user_id", "day", name="uq_briefing_sends_once"),
    )  # fmt: skip
    with op.batch_alter_table("alert_preferences") as batch:
        batch.add_column(
            sa.Column("briefing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    shipped = yaml.safe_load(
        resources.files("dieuhanh.alerts").joinpath("rules.yaml").read_text("utf-8")
    )
    rules = sa.table("alert_rules", sa.column("code"), sa.column("name"), sa.column("severity"),
                     sa.column("enabled"), sa.column("definition", JSON),
                     sa.column("created_at"), sa.column("updated_at"))  # fmt: skip
    present = set(op.get_bind().scalars(sa.select(rules.c.code)))
    now = datetime.now(UTC)
    op.bulk_insert(rules, [
        {"code": item["code"], "name": item["name"], "severity": item.get("severity", "warning"),
         "enabled": item.get("enabled", True), "definition": item, "created_at": now,
         "updated_at": now}
        for item in shipped if item["code"] in NEW_RULES and item["code"] not in present
    ])  # fmt: skip


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM alert_rules WHERE code IN ('report_form_overdue', "
                       "'indicator_forecast_miss')"))  # fmt: skip
    with op.batch_alter_table("alert_preferences") as batch:
        batch.drop_column("briefing")
    op.drop_table("briefing_sends")
    op.drop_table("directive_attachments")
