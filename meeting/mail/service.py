"""Outbox rules with the database: queue messages in the transaction of their cause, claim them for one
sender, record how each attempt went, queue reminders, and list a meeting's deliveries.

The services whose changes cause mail (meeting.agenda.service) call `meeting_status_changed`,
`meeting_edited` and `participant_changed` before their commit: the messages are stored with the change
or not at all, and a sender (meeting.mail.sender) delivers them later, whatever happened to the process
in between.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from meeting.agenda.models import Meeting, MeetingStatus, Participant
from meeting.mail import rules
from meeting.mail.models import MailKind, MailState, MeetingCalendar, OutboxMessage
from meeting.mail.schemas import InvitationsRead, MessageRead, ParticipantMailRead
from meeting.users.models import User

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda.service import MeetingAccess
    from meeting.settings import Settings


@dataclass(frozen=True)
class Outbox:
    """What the services that cause mail need to know of it: whether it is on, and the reminder lead."""

    enabled: bool
    reminder_hours: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Outbox:
        """The outbox as these settings configure it."""
        return cls(enabled=settings.mail_enabled, reminder_hours=max(0.0, settings.reminder_hours))


# The kinds that tell a person what their calendar holds: a newer one makes a queued older one moot.
CALENDAR_KINDS = (MailKind.invitation, MailKind.update, MailKind.cancellation)
# The kinds that may have put the meeting in someone's calendar (a reminder carries the .ics too).
REQUEST_KINDS = (MailKind.invitation, MailKind.update, MailKind.reminder)


async def _has_calendar_entry(session: AsyncSession, meeting_id: int, user_id: int) -> bool:
    """Whether a request of this meeting went (or is going) to this person: only then is there
    something to cancel."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.meeting_id == meeting_id,
            OutboxMessage.user_id == user_id,
            OutboxMessage.kind.in_(REQUEST_KINDS),
            OutboxMessage.state.in_((MailState.sent, MailState.sending)),
        )
        .limit(1)
    )
    return found is not None


async def _calendar(session: AsyncSession, meeting_id: int) -> MeetingCalendar:
    entry = await session.get(MeetingCalendar, meeting_id)
    if entry is None:
        # Random, stored once: stable for the meeting's life, unique across installations.
        entry = MeetingCalendar(meeting_id=meeting_id, uid=f"{uuid.uuid4()}@phong-hop", sequence=0)
        session.add(entry)
        await session.flush()
    return entry


async def _queue(
    session: AsyncSession,
    meeting: Meeting,
    participants: Iterable[Participant],
    kind: MailKind,
    sequence: int,
) -> int:
    """One message per participant with an address; queued older calendar messages to them are dropped."""
    queued = 0
    for participant in participants:
        # Not `participant.user`: a participant made in this session has not loaded it (no lazy IO).
        user = await session.get(User, participant.user_id)
        if user is None or not user.email:
            continue
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.meeting_id == meeting.id,
                OutboxMessage.user_id == user.id,
                OutboxMessage.state == MailState.queued,
                OutboxMessage.kind.in_(CALENDAR_KINDS),
            )
            .values(state=MailState.superseded, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        if kind == MailKind.cancellation and not await _has_calendar_entry(session, meeting.id, user.id):
            continue  # their invitation never went (it was just dropped): nothing to call off
        session.add(
            OutboxMessage(
                meeting_id=meeting.id,
                user_id=user.id,
                recipient=user.email,
                kind=kind,
                sequence=sequence,
                starts_at=meeting.starts_at,
                state=MailState.queued,
            )
        )
        queued += 1
    await session.flush()
    return queued


async def _participants(session: AsyncSession, meeting_id: int) -> list[Participant]:
    rows = await session.scalars(
        select(Participant).where(Participant.meeting_id == meeting_id).order_by(Participant.id)
    )
    return list(rows)


async def _to_everyone(session: AsyncSession, meeting: Meeting, kind: MailKind) -> int:
    entry = await _calendar(session, meeting.id)
    if rules.raises_sequence(kind) or (
        kind == MailKind.invitation and await _was_announced(session, meeting)
    ):
        entry.sequence += 1
    return await _queue(session, meeting, await _participants(session, meeting.id), kind, entry.sequence)


async def _was_announced(session: AsyncSession, meeting: Meeting) -> bool:
    """Whether calendars may already hold this meeting (scheduled once, then taken back to draft)."""
    count = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.meeting_id == meeting.id)
    )
    return bool(count)


