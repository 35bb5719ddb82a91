"""indicators: one index is both the data values' key and the analytics path

data_values had a unique key (element, unit, period code, option) and an analytics index
(element, period start, unit) carrying period end, option and numeric. Every changed value wrote
an entry into both and into the primary key: ``numeric`` sits in the analytics index, so no
update is HOT. On a 2-CPU machine, with 2 M values stored, a bare UPDATE of 100,000 of them ran
at 50,000-54,100/s; with the one index below in place of the two, at 69,100-71,100/s, and a bare
COPY at 146,000-148,000/s instead of 119,000-131,000/s (bench/indicators.py, alternate runs of
both). The 20 M values of the benchmark take 4,115 MB instead of 4,715 MB.

The key is the same: a period's code and its start determine each other, so (element, period
start, unit, option, period code) is unique exactly when (element, unit, period code, option)
is. Its leading columns are the analytics index's, and it carries what the analytics query reads
(period end, numeric; option is a key column now), so that query stays an index-only scan.
Readers that find a value by its period code give the period's start as well.

Building it takes about a minute per 20 M values on PostgreSQL, inside the migration's
transaction.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op
from alembic.operations import BatchOperations

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

KEY = ["element_id", "period_start", "unit_id", "option", "period_code"]


@contextmanager
def _rebuilt_on_sqlite() -> Iterator[BatchOperations]:
    """SQLite keeps a table's UNIQUE constraint inside the table: batch mode rebuilds it, and
    renames the copy back. The triggers of migration 0023 name data_values from other tables;
    SQLite's checked rename refuses while the table is away, the legacy rename does not (the
    triggers name it again once the copy takes its name)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = ON")
    try:
        with op.batch_alter_table("data_values") as batch:
            yield batch
    finally:
        if sqlite:
            op.execute("PRAGMA legacy_alter_table = OFF")


def upgrade() -> None:
    op.create_index(
        "uq_data_values_key",
        "data_values",
        KEY,
        unique=True,
        postgresql_include=["period_end", "numeric"],
    )
    op.drop_index("ix_data_values_analytics", table_name="data_values")
    with _rebuilt_on_sqlite() as batch:
        batch.drop_constraint("uq_data_values_element_id", type_="unique")


def downgrade() -> None:
    with _rebuilt_on_sqlite() as batch:
        batch.create_unique_constraint(
            "uq_data_values_element_id", ["element_id", "unit_id", "period_code", "option"]
        )
    op.create_index(
        "ix_data_values_analytics",
        "data_values",
        ["element_id", "period_start", "unit_id"],
        postgresql_include=["period_end", "option", "numeric"],
    )
    op.drop_index("uq_data_values_key", table_name="data_values")
