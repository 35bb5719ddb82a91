"""indicators: the value history is a log without foreign keys

Every history row was checked against the catalog when its value was (data_values keeps its
foreign keys), and nothing deletes elements or units. The two per-row referential checks made
writing 100,000 history rows take 1.2 s instead of 0.42 s on PostgreSQL 15 (bench/indicators.py
section (a)), the largest single cost of an import.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FOREIGN_KEYS = {
    "fk_data_value_changes_element_id_data_elements": ("element_id", "data_elements"),
    "fk_data_value_changes_unit_id_units": ("unit_id", "units"),
}


def upgrade() -> None:
    with op.batch_alter_table("data_value_changes") as batch:
        for name in FOREIGN_KEYS:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("data_value_changes") as batch:
        for name, (column, table) in FOREIGN_KEYS.items():
            batch.create_foreign_key(name, table, [column], ["id"])