async def meeting_status_changed(
    session: AsyncSession, outbox: Outbox, meeting: Meeting, before: MeetingStatus
) -> int:
    """Queue what a status change tells the participants (in the caller's transaction); how many."""
    kind = rules.mail_for_status(before, meeting.status)
    if not outbox.enabled or kind is None:
        return 0
    return await _to_everyone(session, meeting, kind)


async def meeting_edited(
    session: AsyncSession, outbox: Outbox, meeting: Meeting, *, time_or_place_changed: bool
) -> int:
    """Queue an update when an announced meeting's time or place changed; how many."""
    kind = rules.mail_for_edit(meeting.status, time_or_place_changed=time_or_place_changed)
    if not outbox.enabled or kind is None:
        return 0
    return await _to_everyone(session, meeting, kind)


async def participant_changed(
    session: AsyncSession, outbox: Outbox, meeting: Meeting, participant: Participant, *, added: bool
) -> int:
    """Queue the invitation of someone added after the meeting was announced, or the cancellation of
    someone removed; how many (0 or 1)."""
    kind = rules.mail_for_participant(meeting.status, added=added)
    if not outbox.enabled or kind is None:
        return 0
    entry = await _calendar(session, meeting.id)
    return await _queue(session, meeting, [participant], kind, entry.sequence)


# --------------------------------------------------------------------------------------- the sender


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.state == MailState.queued, OutboxMessage.next_attempt_at <= now),
        # A sender that died mid-send: its lease ran out, another one takes the message over.
        and_(OutboxMessage.state == MailState.sending, OutboxMessage.claimed_until < now),
    )


