"""The audit chain of the whole record, and `meeting audit verify` checking the stored facts against it."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from meeting.audit import AuditEntry, verify

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.voting.conftest import Session


async def _cli_verify(settings: Settings) -> tuple[int, str]:
    env = {**os.environ, "MEETING_DATA_DIR": str(settings.data_dir)}
    env.pop("DATABASE_URL", None)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "meeting.cli",
        "audit",
        "verify",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode().strip()


async def _run_poll(session: Session, kind: str) -> int:
    poll = await session.opened(kind=kind)
    await session.vote(poll["id"], "delegate1", 0)
    await session.vote(poll["id"], "delegate2", 2)
    await session.close(poll["id"])
    await session.publish(poll["id"])
    return int(poll["id"])


async def test_every_poll_action_is_chained(session: Session, db: AsyncSession) -> None:
    named = await _run_poll(session, "named")
    secret = await _run_poll(session, "secret")
    chain = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    entries = [e for e in chain if e.action.startswith(("poll.", "ballot."))]
    assert [e.action for e in entries] == [
        "poll.create",
        "poll.open",
        "ballot.cast",
        "ballot.cast",
        "poll.close",
        "poll.publish",
        "poll.create",
        "poll.open",
        "ballot.secret",
        "ballot.secret",
        "poll.close",
        "poll.publish",
    ]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))
    named_ballot = json.loads(entries[2].payload)
    assert named_ballot == {
        "poll": named,
        "participant": session.council.participant_ids["delegate1"],
        "choice": [0],
    }
    # Secret ballots are anonymous events: the poll, nothing else.
    assert [json.loads(e.payload) for e in entries[8:10]] == [{"poll": secret}, {"poll": secret}]
    outcome = await verify(db)
    assert (outcome.broken, outcome.entries) == (None, len(chain))


async def test_verify_finds_the_tampered_entry(
    session: Session, db: AsyncSession, settings: Settings
) -> None:
    await _run_poll(session, "named")
    code, out = await _cli_verify(settings)
    entries = len(list(await db.scalars(select(AuditEntry.id))))
    assert (code, out) == (
        0,
        f"audit ok: {entries} entries in 1 chain(s); the stored record of 1 meeting(s) matches them",
    )
    third = await db.scalar(
        select(AuditEntry).where(AuditEntry.action == "ballot.cast").order_by(AuditEntry.seq).limit(1)
    )
    assert third is not None
    forged = third.payload.replace('"choice":[0]', '"choice":[1]')
    assert forged != third.payload
    await db.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(payload=forged))
    await db.commit()
    outcome = await verify(db)
    assert outcome.broken is not None
    assert (outcome.broken.seq, outcome.broken.reason) == (third.seq, "its content does not match its hash")
    code, out = await _cli_verify(settings)
    assert code == 1
    assert out.startswith(f"audit BROKEN at entry {third.seq} of meeting {session.council.meeting_id}")


async def test_verify_finds_a_removed_entry_and_a_cut_tail(session: Session, db: AsyncSession) -> None:
    await _run_poll(session, "open")
    last = await db.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert last is not None
    cut = last.seq
    await db.delete(last)
    await db.commit()
    broken = (await verify(db)).broken
    assert broken is not None and broken.seq == cut
    middle = await db.scalar(select(AuditEntry).where(AuditEntry.seq == 2))
    await db.delete(middle)
    await db.commit()
    broken = (await verify(db)).broken
    assert broken is not None and (broken.seq, broken.reason) == (2, "entry 2 is missing")
