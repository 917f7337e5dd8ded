"""Alembic environment for guard's store, run programmatically by ``guard.store.engine.migrate``.

The caller hands over an open connection (``config.attributes["connection"]``)
inside a write transaction that already holds the migration lock, so two
processes starting at once never race to create the same tables.
"""

from __future__ import annotations

from alembic import context

from guard.store.engine import VERSION_TABLE
from guard.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
