"""The tamper-evident record of a meeting: one hash chain per meeting, appended to by every domain.

Each entry's hash covers its meeting, position, action, payload, time and the previous entry's hash,
so changing, removing or reordering any entry breaks every hash after it. Appends lock the meeting's
`audit_heads` row, so concurrent writers queue instead of forking the chain.

What is chained: the meeting's creation and status, agenda item status, participants (role, voting
right) and attendance, every poll step and named ballot, secret ballots as anonymous events
(`ballot.secret`: poll id only — the chain orders them, so it shows *when* a ballot was cast, as the
live counter does, never whose or what; their content is committed at close by a digest), each
conclusion version and document version by hash, the minutes' steps and stored copies by hash.
`meeting.voting.verify` checks the stored rows against it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

GENESIS = "0" * 64


class AuditHead(Base):
    """The tip of a meeting's audit chain; updating it serialises appends (the row lock is the queue)."""

    __tablename__ = "audit_heads"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One link of a meeting's tamper-evident log: its hash covers its content and the previous hash."""

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: the log outlives what it records
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    # Canonical JSON (sorted keys) of what happened.
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(40))  # ISO text, hashed exactly as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def canonical(payload: dict[str, Any]) -> str:
    """The one JSON text of a payload that is hashed and stored."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(meeting_id: int, seq: int, action: str, payload: str, at: str, prev_hash: str) -> str:
    """The hash of one entry, chained to the previous one."""
    material = "\n".join([str(meeting_id), str(seq), action, payload, at, prev_hash])
    return hashlib.sha256(material.encode()).hexdigest()


async def append(session: AsyncSession, meeting_id: int, action: str, payload: dict[str, Any]) -> AuditEntry:
    """Append an entry to the meeting's chain in the session's transaction (committed by the caller)."""
    # Taking the head's row lock queues concurrent appenders: each sees its predecessor's hash.
    head = await _advance(session, meeting_id)
    if head is None:
        # The meeting's first entry: create the head (a concurrent creator's row wins, ours is dropped).
        values = {"meeting_id": meeting_id, "seq": 0, "hash": GENESIS}
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(pg_insert(AuditHead).values(values).on_conflict_do_nothing())
        else:
            await session.execute(sqlite_insert(AuditHead).values(values).on_conflict_do_nothing())
        head = await _advance(session, meeting_id)
    assert head is not None
    seq, prev_hash = head
    text = canonical(payload)
    at = utcnow().isoformat(timespec="milliseconds")
    digest = entry_hash(meeting_id, seq, action, text, at, prev_hash)
    await session.execute(update(AuditHead).where(AuditHead.meeting_id == meeting_id).values(hash=digest))
    row = {
        "meeting_id": meeting_id,
        "seq": seq,
        "action": action,
        "payload": text,
        "at": at,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    await session.execute(insert(AuditEntry).values(row))
    return AuditEntry(**row)


async def head(session: AsyncSession, meeting_id: int) -> tuple[int, str] | None:
    """The tip of a meeting's chain (position, hash), or None before its first entry."""
    row = (
        await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.meeting_id == meeting_id))
    ).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


async def _advance(session: AsyncSession, meeting_id: int) -> tuple[int, str] | None:
    row = (
        await session.execute(
            update(AuditHead)
            .where(AuditHead.meeting_id == meeting_id)
            .values(seq=AuditHead.seq + 1)
            .returning(AuditHead.seq, AuditHead.hash)
        )
    ).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


@dataclass(frozen=True)
class Break:
    """The first entry where a chain does not hold, and why."""

    meeting_id: int
    seq: int
    entry_id: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    """The outcome of checking every chain."""

    chains: int
    entries: int
    broken: Break | None


async def verify(session: AsyncSession) -> Verification:
    """Check every meeting's chain from its start and its head; report the first broken entry."""
    entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.meeting_id, AuditEntry.seq)))
    heads = {h.meeting_id: h for h in await session.scalars(select(AuditHead))}
    chains: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        chains.setdefault(entry.meeting_id, []).append(entry)
    for meeting_id in sorted(set(chains) | set(heads)):
        broken = check_chain(meeting_id, chains.get(meeting_id, []), heads.get(meeting_id))
        if broken is not None:
            return Verification(len(chains), len(entries), broken)
    return Verification(len(chains), len(entries), None)


def check_chain(meeting_id: int, chain: list[AuditEntry], head: AuditHead | None) -> Break | None:
    """The first break in one meeting's chain (entries in order), or None; also used offline."""
    prev = GENESIS
    for expected_seq, entry in enumerate(chain, start=1):
        if entry.seq != expected_seq:
            return Break(meeting_id, expected_seq, None, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return Break(
                meeting_id, entry.seq, entry.id, "its previous hash does not match the entry before it"
            )
        if (
            entry_hash(meeting_id, entry.seq, entry.action, entry.payload, entry.at, entry.prev_hash)
            != entry.hash
        ):
            return Break(meeting_id, entry.seq, entry.id, "its content does not match its hash")
        prev = entry.hash
    # The head remembers the last hash: dropping entries from the end is caught too.
    if head is not None and (head.seq != len(chain) or head.hash != prev):
        return Break(
            meeting_id, len(chain) + 1, None, f"the chain ends at {len(chain)} but the head says {head.seq}"
        )
    return None


def describe(verification: Verification) -> str:
    """One line for an operator: all good, or where the chain breaks."""
    broken = verification.broken
    if broken is None:
        return f"audit ok: {verification.entries} entries in {verification.chains} chain(s)"
    where = f"entry {broken.seq} of meeting {broken.meeting_id}"
    if broken.entry_id is not None:
        where += f" (row id {broken.entry_id})"
    return f"audit BROKEN at {where}: {broken.reason}"
