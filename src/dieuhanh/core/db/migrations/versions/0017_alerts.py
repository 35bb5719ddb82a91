"""alerts: rules (the shipped ones from alerts/rules.yaml), their memory, alerts and their
history, CAP messages, notification preferences, webhooks and the delivery outbox; directives
to units with their recipients and updates

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
import yaml
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    rules = op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_alert_rules_code")),
    )
    op.create_table(
        "alert_rule_subjects",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("since", MOMENT, nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("raised", sa.Boolean(), nullable=False),
        sa.Column("cleared_at", MOMENT, nullable=True),
        sa.Column("clear_since", MOMENT, nullable=True),
        sa.Column("flaps", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("context", JSON, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_rule_subjects_rule_id_alert_rules")),
        sa.PrimaryKeyConstraint("rule_id", "subject", name=op.f("pk_alert_rule_subjects")),
    )  # fmt: skip
    with op.batch_alter_table("alert_rule_subjects") as batch:
        batch.create_index("ix_alert_rule_subjects_subject", ["subject"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_code", sa.String(length=60), nullable=True),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("active_key", sa.String(length=200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source_topic", sa.String(length=60), nullable=True),
        sa.Column("context", JSON, nullable=False),
        sa.Column("opened_at", MOMENT, nullable=False),
        sa.Column("last_seen_at", MOMENT, nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("flaps", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", MOMENT, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", MOMENT, nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="SET NULL",
                                name=op.f("fk_alerts_rule_id_alert_rules")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], ondelete="SET NULL",
                                name=op.f("fk_alerts_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("active_key", name=op.f("uq_alerts_active_key")),
    )  # fmt: skip
    with op.batch_alter_table("alerts") as batch:
        batch.create_index("ix_alerts_opened_at", ["opened_at"])
        batch.create_index("ix_alerts_subject_rule", ["subject", "rule_code"])
        batch.create_index("ix_alerts_state", ["state"])
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_notes_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notes")),
    )  # fmt: skip
    with op.batch_alter_table("alert_notes") as batch:
        batch.create_index("ix_alert_notes_alert_id", ["alert_id"])
    op.create_table(
        "cap_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=120), nullable=False),
        sa.Column("emergency", sa.String(length=120), nullable=False),
        sa.Column("msg_type", sa.String(length=8), nullable=False),
        sa.Column("headline", sa.String(length=300), nullable=False),
        sa.Column("sent", MOMENT, nullable=False),
        sa.Column("expires", MOMENT, nullable=True),
        sa.Column("unit_codes", JSON, nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_messages")),
        sa.UniqueConstraint("identifier", name="uq_cap_messages_identifier"),
    )
    with op.batch_alter_table("cap_messages") as batch:
        batch.create_index("ix_cap_messages_emergency", ["emergency"])
        batch.create_index("ix_cap_messages_sent", ["sent"])
    op.create_table(
        "alert_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("severities", JSON, nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_preferences")),
    )  # fmt: skip
    op.create_table(
        "alert_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("severities", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_webhooks")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", MOMENT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("sent_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_deliveries_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("event_id", "channel", "target", name="uq_alert_deliveries_once"),
    )  # fmt: skip
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.create_index("ix_alert_deliveries_alert_id", ["alert_id"])
        batch.create_index("ix_alert_deliveries_due", ["status", "next_at"])
    op.create_table(
        "directives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("deadline", MOMENT, nullable=False),
        sa.Column("acknowledge_by", MOMENT, nullable=False),
        sa.Column("issuer_unit_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("scenario", sa.String(length=60), nullable=True),
        sa.Column("watch", JSON, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="SET NULL",
                                name=op.f("fk_directives_alert_id_alerts")),
        sa.ForeignKeyConstraint(["issuer_unit_id"], ["units.id"],
                                name=op.f("fk_directives_issuer_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directives")),
        sa.UniqueConstraint("code", name=op.f("uq_directives_code")),
    )  # fmt: skip
    with op.batch_alter_table("directives") as batch:
        batch.create_index("ix_directives_created_at", ["created_at"])
    op.create_table(
        "directive_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", MOMENT, nullable=True),
        sa.Column("done_at", MOMENT, nullable=True),
        sa.Column("overdue_at", MOMENT, nullable=True),
        sa.Column("overdue_step", sa.String(length=12), nullable=True),
        sa.Column("escalated_at", MOMENT, nullable=True),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["directive_id"], ["directives.id"], ondelete="CASCADE",
                                name=op.f("fk_directive_recipients_directive_id_directives")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_directive_recipients_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_recipients")),
        sa.UniqueConstraint("directive_id", "unit_id", name="uq_directive_recipient"),
    )  # fmt: skip
    with op.batch_alter_table("directive_recipients") as batch:
        batch.create_index("ix_directive_recipients_directive_id", ["directive_id"])
        batch.create_index("ix_directive_recipients_unit_id", ["unit_id"])
        batch.create_index("ix_directive_recipients_state", ["state"])
    op.create_table(
        "directive_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=14), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["directive_recipients.id"], ondelete="CASCADE",
                                name=op.f("fk_directive_updates_recipient_id_directive_recipients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_updates")),
    )  # fmt: skip
    with op.batch_alter_table("directive_updates") as batch:
        batch.create_index("ix_directive_updates_recipient_id", ["recipient_id"])

    shipped = yaml.safe_load(
        resources.files("dieuhanh.alerts").joinpath("rules.yaml").read_text("utf-8")
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {"code": item["code"], "name": item["name"],
             "severity": item.get("severity", "warning"), "enabled": item.get("enabled", True),
             "definition": item, "created_at": now, "updated_at": now}
            for item in shipped
        ],
    )  # fmt: skip


def downgrade() -> None:
    for table in ("directive_updates", "directive_recipients", "directives",
                  "alert_deliveries", "alert_webhooks", "alert_preferences", "cap_messages",
                  "alert_notes", "alerts", "alert_rule_subjects", "alert_rules"):  # fmt: skip
        op.drop_table(table)
