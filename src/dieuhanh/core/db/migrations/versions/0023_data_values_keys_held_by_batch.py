"""indicators: the data values' references are held once per batch, not checked once per row

data_values had two foreign keys (element, unit). PostgreSQL checks a foreign key with a trigger
per inserted row, which looks the parent up and locks it FOR KEY SHARE: on this 2-CPU machine
those two checks were half the cost of storing a value (a bare COPY of 100,000 rows ran at
77,000/s with them and 171,000/s without; bench/indicators.py).

What they guaranteed is kept, by two parts:
- the one write path (indicators.values) takes the same FOR KEY SHARE lock, once per distinct
  element and unit of a batch instead of once per row: a delete of a referenced row waits for
  the import and an import waits for a delete, as before;
- a trigger on data_elements and units refuses to delete (or renumber) a row that values still
  name, with the foreign-key error (SQLSTATE 23503 on PostgreSQL, a constraint error on SQLite).

Nothing in DieuHanh deletes elements or units; the trigger guards hand-written SQL.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# parent table → the data_values column naming it, and the foreign key it replaces
PARENTS = {
    "data_elements": ("element_id", "fk_data_values_element_id_data_elements"),
    "units": ("unit_id", "fk_data_values_unit_id_units"),
}

POSTGRES_GUARD = """
CREATE FUNCTION data_values_keep_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM data_values WHERE CASE TG_ARGV[0]
               WHEN 'element_id' THEN element_id = OLD.id ELSE unit_id = OLD.id END) THEN
        RAISE EXCEPTION '% % is still named by data values', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'data_values',
                  HINT = 'delete or move its data values first';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("data_values") as batch:
        for _, name in PARENTS.values():
            batch.drop_constraint(name, type_="foreignkey")
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(POSTGRES_GUARD)
    for parent, (column, _) in PARENTS.items():
        if postgres:
            op.execute(
                f"CREATE TRIGGER {parent}_keep_values BEFORE DELETE OR UPDATE OF id ON {parent} "
                f"FOR EACH ROW EXECUTE FUNCTION data_values_keep_parent('{column}')"
            )
            continue
        for event, old in (("DELETE", "OLD.id"), ("UPDATE OF id", "OLD.id")):
            changed = "" if event == "DELETE" else "NEW.id <> OLD.id AND "
            op.execute(
                f"CREATE TRIGGER {parent}_keep_values_{event.split()[0].lower()} BEFORE {event} "
                f"ON {parent} FOR EACH ROW WHEN {changed}EXISTS (SELECT 1 FROM data_values WHERE "
                f"{column} = {old}) BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: "
                f"{parent} row still named by data values'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for parent in PARENTS:
        if postgres:
            op.execute(f"DROP TRIGGER {parent}_keep_values ON {parent}")
        else:
            op.execute(f"DROP TRIGGER {parent}_keep_values_delete")
            op.execute(f"DROP TRIGGER {parent}_keep_values_update")
    if postgres:
        op.execute("DROP FUNCTION data_values_keep_parent()")
    with op.batch_alter_table("data_values") as batch:
        for parent, (column, name) in PARENTS.items():
            batch.create_foreign_key(name, parent, [column], ["id"])
