"""Speaking time: a limit per meeting, overridable per agenda item; each speech keeps its own.

Revision ID: 0011_speaking_time
Revises: 0009_originals
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_speaking_time"
down_revision = "0009_originals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing meetings, items and speeches are untimed: the columns stay empty for them.
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaking_limit_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaking_limit_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("speaker_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limit_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("speaker_entries", schema=None) as batch_op:
        batch_op.drop_column("limit_seconds")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_column("speaking_limit_seconds")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("speaking_limit_seconds")
