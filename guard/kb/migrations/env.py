"""Alembic environment for the knowledge base's PostgreSQL tables, run by ``guard.kb.pg_store``.

A chain of its own (version table ``guard_kb_alembic_version``), apart from the
records': the knowledge base may live in another database than the records,
and a records-only database must never need pgvector. The caller hands over a
connection holding the migration lock, as ``guard.store.engine.migrate`` does.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=context.config.attributes["version_table"])
with context.begin_transaction():
    context.run_migrations()
