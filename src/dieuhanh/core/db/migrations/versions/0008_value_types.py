"""indicators: DHIS2's signed whole-number value types; the shipped counts become
integer_zero_or_positive (a count of dossiers was stored as -5, #10)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The shipped elements that count things (provincial.yaml); installed before this revision as
# "integer". One that already holds a negative value keeps its type: its values stay as they are.
COUNTS = (
    "DOSSIERS_RECEIVED", "DOSSIERS_PROCESSED", "DOSSIERS_ON_TIME", "DOSSIERS_OVERDUE",
    "DOCS_INCOMING", "DOCS_HANDLED_ON_TIME", "DOCS_OUTGOING", "DOCS_SIGNED_DIGITALLY",
    "REPORTS_1022", "REPORTS_1022_ON_TIME",
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("data_elements") as batch:
        batch.alter_column(
            "value_type", existing_type=sa.String(length=12), type_=sa.String(length=30)
        )
    op.execute(
        sa.text(
            "UPDATE data_elements SET value_type = 'integer_zero_or_positive' "
            "WHERE value_type = 'integer' AND code IN :codes AND NOT EXISTS ("
            "SELECT 1 FROM data_values WHERE data_values.element_id = data_elements.id "
            "AND data_values.numeric < 0)"
        ).bindparams(sa.bindparam("codes", value=list(COUNTS), expanding=True))
    )


def downgrade() -> None:
    op.execute("UPDATE data_elements SET value_type = 'integer' WHERE value_type LIKE 'integer%'")
    with op.batch_alter_table("data_elements") as batch:
        batch.alter_column(
            "value_type", existing_type=sa.String(length=30), type_=sa.String(length=12)
        )