async def claim_due(
    session: AsyncSession, now: dt.datetime, token: str, lease: dt.timedelta, limit: int = 20
) -> list[int]:
    """Claim up to `limit` messages due at `now` for the sender holding `token`; their ids.

    Each claim is a conditional UPDATE of one row that only succeeds while the row is still claimable:
    of two senders (two processes) reaching for the same message, the database lets one change it, and
    the other's UPDATE then matches no row. A message is sent by one sender or none.
    """
    candidates = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(_claimable(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    claimed = []
    for message_id in candidates:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _claimable(now))
            .values(
                state=MailState.sending,
                claim_token=token,
                claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    await session.commit()
    return claimed


async def _finish(session: AsyncSession, message_id: int, token: str, **values: object) -> bool:
    """Record an attempt's outcome, if the message is still this sender's (its lease did not lapse)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.claim_token == token,
            OutboxMessage.state == MailState.sending,
        )
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, message_id: int, token: str, now: dt.datetime) -> bool:
    """The server accepted the message."""
    return await _finish(
        session, message_id, token, state=MailState.sent, sent_at=now, next_attempt_at=None, last_error=""
    )


async def mark_superseded(session: AsyncSession, message_id: int, token: str, reason: str) -> bool:
    """The message no longer says anything true (the meeting moved on); it is not sent."""
    return await _finish(
        session, message_id, token, state=MailState.superseded, next_attempt_at=None, last_error=reason
    )


async def mark_failed(
    session: AsyncSession,
    message_id: int,
    token: str,
    now: dt.datetime,
    reason: str,
    refusal: rules.Refusal,
    attempts: int,
) -> bool:
    """An attempt failed: failed for good, or queued again after the backoff."""
    if rules.after_failure(attempts, refusal):
        if refusal == rules.Refusal.temporary:
            reason = f"gave up after {attempts} attempts: {reason}"
        return await _finish(
            session, message_id, token, state=MailState.failed, next_attempt_at=None, last_error=reason
        )
    return await _finish(
        session,
        message_id,
        token,
        state=MailState.queued,
        next_attempt_at=now + rules.retry_delay(attempts),
        last_error=reason,
    )


async def queue_reminders(session: AsyncSession, now: dt.datetime, hours: float) -> int:
    """Queue the reminders due at `now` (scheduled meetings starting within `hours`); how many."""
    if hours <= 0:
        return 0
    meetings = list(
        await session.scalars(
            select(Meeting).where(
                Meeting.status == MeetingStatus.scheduled,
                Meeting.starts_at > now,
                Meeting.starts_at <= now + dt.timedelta(hours=hours),
            )
        )
    )
    queued = 0
    for meeting in meetings:
        told = dict(
            (
                await session.execute(
                    select(OutboxMessage.user_id, func.max(OutboxMessage.created_at))
                    .where(
                        OutboxMessage.meeting_id == meeting.id,
                        OutboxMessage.kind.in_((MailKind.invitation, MailKind.update)),
                    )
                    .group_by(OutboxMessage.user_id)
                )
            ).all()
        )
        entry = await session.get(MeetingCalendar, meeting.id)
        for participant in await _participants(session, meeting.id):
            user = participant.user
            last_told = told.get(user.id)
            if not user.email or entry is None:
                continue
            if not rules.reminder_due(
                starts_at=meeting.starts_at, now=now, hours=hours, last_told_at=last_told
            ):
                continue
            key = f"reminder:{meeting.id}:{user.id}:{meeting.starts_at.astimezone(dt.UTC).isoformat()}"
            if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
                continue
            session.add(
                OutboxMessage(
                    meeting_id=meeting.id,
                    user_id=user.id,
                    recipient=user.email,
                    kind=MailKind.reminder,
                    sequence=entry.sequence,
                    starts_at=meeting.starts_at,
                    state=MailState.queued,
                    next_attempt_at=now,
                    dedupe_key=key,
                )
            )
            try:
                await session.commit()
            except IntegrityError:  # another sender queued this one a moment ago
                await session.rollback()
                continue
            queued += 1
    await session.commit()
    return queued


# ------------------------------------------------------------------------------------ the secretary


async def deliveries(session: AsyncSession, outbox: Outbox, access: MeetingAccess) -> InvitationsRead:
    """Every participant's messages of this meeting (and of people removed since), for its managers."""
    access.require_manager()
    meeting_id = access.meeting.id
    messages = list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.meeting_id == meeting_id).order_by(OutboxMessage.id)
        )
    )
    by_user: dict[int, list[MessageRead]] = {}
    for message in messages:
        shown = message.next_attempt_at if message.state == MailState.queued else None
        by_user.setdefault(message.user_id, []).append(MessageRead.from_row(message, next_attempt_at=shown))
    rows = []
    participants = await _participants(session, meeting_id)
    for participant in participants:
        rows.append(
            ParticipantMailRead(
                participant_id=participant.id,
                user_id=participant.user_id,
                display_name=participant.user.display_name,
                email=participant.user.email,
                messages=by_user.pop(participant.user_id, []),
            )
        )
    for user_id, theirs in by_user.items():
        user = await session.get(User, user_id)
        rows.append(
            ParticipantMailRead(
                participant_id=None,
                user_id=user_id,
                display_name=user.display_name if user else "",
                email=user.email if user else None,
                messages=theirs,
            )
        )
    return InvitationsRead(
        mail_enabled=outbox.enabled,
        reminder_hours=outbox.reminder_hours if outbox.enabled else 0.0,
        participants=rows,
    )
