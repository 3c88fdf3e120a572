"""Resolutions: documents marked as the council's resolutions, versions made by a signature, and one
number per version of a document.

Revision ID: 0007_resolutions
Revises: 0006_minutes
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_resolutions"
down_revision = "0006_minutes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        # Existing documents are not resolutions: the server default fills them, the model sets new ones.
        batch_op.add_column(sa.Column("resolution", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        # Existing versions were all uploaded.
        batch_op.add_column(sa.Column("signature_field", sa.String(length=40), nullable=True))
        # Two versions saved at once (an upload and a signature) must not both become number N.
        batch_op.create_unique_constraint(
            op.f("uq_document_versions_document_id_number"), ["document_id", "number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_document_versions_document_id_number"), type_="unique")
        batch_op.drop_column("signature_field")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("resolution")
