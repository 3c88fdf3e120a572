"""Rooms: annotations, speaker queue, presenter state.

Revision ID: 0003_rooms
Revises: 0001_foundation
Create Date: 2026-11-23 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_rooms"
down_revision = "0002_docs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ink", "highlight", "note", name="annotationkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum("private", "shared", name="visibility", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_annotations_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_annotations_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(
        "ix_annotations_meeting_document", "annotations", ["meeting_id", "document_id", "version_id"]
    )
    op.create_index(op.f("ix_annotations_author_id"), "annotations", ["author_id"])

    op.create_table(
        "speaker_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting", "speaking", "done", "withdrawn", name="speakerstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_speaker_entries_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_speaker_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_entries")),
    )
    op.create_index("ix_speaker_entries_meeting_status", "speaker_entries", ["meeting_id", "status"])

    op.create_table(
        "room_presenters",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("viewport_x", sa.Float(), nullable=False),
        sa.Column("viewport_y", sa.Float(), nullable=False),
        sa.Column("zoom", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_room_presenters_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_room_presenters_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_room_presenters")),
    )


def downgrade() -> None:
    op.drop_table("room_presenters")
    op.drop_index("ix_speaker_entries_meeting_status", table_name="speaker_entries")
    op.drop_table("speaker_entries")
    op.drop_index(op.f("ix_annotations_author_id"), table_name="annotations")
    op.drop_index("ix_annotations_meeting_document", table_name="annotations")
    op.drop_table("annotations")
