"""Conclusions of agenda items: Markdown text, versioned with author and time, linked to the item's polls."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from meeting import audit
from meeting.agenda.models import AgendaItem
from meeting.agenda.service import display_order, get_item
from meeting.db import utcnow
from meeting.errors import Code, Conflict, NotFound
from meeting.voting import service
from meeting.voting.models import Conclusion, Poll
from meeting.voting.schemas import ConclusionChanged, ConclusionRead

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker
    from meeting.voting.schemas import ConclusionWrite, PollRead


async def _polls(session: AsyncSession, access: MeetingAccess, item_id: int) -> list[PollRead]:
    polls = await session.scalars(
        select(Poll).where(Poll.item_id == item_id, Poll.state != "draft").order_by(Poll.id)
    )
    return [await service.read_for(session, p, access) for p in polls]


async def _read(
    session: AsyncSession, access: MeetingAccess, row: Conclusion, with_polls: bool
) -> ConclusionRead:
    return ConclusionRead.from_row(
        row, polls=await _polls(session, access, row.item_id) if with_polls else []
    )


def text_hash(text: str) -> str:
    """The hash the audit chain keeps of a conclusion's text."""
    return hashlib.sha256(text.encode()).hexdigest()


async def write(
    session: AsyncSession, broker: Broker, access: MeetingAccess, item_id: int, data: ConclusionWrite
) -> ConclusionRead:
    """Save the next version of an item's conclusion (chair or secretary), until the record is final."""
    access.require_manager()
    access.require_open_record()
    item = await get_item(session, access, item_id)
    current = (
        await session.scalar(select(func.max(Conclusion.version)).where(Conclusion.item_id == item.id)) or 0
    )
    if data.base_version is not None and data.base_version != current:
        raise Conflict(
            Code.CONCLUSION_STALE,
            f"the conclusion of item {item.id} is at version {current}, not {data.base_version}",
        )
    row = Conclusion(
        meeting_id=access.meeting.id,
        item_id=item.id,
        version=current + 1,
        text=data.text,
        author_id=access.user.id,
        author_name=access.user.display_name,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # UNIQUE(item, version): two editors saved at once; the second reloads
        await session.rollback()
        raise Conflict(
            Code.CONCLUSION_STALE, f"the conclusion of item {item_id} was saved by someone else meanwhile"
        ) from exc
    facts = {"item": item.id, "version": row.version, "sha256": text_hash(row.text), "by": access.user.id}
    await audit.append(session, access.meeting.id, "conclusion", facts)
    read = await _read(session, access, row, with_polls=True)
    await broker.commit(session, access.meeting.id, [ConclusionChanged(conclusion=read)])
    return read


async def latest(session: AsyncSession, access: MeetingAccess, item_id: int) -> ConclusionRead:
    """The current version of an item's conclusion, with its polls."""
    item = await get_item(session, access, item_id)
    row = await session.scalar(
        select(Conclusion).where(Conclusion.item_id == item.id).order_by(Conclusion.version.desc()).limit(1)
    )
    if row is None:
        raise NotFound(Code.CONCLUSION_NOT_FOUND, f"agenda item {item_id} has no conclusion yet")
    return await _read(session, access, row, with_polls=True)


async def history(session: AsyncSession, access: MeetingAccess, item_id: int) -> list[ConclusionRead]:
    """Every version of an item's conclusion, newest first."""
    item = await get_item(session, access, item_id)
    rows = await session.scalars(
        select(Conclusion).where(Conclusion.item_id == item.id).order_by(Conclusion.version.desc())
    )
    return [await _read(session, access, row, with_polls=False) for row in rows]


async def latest_texts(session: AsyncSession, meeting_id: int) -> dict[int, Conclusion]:
    """The latest conclusion row per item of a meeting."""
    newest = (
        select(Conclusion.item_id, func.max(Conclusion.version).label("version"))
        .where(Conclusion.meeting_id == meeting_id)
        .group_by(Conclusion.item_id)
        .subquery()
    )
    rows = await session.scalars(
        select(Conclusion).join(
            newest, (Conclusion.item_id == newest.c.item_id) & (Conclusion.version == newest.c.version)
        )
    )
    return {row.item_id: row for row in rows}


async def latest_all(session: AsyncSession, access: MeetingAccess) -> list[ConclusionRead]:
    """The latest conclusion of every item that has one, in agenda order."""
    rows = await latest_texts(session, access.meeting.id)
    items = display_order(
        list(await session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == access.meeting.id)))
    )
    return [await _read(session, access, rows[i.id], with_polls=True) for i in items if i.id in rows]
