"""indicators: data elements, values and history; reporting: forms, submissions, approvals

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "constants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constants")),
        sa.UniqueConstraint("code", name=op.f("uq_constants_code")),
    )
    op.create_table(
        "disaggregations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaggregations")),
        sa.UniqueConstraint("code", name=op.f("uq_disaggregations_code")),
    )
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("domain", sa.String(length=40), nullable=True),
        sa.Column("numerator", sa.Text(), nullable=False),
        sa.Column("denominator", sa.Text(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=50), nullable=True),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column(
            "legend", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("code", name=op.f("uq_indicators_code")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicators_domain"), ["domain"], unique=False)

    op.create_table(
        "report_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("domain", sa.String(length=40), nullable=True),
        sa.Column("period_type", sa.String(length=12), nullable=False),
        sa.Column("timely_days", sa.Integer(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=True),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("hide_unapproved", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_forms")),
        sa.UniqueConstraint("code", name=op.f("uq_report_forms_code")),
    )
    op.create_table(
        "data_elements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("value_type", sa.String(length=12), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=50), nullable=True),
        sa.Column("aggregation_type", sa.String(length=10), nullable=False),
        sa.Column("domain", sa.String(length=40), nullable=True),
        sa.Column("disaggregation_id", sa.Integer(), nullable=True),
        sa.Column("zero_is_significant", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["disaggregation_id"],
            ["disaggregations.id"],
            name=op.f("fk_data_elements_disaggregation_id_disaggregations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_elements")),
        sa.UniqueConstraint("code", name=op.f("uq_data_elements_code")),
    )
    with op.batch_alter_table("data_elements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_elements_domain"), ["domain"], unique=False)

    op.create_table(
        "disaggregation_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disaggregation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["disaggregation_id"],
            ["disaggregations.id"],
            name=op.f("fk_disaggregation_options_disaggregation_id_disaggregations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaggregation_options")),
        sa.UniqueConstraint(
            "disaggregation_id", "code", name=op.f("uq_disaggregation_options_disaggregation_id")
        ),
    )
    op.create_table(
        "report_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_approvals_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_report_approvals_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_approvals")),
        sa.UniqueConstraint(
            "form_id", "unit_id", "period_code", name=op.f("uq_report_approvals_form_id")
        ),
    )
    with op.batch_alter_table("report_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_approvals_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "report_entry_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_entry_exceptions_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_report_entry_exceptions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_entry_exceptions")),
    )
    with op.batch_alter_table("report_entry_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_entry_exceptions_form_period", ["form_id", "period_code"], unique=False
        )

    op.create_table(
        "report_form_units",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_form_units_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_report_form_units_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_id", "unit_id", name=op.f("pk_report_form_units")),
    )
    with op.batch_alter_table("report_form_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_form_units_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "report_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_reminders_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_report_reminders_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reminders")),
        sa.UniqueConstraint(
            "form_id", "unit_id", "period_code", "kind", name=op.f("uq_report_reminders_form_id")
        ),
    )
    with op.batch_alter_table("report_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_reminders_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "report_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_by", sa.String(length=100), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_submissions_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_report_submissions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_submissions")),
        sa.UniqueConstraint(
            "form_id", "unit_id", "period_code", name=op.f("uq_report_submissions_form_id")
        ),
    )
    with op.batch_alter_table("report_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_submissions_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "validation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=230), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("left", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=20), nullable=False),
        sa.Column("right", sa.Text(), nullable=False),
        sa.Column("missing_value_strategy", sa.String(length=20), nullable=False),
        sa.Column("importance", sa.String(length=10), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("period_type", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_validation_rules_form_id_report_forms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_validation_rules_code")),
    )
    with op.batch_alter_table("validation_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validation_rules_form_id"), ["form_id"], unique=False)

    op.create_table(
        "data_value_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("option", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_detail", sa.String(length=200), nullable=True),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["data_elements.id"],
            name=op.f("fk_data_value_changes_element_id_data_elements"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_data_value_changes_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_value_changes")),
    )
    with op.batch_alter_table("data_value_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_value_changes_value", ["element_id", "unit_id", "period_code"], unique=False
        )

    op.create_table(
        "data_values",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=12), nullable=False),
        sa.Column("period_type", sa.String(length=12), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("option", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("numeric", sa.Float(), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_detail", sa.String(length=200), nullable=True),
        sa.Column("stored_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["data_elements.id"],
            name=op.f("fk_data_values_element_id_data_elements"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_data_values_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_values")),
        sa.UniqueConstraint(
            "element_id", "unit_id", "period_code", "option", name=op.f("uq_data_values_element_id")
        ),
    )
    with op.batch_alter_table("data_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_values_analytics",
            ["element_id", "period_start", "unit_id"],
            unique=False,
            postgresql_include=["period_end", "option", "numeric"],
        )

    op.create_table(
        "report_form_elements",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["data_elements.id"],
            name=op.f("fk_report_form_elements_element_id_data_elements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_report_form_elements_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_id", "element_id", name=op.f("pk_report_form_elements")),
    )
    with op.batch_alter_table("report_form_elements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_form_elements_element_id"), ["element_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_form_elements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_form_elements_element_id"))

    op.drop_table("report_form_elements")
    with op.batch_alter_table("data_values", schema=None) as batch_op:
        batch_op.drop_index("ix_data_values_analytics")

    op.drop_table("data_values")
    with op.batch_alter_table("data_value_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_data_value_changes_value")

    op.drop_table("data_value_changes")
    with op.batch_alter_table("validation_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_rules_form_id"))

    op.drop_table("validation_rules")
    with op.batch_alter_table("report_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_submissions_unit_id"))

    op.drop_table("report_submissions")
    with op.batch_alter_table("report_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_reminders_unit_id"))

    op.drop_table("report_reminders")
    with op.batch_alter_table("report_form_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_form_units_unit_id"))

    op.drop_table("report_form_units")
    with op.batch_alter_table("report_entry_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_report_entry_exceptions_form_period")

    op.drop_table("report_entry_exceptions")
    with op.batch_alter_table("report_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_approvals_unit_id"))

    op.drop_table("report_approvals")
    op.drop_table("disaggregation_options")
    with op.batch_alter_table("data_elements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_elements_domain"))

    op.drop_table("data_elements")
    op.drop_table("report_forms")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_domain"))

    op.drop_table("indicators")
    op.drop_table("disaggregations")
    op.drop_table("constants")
