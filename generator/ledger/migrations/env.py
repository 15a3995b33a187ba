"""Alembic's environment for the ledger: run on the connection the ledger hands it."""

from __future__ import annotations

from alembic import context

from generator.ledger.schema import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
