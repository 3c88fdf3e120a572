"""Meeting rules: who may see and change a meeting, lifecycle, agenda, participants, attendance, quorum."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError

from meeting import audit, mail
from meeting.agenda.models import (
    ITEM_TRANSITIONS,
    MANAGER_ROLES,
    MEETING_TRANSITIONS,
    PRESENT,
    AgendaItem,
    Attendance,
    ItemStatus,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Participant,
    ParticipantRole,
)
from meeting.agenda.schemas import (
    AgendaChanged,
    AttendanceChanged,
    ItemRead,
    MeetingChanged,
    MeetingRead,
    ParticipantChanged,
    ParticipantRead,
    ParticipantRemoved,
    Quorum,
)
from meeting.broker import RoomSequence
from meeting.db import get_or_404, utcnow
from meeting.errors import Code, Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from meeting.users.models import GlobalRole, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda.schemas import (
        AgendaOrder,
        AttendanceChange,
        ItemCreate,
        ItemUpdate,
        MeetingCreate,
        MeetingDuplicate,
        MeetingUpdate,
        ParticipantCreate,
        ParticipantUpdate,
    )
    from meeting.broker import Broker
    from meeting.mail import Outbox


# ---------------------------------------------------------------------------------------------- access


@dataclass(frozen=True)
class MeetingAccess:
    """A meeting as seen by one user: their participation (None for an admin who is not invited)."""

    meeting: Meeting
    user: User
    participant: Participant | None

    @property
    def is_admin(self) -> bool:
        """Administrators may do everything."""
        return self.user.role == GlobalRole.admin

    @property
    def role(self) -> ParticipantRole | None:
        """The caller's role in this meeting."""
        return self.participant.role if self.participant else None

    @property
    def can_manage(self) -> bool:
        """Chair, secretary or admin: may change the meeting and what is in it."""
        return self.is_admin or self.role in MANAGER_ROLES

    @property
    def is_chair(self) -> bool:
        """The chair (or an admin) runs the session."""
        return self.is_admin or self.role == ParticipantRole.chair

    def require_manager(self) -> None:
        """Raise Forbidden unless the caller is the meeting's chair, secretary or an admin."""
        if not self.can_manage:
            raise Forbidden(
                Code.MEETING_CHAIR_OR_SECRETARY_ONLY,
                f"only the chair or secretary of meeting {self.meeting.id} can do this",
            )

    def require_chair(self) -> None:
        """Raise Forbidden unless the caller is the meeting's chair or an admin."""
        if not self.is_chair:
            raise Forbidden(
                Code.MEETING_CHAIR_ONLY, f"only the chair of meeting {self.meeting.id} can do this"
            )

    def require_open_record(self) -> None:
        """Raise InvalidState while the minutes are with the chair, and for good once they are approved."""
        meeting = self.meeting
        if meeting.status == MeetingStatus.archived:
            raise InvalidState(
                Code.MEETING_RECORD_FROZEN, f"meeting {meeting.id} is archived; its record is read-only"
            )
        if meeting.minutes_status == MinutesStatus.approved:
            raise InvalidState(
                Code.MEETING_RECORD_FROZEN,
                f"the minutes of meeting {meeting.id} are approved; its record is read-only",
            )
        if meeting.minutes_status == MinutesStatus.submitted:
            # The chair approves exactly what was submitted: to change it, they return the minutes.
            raise InvalidState(
                Code.MEETING_MINUTES_SUBMITTED,
                f"the minutes of meeting {meeting.id} are with the chair; they return them for changes",
            )


# Every request about a meeting runs this: the meeting and the caller's seat in one statement, built once.
_MEETING_AND_SEAT = (
    select(Meeting, Participant)
    .outerjoin(
        Participant, (Participant.meeting_id == Meeting.id) & (Participant.user_id == bindparam("user"))
    )
    .where(Meeting.id == bindparam("meeting"))
)


async def load_access(session: AsyncSession, meeting_id: int, user: User) -> MeetingAccess:
    """The meeting if the user takes part in it (or is an admin); 404 otherwise, so ids do not leak."""
    row = (await session.execute(_MEETING_AND_SEAT, {"meeting": meeting_id, "user": user.id})).first()
    meeting, participant = (row[0], row[1]) if row is not None else (None, None)
    if meeting is None or (participant is None and user.role != GlobalRole.admin):
        raise NotFound(Code.MEETING_NOT_FOUND, f"meeting {meeting_id} not found")
    return MeetingAccess(meeting=meeting, user=user, participant=participant)


