"""The record: sealed secret ballots, choices and receipts apart, minutes approval, stored minutes.

Revision ID: 0005_record
Revises: 0004_voting
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0005_record"
down_revision = "0004_voting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An open secret poll's ballots were stored in clear; sealing them needs the server's key, which a
    # migration does not hold. Such polls are closed before upgrading (a running session would be).
    open_secret = op.get_bind().scalar(
        sa.text("SELECT min(id) FROM polls WHERE kind = 'secret' AND state = 'open'")
    )
    if open_secret is not None:
        raise RuntimeError(f"secret poll {open_secret} is open: close it, then upgrade the database")
    splits = _split_digests()

    op.create_table(
        "sealed_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_sealed_ballots_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_ballots")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_sealed_ballots_receipt_hash")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_sealed_ballots_poll_id"), "sealed_ballots", ["poll_id"])
    op.create_table(
        "secret_choices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_secret_choices_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_choices")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_secret_choices_poll_id"), "secret_choices", ["poll_id"])
    op.create_table(
        "secret_receipts",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_secret_receipts_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "receipt_hash", name=op.f("pk_secret_receipts")),
        sqlite_with_rowid=False,
    )
    for meeting_id, poll_id, digest in splits:
        _append(meeting_id, "poll.ballots_split", {"ballotsDigest": digest, "poll": poll_id})
    # Closed polls' ballots: the same random keys for the choices, the receipts apart.
    op.execute(
        "INSERT INTO secret_choices (id, poll_id, choice) SELECT id, poll_id, choice FROM secret_ballots"
    )
    op.execute(
        "INSERT INTO secret_receipts (poll_id, receipt_hash) SELECT poll_id, receipt_hash FROM secret_ballots"
    )
    op.drop_table("secret_ballots")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("minutes_status", sa.String(length=20), nullable=False, server_default="draft")
        )
    op.create_table(
        "minutes_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("signer_role", sa.String(length=20), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_minutes_copies_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_minutes_copies_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_copies")),
        sa.UniqueConstraint("meeting_id", "number", name=op.f("uq_minutes_copies_meeting_id_number")),
    )
    op.create_index(op.f("ix_minutes_copies_meeting_id"), "minutes_copies", ["meeting_id"])


def _split_digests() -> list[tuple[int, int, str]]:
    """(meeting, poll, digest) of what each closed secret poll's ballots become, receipts and choices
    apart, checked first against the digest of (receipt, choice) pairs frozen at its close.

    That digest cannot be recomputed once the pairs are split, so the upgrade chains the new one
    (`poll.ballots_split`), which `meeting audit verify` checks from then on; a record changed since
    the close is refused before anything is altered.
    """
    bind = op.get_bind()
    splits = []
    polls = bind.execute(
        sa.text("SELECT id, meeting_id, result FROM polls WHERE kind = 'secret' AND result IS NOT NULL")
    ).all()
    for poll_id, meeting_id, result in polls:
        pairs = sorted(
            (str(receipt), str(choice))
            for receipt, choice in bind.execute(
                sa.text("SELECT receipt_hash, choice FROM secret_ballots WHERE poll_id = :poll"),
                {"poll": poll_id},
            )
        )
        frozen = json.loads(result).get("ballotsDigest")
        if frozen != hashlib.sha256(json.dumps(pairs).encode()).hexdigest():
            raise RuntimeError(
                f"secret poll {poll_id}'s ballots do not match the digest frozen at its close: the database "
                "was changed since; restore it from a backup, then upgrade"
            )
        # As meeting.voting.service.secret_ballots_digest computes it.
        listing = {
            "receipts": sorted(receipt for receipt, _ in pairs),
            "choices": sorted(json.loads(choice) for _, choice in pairs),
        }
        splits.append(
            (
                meeting_id,
                poll_id,
                hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest(),
            )
        )
    return splits


def _append(meeting_id: int, action: str, payload: dict[str, object]) -> None:
    """An entry at the end of a meeting's audit chain, hashed as meeting.audit.append does."""
    bind = op.get_bind()
    seq, prev_hash = bind.execute(
        sa.text("SELECT seq, hash FROM audit_heads WHERE meeting_id = :meeting"), {"meeting": meeting_id}
    ).one()
    seq += 1
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    material = "\n".join([str(meeting_id), str(seq), action, text, at, prev_hash])
    digest = hashlib.sha256(material.encode()).hexdigest()
    bind.execute(
        sa.text(
            "INSERT INTO audit_entries (meeting_id, seq, action, payload, at, prev_hash, hash) "
            "VALUES (:meeting, :seq, :action, :payload, :at, :prev, :hash)"
        ),
        {
            "meeting": meeting_id,
            "seq": seq,
            "action": action,
            "payload": text,
            "at": at,
            "prev": prev_hash,
            "hash": digest,
        },
    )
    bind.execute(
        sa.text("UPDATE audit_heads SET seq = :seq, hash = :hash WHERE meeting_id = :meeting"),
        {"seq": seq, "hash": digest, "meeting": meeting_id},
    )


def downgrade() -> None:
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM sealed_ballots")):
        raise RuntimeError("a secret poll is open with sealed ballots: close it, then downgrade")
    op.drop_table("minutes_copies")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("minutes_status")
    op.create_table(
        "secret_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=400), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_secret_ballots_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_ballots")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_secret_ballots_receipt_hash")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_secret_ballots_poll_id"), "secret_ballots", ["poll_id"])
    # The pairing of receipts and choices is gone on purpose; the downgraded rows carry a fresh
    # placeholder hash so the old schema's constraints hold, and old receipts no longer verify.
    op.execute(
        "INSERT INTO secret_ballots (id, poll_id, choice, receipt_hash) "
        "SELECT id, poll_id, choice, id || id FROM secret_choices"
    )
    for table in ("secret_receipts", "secret_choices", "sealed_ballots"):
        op.drop_table(table)
