"""Alembic environment: the engine comes from the caller (dieuhanh.db.migrate), never a URL here."""

from __future__ import annotations

from alembic import context

from dieuhanh.db.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # A migration may rewrite or index a table of millions of rows: no statement limit
            # (the engine's is for requests); its lock wait stays short (issue #10).
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        context.run_migrations()
    connection.commit()
