"""Originals: a version keeps the file it was made from when that is not its PDF (an Office file, a
damaged PDF stored repaired).

Revision ID: 0009_originals
Revises: 0007_resolutions
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_originals"
down_revision = "0008_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing versions are their own originals: the columns stay empty for them.
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("original_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("original_type", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_column("original_type")
        batch_op.drop_column("original_name")
        batch_op.drop_column("original_sha256")
