"""Minutes: actual meeting times, speakers filed under agenda items, document classification.

Revision ID: 0006_minutes
Revises: 0005_record
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_minutes"
# Re-pointed at the 0005 of main when the branches are merged.
down_revision = "0005_record"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("speaker_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_speaker_entries_item_id_agenda_items"),
            "agenda_items",
            ["item_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        # Existing documents become ordinary: the server default fills them, the model sets new ones.
        batch_op.add_column(
            sa.Column(
                "classification",
                sa.Enum(
                    "ordinary", "confidential", name="documentclassification", native_enum=False, length=20
                ),
                nullable=False,
                server_default="ordinary",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("classification")

    with op.batch_alter_table("speaker_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_speaker_entries_item_id_agenda_items"), type_="foreignkey")
        batch_op.drop_column("item_id")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("opened_at")
