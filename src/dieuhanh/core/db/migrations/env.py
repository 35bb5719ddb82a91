"""Alembic environment: the engine comes from the caller (``core.db.migrate``), never a URL.

The metadata (every capability's tables) is passed by the caller too, for autogenerate and
comparisons: the kernel does not know the capabilities.
"""

from __future__ import annotations

from alembic import context

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=config.attributes.get("target_metadata"),
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
