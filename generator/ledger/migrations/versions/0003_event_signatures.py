"""Event signatures: each event's hash signed with the ledger's key, kept outside the database.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events recorded before signing keep no signature: ledger check says so.
    with op.batch_alter_table("events") as events:
        events.add_column(sa.Column("key_id", sa.String(64)))
        events.add_column(sa.Column("signature", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("events") as events:
        events.drop_column("signature")
        events.drop_column("key_id")
