"""Room rules with the database: presenter, annotations, speaker queue, snapshot and replay.

Every change locks the meeting's sequence row first, so concurrent changes on any process apply one
after the other, then commits and announces through `Broker.commit` (commit, then announce).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import delete, func, select, update

from meeting.agenda import ItemStatus, MeetingAccess, Participant, ParticipantRole
from meeting.agenda.models import AgendaItem
from meeting.agenda.schemas import ItemRead
from meeting.broker import RoomEvent, RoomSequence
from meeting.db import utcnow
from meeting.docs import document_progress, find_version
from meeting.errors import Code, Forbidden, InvalidInput, NotFound
from meeting.rooms import state
from meeting.rooms.models import (
    Annotation,
    AnnotationKind,
    RoomPresenter,
    SpeakerEntry,
    SpeakerStatus,
    Visibility,
)
from meeting.rooms.schemas import (
    AnnotationAdded,
    AnnotationDeleted,
    AnnotationList,
    AnnotationPage,
    AnnotationRead,
    AnnotationUpdated,
    FloorChanged,
    FloorRead,
    PageTurned,
    PresenceChanged,
    PresenceRead,
    PresenterChanged,
    PresenterRead,
    Snapshot,
    SpeakerRead,
    annotation_payload,
)
from meeting.users.models import User
from meeting.voting import current_poll

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.broker import Broker, Event

    # One change of the queue, given (queue, caller, now): the new queue and the user it concerns.
    # The fourth value is the time a speech granted now gets (the item's or the meeting's; None: untimed).
    FloorChange = Callable[[state.Floor, int, float, int | None], tuple[state.Floor, int | None]]
    from meeting.rooms.schemas import (
        AnnotationAdd,
        AnnotationDelete,
        AnnotationUpdate,
        PageTurn,
        PresenterSet,
        SpeakerEnd,
        SpeakerExtend,
        SpeakerGrant,
        SpeakerLimit,
        SpeakerReorder,
        SpeakerRequest,
        SpeakerWithdraw,
    )


def user_channel(broker: Broker, meeting_id: int, user_id: int) -> str:
    """The channel of one user's sockets in one meeting: private annotations reach all their devices."""
    return f"{broker.meeting_channel(meeting_id)}.user.{user_id}"


_encoder = msgspec.json.Encoder()


async def _lock(session: AsyncSession, meeting_id: int) -> None:
    """Take the meeting's write lock before reading what will be changed.

    A no-op UPDATE of the sequence row: it locks the row on PostgreSQL and takes SQLite's write lock,
    so a concurrent change of the same room waits here instead of reading stale state.
    """
    await session.execute(
        update(RoomSequence)
        .where(RoomSequence.meeting_id == meeting_id)
        .values(last_seq=RoomSequence.last_seq)
    )


def _require_participant(access: MeetingAccess) -> None:
    """Room actions need a seat in the meeting; an admin who is not invited only watches."""
    if access.participant is None:
        raise Forbidden(
            Code.MEETING_NOT_PARTICIPANT, f"you are not a participant of meeting {access.meeting.id}"
        )


def _require_member(access: MeetingAccess, doing: str) -> None:
    """Guests read, and may keep private notes; what the room sees or hears is for its members."""
    _require_participant(access)
    if access.role == ParticipantRole.guest:
        raise Forbidden(Code.PARTICIPANT_GUEST_READS_ONLY, f"guests cannot {doing}")


# ------------------------------------------------------------------------------------------ references


async def _check_page(
    session: AsyncSession, meeting_id: int, document_id: int, version_id: int, page: int, *, shown: bool
) -> None:
    """A page the room may refer to: of a version of a document of this meeting, within its pages.

    `shown`: the page is to be put on every tablet, so the document must still be listed (a removed
    document's pages are no longer served). An annotation may still go to a removed document's version:
    it stays in the record, and a retry of one drawn just before the removal is not lost.
    """
    version = await find_version(session, meeting_id, document_id, version_id)
    if version is None or (shown and version.deleted):
        # Another meeting's document looks the same as none at all, as over HTTP.
        raise InvalidInput(
            Code.ROOM_UNKNOWN_DOCUMENT,
            f"version {version_id} of document {document_id} is not in meeting {meeting_id}",
        )
    if page > version.page_count:
        raise InvalidInput(
            Code.PAGE_OUT_OF_RANGE, f"page {page} is out of range (document has {version.page_count} pages)"
        )