# -------------------------------------------------------------------------------------------- meetings


# Meetings happen in these years; outside them a time is a typo (or an attack on date arithmetic).
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> None:
    for name, value in (("startsAt", starts_at), ("endsAt", ends_at)):
        if not EARLIEST <= value < LATEST:
            raise InvalidInput(
                Code.MEETING_TIME_OUT_OF_RANGE, f"{name} {value.isoformat()} is not between 1900 and 2199"
            )
    if ends_at <= starts_at:
        raise InvalidInput(Code.MEETING_ENDS_BEFORE_STARTS, "endsAt must be after startsAt")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(Code.MEETING_UNKNOWN_TIMEZONE, f"unknown timezone {timezone!r}") from exc


def meeting_facts(meeting: Meeting) -> dict[str, object]:
    """What the audit chain records of a meeting's details (checked by meeting.voting.verify)."""
    return {
        "title": meeting.title,
        "location": meeting.location,
        "startsAt": meeting.starts_at.astimezone(dt.UTC).isoformat(),
        "endsAt": meeting.ends_at.astimezone(dt.UTC).isoformat(),
        "timezone": meeting.timezone,
        "quorumFraction": meeting.quorum_fraction,
    }


def participant_facts(participant: Participant) -> dict[str, object]:
    """What the audit chain records of a participant: who, in what role, with a vote or not."""
    return {
        "participant": participant.id,
        "user": participant.user_id,
        "role": str(participant.role),
        "voting": participant.voting,
    }


async def chain_participant(
    session: AsyncSession, participant: Participant, action: str, by: int | None
) -> None:
    """Chain a participant's facts, with their name as it is now (the archive lists it; names change)."""
    user = await session.get(User, participant.user_id)
    name = user.display_name if user is not None else ""
    facts = {**participant_facts(participant), "name": name, "by": by}
    await audit.append(session, participant.meeting_id, action, facts)


async def chain_new_meeting(
    session: AsyncSession, meeting: Meeting, participants: list[Participant], by: int
) -> None:
    """The first entries of a meeting's chain: it was made, with these participants."""
    await session.flush()
    await audit.append(session, meeting.id, "meeting.create", {**meeting_facts(meeting), "by": by})
    for participant in participants:
        await chain_participant(session, participant, "participant.add", by)


def _require_creator(user: User) -> None:
    if user.role not in (GlobalRole.admin, GlobalRole.secretary):
        raise Forbidden(
            Code.MEETING_CREATE_FORBIDDEN, "only secretaries and administrators can create meetings"
        )


async def create_meeting(session: AsyncSession, user: User, data: MeetingCreate) -> MeetingAccess:
    """Create a draft meeting; its creator becomes its secretary."""
    _require_creator(user)
    _check_times(data.starts_at, data.ends_at, data.timezone)
    meeting = Meeting(
        title=data.title,
        description=data.description,
        location=data.location,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        online_allowed=data.online_allowed,
        quorum_fraction=data.quorum_fraction,
        speaking_limit_seconds=data.speaking_limit_seconds,
        created_by_id=user.id,
    )
    session.add(meeting)
    await session.flush()
    participant = Participant(meeting_id=meeting.id, user_id=user.id, role=ParticipantRole.secretary)
    session.add_all([participant, RoomSequence(meeting_id=meeting.id, last_seq=0)])
    await chain_new_meeting(session, meeting, [participant], user.id)
    await session.commit()
    return MeetingAccess(meeting=meeting, user=user, participant=participant)


