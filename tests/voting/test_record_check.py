"""`meeting audit verify` checks the stored facts against the chain: every edit of a database copy shows.

Each case edits one stored fact the way someone with the database file could (no chain entry changes,
so the chain itself still holds) and expects the check to name that fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text, update

from meeting.agenda.models import Meeting, Participant
from meeting.audit import verify
from meeting.docs.models import DocumentVersion
from meeting.docs.storage import BlobStore
from meeting.voting.models import Ballot, Conclusion, MinutesCopy, Poll, SecretChoice
from meeting.voting.verify import check_record
from tests.support.api import upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.voting.conftest import Session


@dataclass
class Record:
    """A whole meeting's record: ended, minutes approved."""

    meeting_id: int
    named_poll: int
    secret_poll: int
    item_id: int
    delegate1: int


async def _whole_meeting(session: Session) -> Record:
    api, url = session.api, session.council.url
    assert (await upload(session.council, make_pdf())).status_code == 201
    polls = {}
    for kind in ("named", "secret"):
        poll = await session.opened(kind=kind)
        await session.vote(poll["id"], "delegate1", 0)
        await session.vote(poll["id"], "delegate2", 0)
        await session.close(poll["id"])
        await session.publish(poll["id"])
        polls[kind] = poll["id"]
    conclusion = {"text": "Hội đồng thống nhất thông qua."}
    await api.ok("PUT", f"{url}/agenda/{session.item_id}/conclusion", "secretary", json=conclusion)
    await api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    await api.ok("POST", f"{url}/minutes/approve", "chair")
    return Record(
        session.council.meeting_id,
        polls["named"],
        polls["secret"],
        session.item_id,
        session.council.participant_ids["delegate1"],
    )


async def _swap_counts(db: AsyncSession, record: Record, _: BlobStore) -> None:
    poll = await db.get(Poll, record.named_poll)
    assert poll is not None and poll.result is not None
    result = json.loads(poll.result)
    result["counts"] = list(reversed(result["counts"]))
    await db.execute(update(Poll).where(Poll.id == poll.id).values(result=json.dumps(result)))


async def _change_named_ballot(db: AsyncSession, record: Record, _: BlobStore) -> None:
    changed = update(Ballot).where(
        Ballot.poll_id == record.named_poll, Ballot.participant_id == record.delegate1
    )
    await db.execute(changed.values(choice="[1]"))


async def _drop_secret_choice(db: AsyncSession, record: Record, _: BlobStore) -> None:
    one = await db.scalar(select(SecretChoice.id).where(SecretChoice.poll_id == record.secret_poll).limit(1))
    await db.execute(text("DELETE FROM secret_choices WHERE id = :id"), {"id": one})


async def _edit_conclusion(db: AsyncSession, record: Record, _: BlobStore) -> None:
    await db.execute(update(Conclusion).values(text="Hội đồng không thông qua."))


async def _edit_attendance(db: AsyncSession, record: Record, _: BlobStore) -> None:
    changed = update(Participant).where(Participant.id == record.delegate1)
    await db.execute(changed.values(attendance="absent", absence_reason="Ốm"))


async def _grant_a_vote(db: AsyncSession, record: Record, _: BlobStore) -> None:
    await db.execute(
        update(Participant)
        .where(Participant.meeting_id == record.meeting_id, Participant.role == "secretary")
        .values(voting=True)
    )


async def _reopen_meeting(db: AsyncSession, record: Record, _: BlobStore) -> None:
    await db.execute(update(Meeting).where(Meeting.id == record.meeting_id).values(status="live"))


async def _edit_document_file(db: AsyncSession, record: Record, store: BlobStore) -> None:
    sha256 = await db.scalar(select(DocumentVersion.sha256).limit(1))
    assert sha256 is not None
    path = store.blob_path(sha256)
    path.write_bytes(path.read_bytes().replace(b"12", b"13"))


async def _edit_minutes_file(db: AsyncSession, record: Record, store: BlobStore) -> None:
    sha256 = await db.scalar(select(MinutesCopy.sha256).limit(1))
    assert sha256 is not None
    path = store.blob_path(sha256)
    path.write_bytes(path.read_bytes() + b"\n% appended\n")


CASES: list[tuple[str, Any, str]] = [
    ("counts swapped in a result", _swap_counts, "poll {named}'s result (recounted from its ballots)"),
    ("a named ballot changed", _change_named_ballot, "poll {named}'s ballots"),
    ("a secret choice removed", _drop_secret_choice, "poll {secret}'s ballots"),
    ("a conclusion rewritten", _edit_conclusion, "the conclusion of item {item}, version 1"),
    ("attendance changed", _edit_attendance, "participant {delegate1}'s attendance"),
    ("a vote granted", _grant_a_vote, "participant "),
    ("the meeting reopened", _reopen_meeting, "its status"),
    ("a document's file edited", _edit_document_file, "the file of document "),
    ("the approved minutes edited", _edit_minutes_file, "the file of minutes copy 1"),
]


@pytest.mark.parametrize(("case", "tamper", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_an_edited_fact_is_found_and_named(
    session: Session, db: AsyncSession, settings: Settings, case: str, tamper: Any, expected: str
) -> None:
    record = await _whole_meeting(session)
    store = BlobStore(settings.data_dir)
    assert await check_record(db, store) == (1, None)
    await tamper(db, record, store)
    await db.commit()
    db.expire_all()
    assert (await verify(db)).broken is None  # the chain itself is untouched ...
    _, found = await check_record(db, store)  # ... but it no longer describes the rows
    assert found is not None, case
    what = expected.format(
        named=record.named_poll, secret=record.secret_poll, item=record.item_id, delegate1=record.delegate1
    )
    assert (found.meeting_id, found.what[: len(what)]) == (record.meeting_id, what), str(found)
    assert str(found).startswith(f"record MISMATCH in meeting {record.meeting_id}: {what}")