# ------------------------------------------------------------------------------------------ presenter


async def load_presenter(session: AsyncSession, meeting_id: int) -> state.Presenter:
    """The stored presenter state (nobody, nothing shown, for a new room)."""
    return _presenter_of(await session.get(RoomPresenter, meeting_id))


def _presenter_of(row: RoomPresenter | None) -> state.Presenter:
    if row is None:
        return state.Presenter()
    return state.Presenter(
        user_id=row.user_id,
        document_id=row.document_id,
        version_id=row.version_id,
        page=row.page,
        viewport=state.Viewport(row.viewport_x, row.viewport_y, row.zoom),
    )


def _store_presenter(
    session: AsyncSession, meeting_id: int, row: RoomPresenter | None, presenter: state.Presenter
) -> None:
    """Write the presenter state over the row it was read from (None: the room's first)."""
    if row is None:
        row = RoomPresenter(meeting_id=meeting_id)
        session.add(row)
    row.user_id = presenter.user_id
    row.document_id = presenter.document_id
    row.version_id = presenter.version_id
    row.page = presenter.page
    row.viewport_x, row.viewport_y, row.zoom = (
        presenter.viewport.x,
        presenter.viewport.y,
        presenter.viewport.zoom,
    )
    row.updated_at = utcnow()


async def turn_page(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: PageTurn
) -> state.Presenter:
    """Move the room to a page; only the presenter may (or the chair while nobody presents)."""
    meeting_id = access.meeting.id
    await _lock(session, meeting_id)
    # The row is held until it is written: the session keeps rows only while they are referenced, so
    # reading it again would cost a second query on the room's hottest message.
    row = await session.get(RoomPresenter, meeting_id)
    moved = state.turn_page(
        _presenter_of(row),
        actor_id=access.user.id,
        actor_is_chair=access.is_chair,
        document_id=msg.document_id,
        version_id=msg.version_id,
        page=msg.page,
        viewport=state.Viewport(msg.viewport.x, msg.viewport.y, msg.viewport.zoom),
    )
    # Who may move the room is answered first; then whether there is such a page to move it to.
    await _check_page(session, meeting_id, msg.document_id, msg.version_id, msg.page, shown=True)
    _store_presenter(session, meeting_id, row, moved)
    await broker.commit(session, meeting_id, [PageTurned(presenter=PresenterRead.from_row(moved))])
    return moved


async def set_presenter(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: PresenterSet
) -> state.Presenter:
    """The chair chooses who presents; they must take part in the meeting."""
    meeting_id = access.meeting.id
    await _lock(session, meeting_id)
    if msg.user_id is not None:
        seat = await session.scalar(
            select(Participant.id).where(
                Participant.meeting_id == meeting_id, Participant.user_id == msg.user_id
            )
        )
        if seat is None:
            raise InvalidInput(
                Code.PRESENTER_NOT_PARTICIPANT,
                f"user {msg.user_id} is not a participant of meeting {meeting_id}",
            )
    row = await session.get(RoomPresenter, meeting_id)
    changed = state.set_presenter(_presenter_of(row), actor_is_chair=access.is_chair, user_id=msg.user_id)
    _store_presenter(session, meeting_id, row, changed)
    await broker.commit(session, meeting_id, [PresenterChanged(presenter=PresenterRead.from_row(changed))])
    return changed


# ---------------------------------------------------------------------------------------- annotations