async def list_meetings(
    session: AsyncSession,
    user: User,
    statuses: list[MeetingStatus] | None,
    starts_from: dt.datetime | None,
    starts_before: dt.datetime | None,
) -> list[tuple[Meeting, ParticipantRole | None]]:
    """Meetings the user takes part in (all for admins), soonest first, with the user's role."""
    query = (
        select(Meeting, Participant.role)
        .outerjoin(Participant, (Participant.meeting_id == Meeting.id) & (Participant.user_id == user.id))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if user.role != GlobalRole.admin:
        query = query.where(Participant.id.is_not(None))
    if statuses:
        query = query.where(Meeting.status.in_(statuses))
    if starts_from is not None:
        query = query.where(Meeting.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(Meeting.starts_at < starts_before)
    return [(meeting, role) for meeting, role in (await session.execute(query)).all()]


async def update_meeting(
    session: AsyncSession, broker: Broker, access: MeetingAccess, data: MeetingUpdate, *, outbox: Outbox
) -> Meeting:
    """Change a meeting's details (not in a final state); a new time or place of a scheduled meeting
    sends its participants an update."""
    access.require_manager()
    access.require_open_record()
    meeting = access.meeting
    if meeting.status == MeetingStatus.cancelled:
        raise InvalidState(
            Code.MEETING_NOT_EDITABLE, f"meeting {meeting.id} is {meeting.status}; it can no longer be edited"
        )
    starts_at = data.starts_at or meeting.starts_at
    ends_at = data.ends_at or meeting.ends_at
    _check_times(starts_at, ends_at, data.timezone or meeting.timezone)
    announced = (meeting.starts_at, meeting.ends_at, meeting.location)
    for field in ("title", "description", "location", "timezone", "online_allowed", "quorum_fraction"):
        value = getattr(data, field)
        if value is not None:
            setattr(meeting, field, value)
    if not isinstance(data.speaking_limit_seconds, msgspec.UnsetType):
        meeting.speaking_limit_seconds = data.speaking_limit_seconds
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    await audit.append(session, meeting.id, "meeting.edit", {**meeting_facts(meeting), "by": access.user.id})
    changed = announced != (meeting.starts_at, meeting.ends_at, meeting.location)
    await mail.meeting_edited(session, outbox, meeting, time_or_place_changed=changed)
    await broker.commit(
        session, meeting.id, [MeetingChanged(meeting=MeetingRead.from_row(meeting, my_role=None))]
    )
    return meeting


async def change_meeting_status(
    session: AsyncSession, broker: Broker, access: MeetingAccess, target: MeetingStatus, *, outbox: Outbox
) -> Meeting:
    """The one gate of the meeting lifecycle; scheduling invites the participants by mail, taking it back
    or calling it off cancels their invitations."""
    access.require_manager()
    meeting = access.meeting
    if target not in MEETING_TRANSITIONS[meeting.status]:
        raise InvalidState(
            Code.MEETING_INVALID_TRANSITION,
            f"meeting {meeting.id} is {meeting.status}; it cannot become {target}",
        )
    if target == MeetingStatus.archived and meeting.minutes_status != MinutesStatus.approved:
        raise InvalidState(
            Code.MEETING_MINUTES_NOT_APPROVED,
            f"the minutes of meeting {meeting.id} are {meeting.minutes_status}; approve them first",
        )
    before = meeting.status
    meeting.status = target
    # The actual times, for the minutes. Only these two transitions exist into live and ended, so each
    # happens once; the first stamp stays even if a clock is later corrected.
    if target == MeetingStatus.live and meeting.opened_at is None:
        meeting.opened_at = utcnow()
    elif target == MeetingStatus.ended and meeting.closed_at is None:
        meeting.closed_at = utcnow()
    events: list[MeetingChanged | AgendaChanged] = [
        MeetingChanged(meeting=MeetingRead.from_row(meeting, my_role=None))
    ]
    await audit.append(session, meeting.id, "meeting.status", {"status": str(target), "by": access.user.id})
    if target == MeetingStatus.ended:
        # An item still running when the meeting closes is finished with it.
        items = await _items(session, meeting.id)
        for item in items:
            if item.status == ItemStatus.active:
                item.status = ItemStatus.done
                await audit.append(session, meeting.id, "item.status", {"item": item.id, "status": "done"})
        events.append(AgendaChanged(items=[ItemRead.from_row(i) for i in items]))
    await mail.meeting_status_changed(session, outbox, meeting, before)
    await broker.commit(session, meeting.id, events)
    return meeting


async def duplicate_meeting(
    session: AsyncSession, access: MeetingAccess, data: MeetingDuplicate
) -> MeetingAccess:
    """A new draft with the same details, agenda (reset to pending) and participants (attendance reset);
    a new meeting, so only for those who may create meetings."""
    access.require_manager()
    _require_creator(access.user)
    source = access.meeting
    _check_times(data.starts_at, data.ends_at, source.timezone)
    copy = Meeting(
        title=data.title or source.title,
        description=source.description,
        location=source.location,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=source.timezone,
        online_allowed=source.online_allowed,
        quorum_fraction=source.quorum_fraction,
        speaking_limit_seconds=source.speaking_limit_seconds,
        created_by_id=access.user.id,
    )
    session.add(copy)
    await session.flush()
    session.add(RoomSequence(meeting_id=copy.id, last_seq=0))
    new_ids: dict[int, int] = {}
    # Parents first (parent_id None sorts first), so children can point at their copies.
    for item in sorted(await _items(session, source.id), key=lambda i: i.parent_id is not None):
        clone = AgendaItem(
            meeting_id=copy.id,
            parent_id=new_ids[item.parent_id] if item.parent_id else None,
            position=item.position,
            title=item.title,
            description=item.description,
            presenter=item.presenter,
            planned_minutes=item.planned_minutes,
            speaking_limit_seconds=item.speaking_limit_seconds,
        )
        session.add(clone)
        await session.flush()
        new_ids[item.id] = clone.id
    mine: Participant | None = None
    clones = []
    for participant in await _participants(session, source.id):
        clone_p = Participant(
            meeting_id=copy.id, user_id=participant.user_id, role=participant.role, voting=participant.voting
        )
        session.add(clone_p)
        clones.append(clone_p)
        if participant.user_id == access.user.id:
            mine = clone_p
    await chain_new_meeting(session, copy, clones, access.user.id)
    await session.commit()
    return MeetingAccess(meeting=copy, user=access.user, participant=mine)


# ---------------------------------------------------------------------------------------------- agenda


async def _items(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    rows = await session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id))
    return display_order(list(rows))


def display_order(items: list[AgendaItem]) -> list[AgendaItem]:
    """Top-level items by position, each followed by its sub-items by position."""
    children: dict[int, list[AgendaItem]] = {}
    for item in items:
        if item.parent_id is not None:
            children.setdefault(item.parent_id, []).append(item)
    ordered: list[AgendaItem] = []
    for parent in sorted((i for i in items if i.parent_id is None), key=lambda i: (i.position, i.id)):
        ordered.append(parent)
        ordered.extend(sorted(children.get(parent.id, []), key=lambda i: (i.position, i.id)))
    return ordered


async def list_items(session: AsyncSession, access: MeetingAccess) -> list[AgendaItem]:
    """The agenda in display order."""
    return await _items(session, access.meeting.id)


async def get_item(session: AsyncSession, access: MeetingAccess, item_id: int) -> AgendaItem:
    """An agenda item of the caller's meeting, or 404."""
    return await get_or_404(
        session, AgendaItem, item_id, access.meeting.id, Code.AGENDA_ITEM_NOT_FOUND, f"agenda item {item_id}"
    )


def _require_editable(meeting: Meeting) -> None:
    if meeting.status in (MeetingStatus.archived, MeetingStatus.cancelled, MeetingStatus.ended):
        raise InvalidState(
            Code.MEETING_NOT_EDITABLE,
            f"meeting {meeting.id} is {meeting.status}; its agenda can no longer change",
        )


async def _announce_agenda(session: AsyncSession, broker: Broker, meeting_id: int) -> list[AgendaItem]:
    items = await _items(session, meeting_id)
    await broker.commit(session, meeting_id, [AgendaChanged(items=[ItemRead.from_row(i) for i in items])])
    return items


async def create_item(
    session: AsyncSession, broker: Broker, access: MeetingAccess, data: ItemCreate
) -> AgendaItem:
    """Append an item at the end of the agenda, or of its parent's sub-items."""
    access.require_manager()
    _require_editable(access.meeting)
    if data.parent_id is not None:
        parent = await get_item(session, access, data.parent_id)
        if parent.parent_id is not None:
            raise InvalidInput(
                Code.AGENDA_ITEM_NESTED_TOO_DEEP,
                f"agenda item {parent.id} is a sub-item; sub-items cannot have sub-items",
            )
    last = await session.scalar(
        select(func.max(AgendaItem.position)).where(
            AgendaItem.meeting_id == access.meeting.id,
            AgendaItem.parent_id.is_(None)
            if data.parent_id is None
            else AgendaItem.parent_id == data.parent_id,
        )
    )
    item = AgendaItem(
        meeting_id=access.meeting.id,
        parent_id=data.parent_id,
        position=(last if last is not None else -1) + 1,
        title=data.title,
        description=data.description,
        presenter=data.presenter,
        planned_minutes=data.planned_minutes,
        speaking_limit_seconds=data.speaking_limit_seconds,
    )
    session.add(item)
    await session.flush()
    await _announce_agenda(session, broker, access.meeting.id)
    return item


async def update_item(
    session: AsyncSession, broker: Broker, access: MeetingAccess, item_id: int, data: ItemUpdate
) -> AgendaItem:
    """Edit an item's text."""
    access.require_manager()
    _require_editable(access.meeting)
    item = await get_item(session, access, item_id)
    for field in ("title", "description", "presenter", "planned_minutes"):
        value = getattr(data, field)
        if value is not None:
            setattr(item, field, value)
    if not isinstance(data.speaking_limit_seconds, msgspec.UnsetType):
        item.speaking_limit_seconds = data.speaking_limit_seconds
    await _announce_agenda(session, broker, access.meeting.id)
    return item


async def delete_item(session: AsyncSession, broker: Broker, access: MeetingAccess, item_id: int) -> None:
    """Remove an item and its sub-items; the active item cannot be removed."""
    access.require_manager()
    _require_editable(access.meeting)
    item = await get_item(session, access, item_id)
    children = list(await session.scalars(select(AgendaItem).where(AgendaItem.parent_id == item.id)))
    if any(i.status == ItemStatus.active for i in [item, *children]):
        raise InvalidState(
            Code.AGENDA_ITEM_ACTIVE, f"agenda item {item_id} is active; finish it before removing it"
        )
    await session.execute(
        delete(AgendaItem).where((AgendaItem.id == item.id) | (AgendaItem.parent_id == item.id))
    )
    session.expunge(item)
    for child in children:
        session.expunge(child)
    await _announce_agenda(session, broker, access.meeting.id)


async def reorder_items(
    session: AsyncSession, broker: Broker, access: MeetingAccess, order: AgendaOrder
) -> list[AgendaItem]:
    """Set the whole agenda's order and nesting at once; a list that does not match changes nothing."""
    access.require_manager()
    _require_editable(access.meeting)
    items = {i.id: i for i in await _items(session, access.meeting.id)}
    listed = [entry.id for entry in order.items] + [c for entry in order.items for c in entry.children]
    duplicates = sorted({i for i in listed if listed.count(i) > 1})
    missing = sorted(set(items) - set(listed))
    unknown = sorted(set(listed) - set(items))
    if duplicates or missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing items {missing}")
        if unknown:
            problems.append(f"unknown items {unknown}")
        if duplicates:
            problems.append(f"items listed twice {duplicates}")
        raise InvalidInput(
            Code.AGENDA_ITEM_INVALID_ORDER,
            "the order must list every agenda item exactly once: " + "; ".join(problems),
        )
    for position, entry in enumerate(order.items):
        items[entry.id].parent_id = None
        items[entry.id].position = position
        for child_position, child_id in enumerate(entry.children):
            items[child_id].parent_id = entry.id
            items[child_id].position = child_position
    await session.flush()
    return await _announce_agenda(session, broker, access.meeting.id)


async def change_item_status(
    session: AsyncSession, broker: Broker, access: MeetingAccess, item_id: int, target: ItemStatus
) -> AgendaItem:
    """The one gate of the item lifecycle; activating an item finishes the one that was active."""
    access.require_manager()
    meeting = access.meeting
    item = await get_item(session, access, item_id)
    if target not in ITEM_TRANSITIONS[item.status]:
        raise InvalidState(
            Code.AGENDA_ITEM_INVALID_TRANSITION,
            f"agenda item {item_id} is {item.status}; it cannot become {target}",
        )
    if target == ItemStatus.active:
        if meeting.status != MeetingStatus.live:
            raise InvalidState(
                Code.MEETING_NOT_LIVE,
                f"meeting {meeting.id} is {meeting.status}; start it before activating items",
            )
        for other in await _items(session, meeting.id):
            if other.status == ItemStatus.active:
                other.status = ItemStatus.done
                await audit.append(session, meeting.id, "item.status", {"item": other.id, "status": "done"})
    item.status = target
    await session.flush()
    await audit.append(
        session, meeting.id, "item.status", {"item": item.id, "status": str(target), "by": access.user.id}
    )
    await _announce_agenda(session, broker, meeting.id)
    return item


# -------------------------------------------------------------------------------- participants, quorum


async def _participants(session: AsyncSession, meeting_id: int) -> list[Participant]:
    rows = await session.scalars(
        select(Participant).where(Participant.meeting_id == meeting_id).order_by(Participant.id)
    )
    return list(rows)


async def list_participants(session: AsyncSession, access: MeetingAccess) -> list[Participant]:
    """Everyone invited to the meeting."""
    return await _participants(session, access.meeting.id)


async def _participant(session: AsyncSession, access: MeetingAccess, participant_id: int) -> Participant:
    return await get_or_404(
        session,
        Participant,
        participant_id,
        access.meeting.id,
        Code.PARTICIPANT_NOT_FOUND,
        f"participant {participant_id}",
    )


def _voting_for(role: ParticipantRole, voting: bool | None) -> bool:
    if role == ParticipantRole.guest and voting:
        raise InvalidInput(Code.PARTICIPANT_GUEST_CANNOT_VOTE, "guests cannot vote")
    if voting is None:
        return role == ParticipantRole.delegate
    return voting


async def add_participant(
    session: AsyncSession, broker: Broker, access: MeetingAccess, data: ParticipantCreate, *, outbox: Outbox
) -> Participant:
    """Invite a user with a role; once the meeting is scheduled, they get their invitation by mail."""
    access.require_manager()
    _require_editable(access.meeting)
    user = await session.get(User, data.user_id)
    if user is None:
        raise InvalidInput(Code.PARTICIPANT_UNKNOWN_USER, f"user {data.user_id} does not exist")
    meeting_id = access.meeting.id
    participant = Participant(
        meeting_id=meeting_id, user_id=user.id, role=data.role, voting=_voting_for(data.role, data.voting)
    )
    session.add(participant)
    try:
        await session.flush()
    except IntegrityError as exc:  # the unique (meeting, user) constraint decides, also under races
        await session.rollback()
        raise Conflict(
            Code.PARTICIPANT_ALREADY_ADDED, f"user {data.user_id} already takes part in meeting {meeting_id}"
        ) from exc
    await session.refresh(participant, ["user"])
    await chain_participant(session, participant, "participant.add", access.user.id)
    await mail.participant_changed(session, outbox, access.meeting, participant, added=True)
    await broker.commit(
        session, meeting_id, [ParticipantChanged(participant=ParticipantRead.from_row(participant))]
    )
    return participant


def participant_change_refusal(
    *, by_admin: bool, by_chair: bool, own: bool, live: bool
) -> tuple[Code, str] | None:
    """Who may change a participant's role or voting right (a manager asks; the rest is decided here).

    Nobody but an administrator changes their own standing (a secretary cannot make themselves chair
    or give themselves a vote). Before the session the chair and the secretary arrange roles; once it
    is live they are the chair's to change, as the chair runs the session (and an administrator's).
    """
    if by_admin:
        return None
    if own:
        return Code.PARTICIPANT_CANNOT_CHANGE_SELF, "you cannot change your own role or voting right"
    if live and not by_chair:
        return (
            Code.PARTICIPANT_CHAIR_DECIDES,
            "while the meeting is live, only its chair changes roles and votes",
        )
    return None


async def update_participant(
    session: AsyncSession, broker: Broker, access: MeetingAccess, participant_id: int, data: ParticipantUpdate
) -> Participant:
    """Change a participant's role or voting right; it applies to their very next request."""
    access.require_manager()
    _require_editable(access.meeting)
    participant = await _participant(session, access, participant_id)
    refusal = participant_change_refusal(
        by_admin=access.is_admin,
        by_chair=access.is_chair,
        own=participant.user_id == access.user.id,
        live=access.meeting.status == MeetingStatus.live,
    )
    if refusal is not None:
        raise Forbidden(*refusal)
    role = data.role or participant.role
    voting = data.voting
    if voting is None and role == participant.role:
        voting = participant.voting  # unchanged role keeps its voting right; a new role takes its default
    participant.voting = _voting_for(role, voting)
    participant.role = role
    await chain_participant(session, participant, "participant.change", access.user.id)
    await broker.commit(
        session, access.meeting.id, [ParticipantChanged(participant=ParticipantRead.from_row(participant))]
    )
    return participant


async def remove_participant(
    session: AsyncSession, broker: Broker, access: MeetingAccess, participant_id: int, *, outbox: Outbox
) -> Participant:
    """Remove someone from the meeting (not once it has ended: attendance is part of the record); their
    calendar is told if the meeting was announced."""
    access.require_manager()
    _require_editable(access.meeting)
    participant = await _participant(session, access, participant_id)
    if participant.user_id == access.user.id and not access.is_admin:
        raise Conflict(
            Code.PARTICIPANT_CANNOT_REMOVE_SELF,
            "you cannot remove yourself from the meeting; ask another chair or secretary",
        )
    await mail.participant_changed(session, outbox, access.meeting, participant, added=False)
    await session.delete(participant)
    await audit.append(
        session,
        access.meeting.id,
        "participant.remove",
        {"participant": participant.id, "by": access.user.id},
    )
    await broker.commit(
        session,
        access.meeting.id,
        [ParticipantRemoved(participant_id=participant.id, user_id=participant.user_id)],
    )
    return participant


def compute_quorum(present: int, voting_members: int, fraction: float) -> Quorum:
    """Quorum is met when at least `fraction` of the voting members are present (and there are some)."""
    # Round up, tolerating float noise: one half of 25 members needs 13 present.
    required = max(1, math.ceil(voting_members * fraction - 1e-9))
    return Quorum(
        present=present,
        voting_members=voting_members,
        required=required,
        fraction=fraction,
        met=voting_members > 0 and present >= required,
    )


def quorum_of(meeting: Meeting, participants: list[Participant]) -> Quorum:
    """The quorum of a meeting given its participants."""
    voting = [p for p in participants if p.voting]
    present = sum(1 for p in voting if p.attendance in PRESENT)
    return compute_quorum(present, len(voting), meeting.quorum_fraction)


async def set_attendance(
    session: AsyncSession,
    broker: Broker,
    access: MeetingAccess,
    participant_id: int | None,
    data: AttendanceChange,
) -> tuple[Participant, Quorum]:
    """Roll call by the chair or secretary, or (participant_id None) self check-in by a participant."""
    meeting = access.meeting
    if participant_id is None:
        if access.participant is None:
            raise Forbidden(
                Code.MEETING_NOT_PARTICIPANT, f"you are not a participant of meeting {meeting.id}"
            )
        if data.attendance not in (Attendance.in_room, Attendance.online, Attendance.left):
            raise InvalidInput(
                Code.PARTICIPANT_SELF_CHECK_IN_ONLY,
                "you can check yourself in (in_room, online) or out (left), nothing else",
            )
        participant = access.participant
    else:
        access.require_manager()
        participant = await _participant(session, access, participant_id)
    if meeting.status not in (MeetingStatus.scheduled, MeetingStatus.live):
        raise InvalidState(
            Code.MEETING_ATTENDANCE_CLOSED,
            f"meeting {meeting.id} is {meeting.status}; attendance is taken when scheduled or live",
        )
    if data.attendance == Attendance.online and not meeting.online_allowed:
        raise InvalidInput(
            Code.MEETING_ONLINE_NOT_ALLOWED, f"meeting {meeting.id} does not allow online attendance"
        )
    participant.attendance = data.attendance
    participant.absence_reason = data.reason if data.attendance == Attendance.absent else ""
    participant.attendance_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        meeting.id,
        "attendance",
        {
            "participant": participant.id,
            "attendance": str(participant.attendance),
            "reason": participant.absence_reason,
            "by": access.user.id,
        },
    )
    quorum = quorum_of(meeting, await _participants(session, meeting.id))
    await broker.commit(
        session,
        meeting.id,
        [AttendanceChanged(participant=ParticipantRead.from_row(participant), quorum=quorum)],
    )
    return participant, quorum


async def attendance(session: AsyncSession, access: MeetingAccess) -> tuple[list[Participant], Quorum]:
    """Everyone's attendance and the quorum."""
    participants = await _participants(session, access.meeting.id)
    return participants, quorum_of(access.meeting, participants)
