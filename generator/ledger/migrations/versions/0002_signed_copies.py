"""Signed copies: the sealed PDFs returned by the e-signing platform, and a version's signing.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sets") as sets:
        sets.add_column(sa.Column("signing", sa.String(16)))
        sets.add_column(sa.Column("signed_at", sa.String(32)))
    op.create_table(
        "signed_copies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("sets.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("issued_sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_md5", sa.String(24), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("signers", sa.Text, nullable=False),
        sa.Column("signed_at", sa.String(32)),
        sa.Column("trust", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("set_id", "sha256", name="uq_signed_copies_set_sha256"),
    )
    op.create_index("ix_signed_copies_sha256", "signed_copies", ["sha256"])


def downgrade() -> None:
    op.drop_table("signed_copies")
    with op.batch_alter_table("sets") as sets:
        sets.drop_column("signed_at")
        sets.drop_column("signing")