def _checked_payload(kind: AnnotationKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as it is stored: checked against its kind's shape, or refused naming the field."""
    if len(_encoder.encode(payload)) > 32 * 1024:
        raise InvalidInput(Code.ANNOTATION_TOO_LARGE, "the annotation's payload is over 32 KiB")
    try:
        typed = annotation_payload(kind, payload)
    except msgspec.ValidationError as exc:
        # The path as the client sent it: the payload is a field of the message.
        detail = str(exc).replace("`$", "`$.payload", 1)
        raise InvalidInput(Code.REQUEST_INVALID, f"not a valid {kind} annotation: {detail}") from None
    stored: dict[str, Any] = msgspec.to_builtins(typed)
    return stored


def _may_see(row: Annotation, user_id: int) -> bool:
    return row.visibility == Visibility.shared or row.author_id == user_id


async def _publish_annotation(
    session: AsyncSession, broker: Broker, meeting_id: int, event: Event, private_to: int | None
) -> None:
    """Shared changes are sequenced and broadcast; private ones go to the author's own sockets only."""
    if private_to is None:
        await broker.commit(session, meeting_id, [event])
        return
    await session.commit()
    # Never on the meeting channel and never in the shared log: only the author may read it.
    broker.channels.publish(_encoder.encode(event), channels=[user_channel(broker, meeting_id, private_to)])


async def add_annotation(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: AnnotationAdd
) -> AnnotationRead:
    """Save an annotation; the same client id again returns the stored one unchanged (a retry)."""
    if msg.visibility == Visibility.shared:
        _require_member(access, "share annotations")
    else:
        _require_participant(access)
    meeting_id = access.meeting.id
    payload = _checked_payload(msg.kind, msg.payload)
    # Lock first: the same annotation may arrive twice at once (a reconnecting tablet's old and new
    # socket); the second must find the first's row, not collide with it.
    await _lock(session, meeting_id)
    existing = await session.get(Annotation, msg.id)
    if existing is not None:
        if existing.author_id != access.user.id or existing.meeting_id != meeting_id:
            raise InvalidInput(
                Code.ANNOTATION_ID_TAKEN, f"annotation id {msg.id!r} is taken; generate a new one"
            )
        return AnnotationRead.from_row(existing)
    # After the retry check: an annotation stored before its document was removed is still acked.
    await _check_page(session, meeting_id, msg.document_id, msg.version_id, msg.page, shown=False)
    now = utcnow()
    row = Annotation(
        id=msg.id,
        meeting_id=meeting_id,
        document_id=msg.document_id,
        version_id=msg.version_id,
        page=msg.page,
        kind=msg.kind,
        visibility=msg.visibility,
        author_id=access.user.id,
        payload=payload,
        deleted=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    read = AnnotationRead.from_row(row)
    private_to = access.user.id if row.visibility == Visibility.private else None
    await _publish_annotation(session, broker, meeting_id, AnnotationAdded(annotation=read), private_to)
    return read


async def _editable(session: AsyncSession, access: MeetingAccess, annotation_id: str) -> Annotation:
    row = await session.get(Annotation, annotation_id)
    if row is None or row.meeting_id != access.meeting.id or not _may_see(row, access.user.id):
        raise NotFound(
            Code.ANNOTATION_NOT_FOUND,
            f"annotation {annotation_id!r} not found in meeting {access.meeting.id}",
        )
    if row.author_id != access.user.id and not (row.visibility == Visibility.shared and access.is_chair):
        raise Forbidden(
            Code.ANNOTATION_NOT_YOURS, f"annotation {annotation_id!r} belongs to user {row.author_id}"
        )
    return row


async def update_annotation(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: AnnotationUpdate
) -> AnnotationRead:
    """Change an annotation's content or visibility."""
    meeting_id = access.meeting.id
    await _lock(session, meeting_id)
    row = await _editable(session, access, msg.id)
    if row.deleted:
        raise NotFound(Code.ANNOTATION_NOT_FOUND, f"annotation {msg.id!r} was deleted")
    if msg.visibility == Visibility.shared:
        _require_member(access, "share annotations")
    if msg.visibility is not None and msg.visibility != row.visibility and row.author_id != access.user.id:
        raise Forbidden(Code.ANNOTATION_AUTHOR_ONLY, "only the author changes who sees an annotation")
    payload = _checked_payload(row.kind, msg.payload) if msg.payload is not None else None
    was_shared = row.visibility == Visibility.shared
    if payload is not None:
        row.payload = payload
    if msg.visibility is not None:
        row.visibility = msg.visibility
    row.updated_at = utcnow()
    read = AnnotationRead.from_row(row)
    if row.visibility == Visibility.shared:
        await _publish_annotation(session, broker, meeting_id, AnnotationUpdated(annotation=read), None)
    elif was_shared:
        # Made private: everyone else must drop it, without learning its new content.
        hidden = msgspec.structs.replace(read, payload={}, deleted=True)
        await broker.commit(session, meeting_id, [AnnotationDeleted(annotation=hidden)])
        broker.channels.publish(
            _encoder.encode(AnnotationUpdated(annotation=read)),
            channels=[user_channel(broker, meeting_id, row.author_id)],
        )
    else:
        await _publish_annotation(
            session, broker, meeting_id, AnnotationUpdated(annotation=read), row.author_id
        )
    return read


async def delete_annotation(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: AnnotationDelete
) -> AnnotationRead:
    """Delete an annotation; deleting it again is a no-op (a retry)."""
    meeting_id = access.meeting.id
    await _lock(session, meeting_id)
    row = await _editable(session, access, msg.id)
    if row.deleted:
        return AnnotationRead.from_row(row)
    row.deleted = True
    row.updated_at = utcnow()
    read = AnnotationRead.from_row(row)
    private_to = row.author_id if row.visibility == Visibility.private else None
    await _publish_annotation(session, broker, meeting_id, AnnotationDeleted(annotation=read), private_to)
    return read


async def list_annotations(
    session: AsyncSession, access: MeetingAccess, document_id: int, version_id: int
) -> AnnotationList:
    """The annotations of a document version the caller may see (shared ones and their own), by page;
    404 for a version that is not in this meeting (rather than an empty list that hides the mistake)."""
    if await find_version(session, access.meeting.id, document_id, version_id) is None:
        raise NotFound(
            Code.DOCUMENT_VERSION_NOT_FOUND,
            f"version {version_id} of document {document_id} not found in meeting {access.meeting.id}",
        )
    rows = await session.scalars(
        select(Annotation)
        .where(
            Annotation.meeting_id == access.meeting.id,
            Annotation.document_id == document_id,
            Annotation.version_id == version_id,
            Annotation.deleted.is_(False),
            (Annotation.visibility == Visibility.shared) | (Annotation.author_id == access.user.id),
        )
        .order_by(Annotation.page, Annotation.created_at, Annotation.id)
    )
    pages: dict[int, list[AnnotationRead]] = {}
    for row in rows:
        pages.setdefault(row.page, []).append(AnnotationRead.from_row(row))
    return AnnotationList(
        document_id=document_id,
        version_id=version_id,
        pages=[AnnotationPage(page=page, annotations=items) for page, items in pages.items()],
    )


# ----------------------------------------------------------------------------------------- speakers


def _ts(value: dt.datetime) -> float:
    return value.timestamp()


def _dt(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


async def _floor_rows(session: AsyncSession, meeting_id: int) -> list[SpeakerEntry]:
    rows = await session.scalars(
        select(SpeakerEntry)
        .where(
            SpeakerEntry.meeting_id == meeting_id,
            SpeakerEntry.status.in_([SpeakerStatus.waiting, SpeakerStatus.speaking]),
        )
        .order_by(SpeakerEntry.position, SpeakerEntry.id)
    )
    return list(rows)


def _floor_of(rows: Sequence[SpeakerEntry], item_id: int | None = None) -> state.Floor:
    """The queue as the rules see it, showing `item_id`'s (the active item's)."""
    waiting = tuple(
        state.Request(r.user_id, _ts(r.requested_at), r.item_id)
        for r in rows
        if r.status == SpeakerStatus.waiting
    )
    speaking = next(
        (
            state.Speech(r.user_id, _ts(r.started_at or r.requested_at), r.item_id, r.limit_seconds)
            for r in rows
            if r.status == SpeakerStatus.speaking
        ),
        None,
    )
    return state.Floor(waiting=waiting, speaking=speaking, item_id=item_id)


async def load_floor(session: AsyncSession, meeting_id: int) -> state.Floor:
    """The stored speaker queues, showing the active item's."""
    item = await _active_item(session, meeting_id)
    return _floor_of(await _floor_rows(session, meeting_id), item.id if item else None)


async def floor_read(session: AsyncSession, floor: state.Floor, now: float) -> FloorRead:
    """The wire shape of the queues, with names and the speaker's elapsed time and limit."""
    ids = [e.user_id for e in floor.waiting] + ([floor.speaking.user_id] if floor.speaking else [])
    names: dict[int, str] = {}
    if ids:
        result = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        names = {user_id: name for user_id, name in result}
    speaking = None
    if floor.speaking is not None:
        speech = floor.speaking
        speaking = SpeakerRead(
            user_id=speech.user_id,
            display_name=names.get(speech.user_id, ""),
            requested_at=_dt(speech.started_at),
            started_at=_dt(speech.started_at),
            item_id=speech.item_id,
        )
    return FloorRead(
        speaking=speaking,
        elapsed_seconds=round(state.elapsed(floor.speaking, now), 1),
        as_of=_dt(now),
        waiting=[
            SpeakerRead(
                user_id=e.user_id,
                display_name=names.get(e.user_id, ""),
                requested_at=_dt(e.requested_at),
                item_id=e.item_id,
            )
            for e in floor.waiting
        ],
        item_id=floor.item_id,
        limit_seconds=floor.speaking.limit if floor.speaking is not None else None,
    )


def _store_floor(
    session: AsyncSession,
    meeting_id: int,
    rows: list[SpeakerEntry],
    floor: state.Floor,
    now: float,
    gone: SpeakerStatus,
) -> None:
    """Write the new queues over the old rows: new requests inserted, the rest updated.

    A user may wait on several items at once, so a waiting row is known by (user, item).
    """
    waiting_rows = {(r.user_id, r.item_id): r for r in rows if r.status == SpeakerStatus.waiting}
    speaking_row = next((r for r in rows if r.status == SpeakerStatus.speaking), None)
    kept: set[int] = set()  # row ids still waiting or speaking
    for position, entry in enumerate(floor.waiting):
        row = waiting_rows.get((entry.user_id, entry.item_id))
        if row is None:
            row = SpeakerEntry(
                meeting_id=meeting_id,
                user_id=entry.user_id,
                item_id=entry.item_id,
                requested_at=_dt(entry.requested_at),
            )
            session.add(row)
        row.status, row.position = SpeakerStatus.waiting, position
        if row.id is not None:
            kept.add(row.id)
    speech = floor.speaking
    if speech is not None:
        # The same speech goes on, or a new one begins (possibly the same user's, from another item).
        started = speaking_row.started_at if speaking_row is not None else None
        if speaking_row is not None and started is not None and _ts(started) == speech.started_at:
            row = speaking_row  # its time may have changed
        else:
            row = waiting_rows[(speech.user_id, speech.item_id)]
            row.status, row.started_at = SpeakerStatus.speaking, _dt(speech.started_at)
        row.limit_seconds = speech.limit
        kept.add(row.id)
    for row in rows:
        if row.id not in kept:
            row.status = SpeakerStatus.done if row.status == SpeakerStatus.speaking else gone
            row.ended_at = _dt(now)


async def _active_item(session: AsyncSession, meeting_id: int) -> AgendaItem | None:
    return await session.scalar(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.status == ItemStatus.active)
    )


async def _change_floor(
    session: AsyncSession, broker: Broker, access: MeetingAccess, action: str, change: FloorChange
) -> FloorRead:
    """Apply one speaker-queue change under the meeting's lock, store it and announce the queues.

    The active item is read under the lock: a request is filed under it (where the minutes list what
    was said), and the chair grants, reorders and times speeches from its queue.
    """
    meeting_id = access.meeting.id
    await _lock(session, meeting_id)
    rows = await _floor_rows(session, meeting_id)
    item = await _active_item(session, meeting_id)
    now = utcnow().timestamp()
    # The time a speech granted now gets, unless the chair names another.
    limit = state.speaking_limit(
        access.meeting.speaking_limit_seconds, item.speaking_limit_seconds if item else None, None
    )
    floor, subject = change(_floor_of(rows, item.id if item else None), access.user.id, now, limit)
    _store_floor(session, meeting_id, rows, floor, now, SpeakerStatus.withdrawn)
    read = await floor_read(session, floor, now)
    await broker.commit(session, meeting_id, [FloorChanged(action=action, user_id=subject, speakers=read)])
    return read


async def request_to_speak(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerRequest
) -> FloorRead:
    """A member of the meeting (not a guest) asks for the floor and joins the end of the queue."""
    _require_member(access, "ask for the floor")
    return await _change_floor(
        session,
        broker,
        access,
        "request",
        lambda floor, me, now, _limit: (state.request_floor(floor, me, now), me),
    )


async def withdraw_request(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerWithdraw
) -> FloorRead:
    """A participant leaves the queue."""
    return await _change_floor(
        session,
        broker,
        access,
        "withdraw",
        lambda floor, me, now, _limit: (
            state.withdraw_floor(floor, me),
            me,
        ),
    )


async def grant_floor(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerGrant
) -> FloorRead:
    """The chair gives the floor to a waiting participant (the first in the queue without `userId`)."""
    access.require_chair()

    def grant(floor: state.Floor, me: int, now: float, limit: int | None) -> tuple[state.Floor, int | None]:
        limit = state.speaking_limit(None, limit, msg.limit_seconds)
        floor, _ = state.grant_floor(floor, msg.user_id, now, limit)
        return floor, floor.speaking.user_id if floor.speaking else None

    return await _change_floor(session, broker, access, "grant", grant)


async def end_speech(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerEnd
) -> FloorRead:
    """The chair or the speaker ends the current speech."""

    def end(floor: state.Floor, me: int, now: float, _limit: int | None) -> tuple[state.Floor, int | None]:
        if not access.is_chair and (floor.speaking is None or floor.speaking.user_id != me):
            raise Forbidden(Code.SPEAKER_END_FORBIDDEN, "only the chair or the speaker can end the speech")
        floor, speech = state.end_speech(floor)
        return floor, speech.user_id

    return await _change_floor(session, broker, access, "end", end)


async def reorder_speakers(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerReorder
) -> FloorRead:
    """The chair sets the order of the waiting participants."""
    access.require_chair()
    return await _change_floor(
        session,
        broker,
        access,
        "reorder",
        lambda floor, me, now, _limit: (state.reorder_floor(floor, msg.user_ids), None),
    )


def _speaker(floor: state.Floor) -> int | None:
    return floor.speaking.user_id if floor.speaking is not None else None


async def extend_speech(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerExtend
) -> FloorRead:
    """The chair gives the current speaker `seconds` more to finish ("+1 phút")."""
    access.require_chair()

    def extend(floor: state.Floor, me: int, now: float, _limit: int | None) -> tuple[state.Floor, int | None]:
        floor = state.extend_speech(floor, msg.seconds, now)
        return floor, _speaker(floor)

    return await _change_floor(session, broker, access, "extend", extend)


async def set_speech_limit(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: SpeakerLimit
) -> FloorRead:
    """The chair sets the current speech's time while it runs (null: untimed)."""
    access.require_chair()

    def limit(floor: state.Floor, me: int, now: float, _limit: int | None) -> tuple[state.Floor, int | None]:
        floor = state.set_speech_limit(floor, msg.limit_seconds)
        return floor, _speaker(floor)

    return await _change_floor(session, broker, access, "limit", limit)


@dataclass(frozen=True)
class Speech:
    """One speech as the record keeps it: who, under which agenda item, from when to when."""

    user_id: int
    display_name: str
    item_id: int | None
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None while still speaking
    limit_seconds: int | None = None  # the time it was given (None: untimed)

    @property
    def overrun_seconds(self) -> float:
        """Seconds spoken past the limit (0 within it, untimed, or still speaking)."""
        if self.ended_at is None:
            return 0.0
        return state.overrun(self.limit_seconds, (self.ended_at - self.started_at).total_seconds())


async def speeches(session: AsyncSession, meeting_id: int) -> list[Speech]:
    """Every speech of a meeting in the order given, for the minutes; requests never granted are left out."""
    rows = await session.execute(
        select(SpeakerEntry, User.display_name)
        .join(User, User.id == SpeakerEntry.user_id)
        .where(SpeakerEntry.meeting_id == meeting_id, SpeakerEntry.started_at.is_not(None))
        .order_by(SpeakerEntry.started_at, SpeakerEntry.id)
    )
    return [
        Speech(entry.user_id, name, entry.item_id, entry.started_at, entry.ended_at, entry.limit_seconds)
        for entry, name in rows.all()
        if entry.started_at is not None  # filtered above; the check tells the type checker
    ]


# ------------------------------------------------------------------------------------- presence, snapshot


async def announce_presence(
    session: AsyncSession, broker: Broker, meeting_id: int, user_id: int, connected: bool
) -> None:
    """A user's first socket opened or last one closed: sequenced, so replays include it."""
    await broker.commit(session, meeting_id, [PresenceChanged(user_id=user_id, connected=connected)])


async def build_snapshot(
    session: AsyncSession, access: MeetingAccess, connected: Collection[int]
) -> Snapshot:
    """The room's whole state for one user."""
    meeting_id = access.meeting.id
    # Seq first: an event committed meanwhile is replayed on top; every event sets state idempotently.
    seq = await current_seq(session, meeting_id)
    participants = (
        await session.scalars(
            select(Participant).where(Participant.meeting_id == meeting_id).order_by(Participant.id)
        )
    ).all()
    active = await _active_item(session, meeting_id)
    floor = await load_floor(session, meeting_id)
    return Snapshot(
        seq=seq,
        meeting_id=meeting_id,
        meeting_status=access.meeting.status,
        you=access.user.id,
        your_role=access.role,
        presence=[PresenceRead.from_row(p, connected=p.user_id in connected) for p in participants],
        active_item=ItemRead.from_row(active) if active is not None else None,
        presenter=PresenterRead.from_row(await load_presenter(session, meeting_id)),
        speakers=await floor_read(session, floor, utcnow().timestamp()),
        poll=await current_poll(session, meeting_id),
        documents=await document_progress(session, meeting_id),
    )


# ---------------------------------------------------------------------------------------------- replay


async def current_seq(session: AsyncSession, meeting_id: int) -> int:
    """The meeting's last handed-out event sequence number (0 before the first event)."""
    return (
        await session.scalar(select(RoomSequence.last_seq).where(RoomSequence.meeting_id == meeting_id)) or 0
    )


async def events_after(
    session: AsyncSession, meeting_id: int, last_seq: int, limit: int
) -> list[bytes] | None:
    """The logged events after `last_seq`, in order; None when some are no longer kept (send a snapshot)."""
    current = await current_seq(session, meeting_id)
    if last_seq > current:
        return None  # the client saw a different history (a restored database): start over
    if last_seq == current:
        return []
    oldest = await session.scalar(select(func.min(RoomEvent.seq)).where(RoomEvent.meeting_id == meeting_id))
    if oldest is None or oldest > last_seq + 1 or current - last_seq > limit:
        return None
    rows = await session.scalars(
        select(RoomEvent.payload)
        .where(RoomEvent.meeting_id == meeting_id, RoomEvent.seq > last_seq)
        .order_by(RoomEvent.seq)
    )
    return list(rows)


async def prune_events(session: AsyncSession, meeting_id: int, keep: int) -> None:
    """Forget all but the newest `keep` events of a meeting; older reconnects get a snapshot instead."""
    current = await current_seq(session, meeting_id)
    if current > keep:
        await session.execute(
            delete(RoomEvent).where(RoomEvent.meeting_id == meeting_id, RoomEvent.seq <= current - keep)
        )
        await session.commit()
