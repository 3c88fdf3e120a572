"""Approving the minutes: the secretary submits, the chair approves (or returns them), the record freezes.

After the meeting has ended the minutes are a draft that follows every change of the record. The
secretary submits them; the chair returns them for corrections or approves them. Approval renders the
PDF once, stores it content-addressed with the documents, writes its hash into the audit chain, and
makes the whole meeting read-only (`MeetingAccess.require_open_record`). From then on the minutes are
served as stored, byte for byte, never regenerated; signed copies (see docs/signing.md) are stored the
same way, each one a new numbered copy.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from meeting import audit
from meeting.agenda.models import Meeting, MeetingStatus, MinutesStatus
from meeting.agenda.schemas import MeetingChanged, MeetingRead
from meeting.db import utcnow
from meeting.errors import Code, InvalidState
from meeting.voting import minutes
from meeting.voting.models import MinutesCopy
from meeting.voting.schemas import MinutesCopyRead, MinutesState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker
    from meeting.docs import DocsRuntime


async def _copies(session: AsyncSession, meeting_id: int) -> list[MinutesCopy]:
    return list(
        await session.scalars(
            select(MinutesCopy).where(MinutesCopy.meeting_id == meeting_id).order_by(MinutesCopy.number)
        )
    )


async def minutes_state(session: AsyncSession, access: MeetingAccess) -> MinutesState:
    """Where the minutes stand, and the stored copies once approved."""
    return MinutesState(
        status=access.meeting.minutes_status,
        copies=[MinutesCopyRead.from_row(c) for c in await _copies(session, access.meeting.id)],
    )


def _require_step(access: MeetingAccess, source: MinutesStatus, target: MinutesStatus) -> str:
    """Refuse a step the meeting is not at; returns the refusal to give if a concurrent step wins."""
    meeting = access.meeting
    if meeting.status != MeetingStatus.ended:
        raise InvalidState(
            Code.MINUTES_NOT_ENDED,
            f"meeting {meeting.id} is {meeting.status}; its minutes are submitted once it has ended",
        )
    refused = f"the minutes of meeting {meeting.id} are {meeting.minutes_status}; they cannot become {target}"
    if meeting.minutes_status != source:
        raise InvalidState(Code.MINUTES_INVALID_TRANSITION, refused)
    return refused


async def _claim(
    session: AsyncSession, access: MeetingAccess, source: MinutesStatus, target: MinutesStatus
) -> None:
    """The one gate of the minutes' steps: a conditional UPDATE, so two chairs cannot both approve."""
    refused = _require_step(access, source, target)
    meeting = access.meeting
    moved = await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.minutes_status == source)
        .values(minutes_status=target)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise InvalidState(Code.MINUTES_INVALID_TRANSITION, refused)
    meeting.minutes_status = target


async def _record(
    session: AsyncSession, broker: Broker, access: MeetingAccess, action: str, details: dict[str, object]
) -> None:
    """Chain the step and commit it, announcing the meeting's new state."""
    meeting = access.meeting
    await audit.append(session, meeting.id, action, {**details, "by": access.user.id})
    await broker.commit(session, meeting.id, [MeetingChanged(meeting=MeetingRead.of(meeting, None))])


async def submit_minutes(session: AsyncSession, broker: Broker, access: MeetingAccess) -> MinutesState:
    """draft → submitted (secretary, or chair): the minutes go to the chair for approval."""
    access.require_manager()
    await _claim(session, access, MinutesStatus.draft, MinutesStatus.submitted)
    await _record(session, broker, access, "minutes.submit", {})
    return await minutes_state(session, access)


async def return_minutes(session: AsyncSession, broker: Broker, access: MeetingAccess) -> MinutesState:
    """submitted → draft (chair): back to the secretary for corrections."""
    access.require_chair()
    await _claim(session, access, MinutesStatus.submitted, MinutesStatus.draft)
    await _record(session, broker, access, "minutes.return", {})
    return await minutes_state(session, access)


async def store_copy(
    session: AsyncSession, docs: DocsRuntime, access: MeetingAccess, pdf: bytes, signed_by: str
) -> MinutesCopy:
    """Keep a PDF of the minutes as the next numbered copy (in the caller's transaction)."""
    digest = hashlib.sha256(pdf).hexdigest()
    temporary = docs.store.temporary(".pdf")
    temporary.write_bytes(pdf)
    docs.store.put(temporary, digest)
    number = int(
        await session.scalar(
            select(func.max(MinutesCopy.number)).where(MinutesCopy.meeting_id == access.meeting.id)
        )
        or 0
    )
    copy = MinutesCopy(
        meeting_id=access.meeting.id,
        number=number + 1,
        sha256=digest,
        size_bytes=len(pdf),
        signed_by=signed_by,
        created_by_id=access.user.id,
        created_at=utcnow(),
    )
    session.add(copy)
    await session.flush()
    return copy


async def approve_minutes(
    session: AsyncSession, broker: Broker, docs: DocsRuntime, access: MeetingAccess
) -> MinutesState:
    """submitted → approved (chair): render once, store, chain the hash; the meeting becomes read-only."""
    access.require_chair()
    _require_step(access, MinutesStatus.submitted, MinutesStatus.approved)  # before rendering for nothing
    pdf = await minutes.minutes_pdf(session, access, docs)
    # Claimed before the copy is numbered: a second approver waits here, then finds them approved.
    await _claim(session, access, MinutesStatus.submitted, MinutesStatus.approved)
    copy = await store_copy(session, docs, access, pdf, signed_by="")
    await _record(session, broker, access, "minutes.approve", {"copy": copy.number, "sha256": copy.sha256})
    return await minutes_state(session, access)


async def approved_pdf(session: AsyncSession, docs: DocsRuntime, access: MeetingAccess) -> bytes | None:
    """The newest stored copy of approved minutes, byte for byte; None while they are not approved."""
    if access.meeting.minutes_status != MinutesStatus.approved:
        return None
    copies = await _copies(session, access.meeting.id)
    return docs.store.blob_path(copies[-1].sha256).read_bytes() if copies else None
