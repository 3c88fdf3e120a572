"""Message shapes of the room socket (both directions) and of the annotations endpoint.

Inbound messages are one tagged union decoded in one step: an unknown `type` or a wrong field is a
msgspec ValidationError, answered with an `error` message. Outbound events subclass `meeting.broker.Event`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from meeting.agenda.models import Attendance, ItemStatus, MeetingStatus, ParticipantRole
from meeting.agenda.schemas import ItemRead, SpeakingLimit
from meeting.broker import Event
from meeting.docs.schemas import DocumentProgress
from meeting.rooms.models import AnnotationKind, Visibility
from meeting.rooms.state import EXTEND_SECONDS, WARNING_SECONDS
from meeting.schemas import Schema
from meeting.voting.schemas import PollRead

Id = Annotated[int, msgspec.Meta(ge=1)]
Page = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Ref = Annotated[str, msgspec.Meta(max_length=64)]
ClientId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Fraction = Annotated[float, msgspec.Meta(ge=-10, le=10)]
Zoom = Annotated[float, msgspec.Meta(ge=0.1, le=10)]
Token = Annotated[str, msgspec.Meta(max_length=4096)]


# ----------------------------------------------------------------------------- annotation payloads

# What web/js/viewer.js draws, bounded: a tablet draws every shared annotation of a page, so one
# oversized or malformed payload must not reach it (it once hid every annotation on the page).
Coordinate = Annotated[float, msgspec.Meta(ge=0, le=1)]  # a fraction of the page's width or height
Point = tuple[Coordinate, Coordinate]
Rect = tuple[Coordinate, Coordinate, Coordinate, Coordinate]  # x1, y1, x2, y2
Color = Annotated[str, msgspec.Meta(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]  # #rgb or #rrggbb
StrokeWidth = Annotated[float, msgspec.Meta(gt=0, le=50)]  # screen pixels
MAX_POINTS = 2000  # the pen stops adding points at 1500
MAX_RECTS = 200
MAX_NOTE_LENGTH = 2000  # the note dialog's maxlength
Stroke = Annotated[list[Point], msgspec.Meta(max_length=MAX_POINTS)]


class Payload(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of the typed annotation payloads; stored as given, absent options left out."""


class InkPayload(Payload):
    """A pen stroke: the points it passes through."""

    points: Annotated[list[Point], msgspec.Meta(min_length=1, max_length=MAX_POINTS)]
    color: Color | None = None
    width: StrokeWidth | None = None


class HighlightPayload(Payload):
    """A highlighter stroke (what the tablet's tool draws) or rectangles (text selections), or both."""

    points: Stroke = msgspec.field(default_factory=list)
    rects: Annotated[list[Rect], msgspec.Meta(max_length=MAX_RECTS)] = msgspec.field(default_factory=list)
    color: Color | None = None
    width: StrokeWidth | None = None

    def __post_init__(self) -> None:
        if not self.points and not self.rects:
            raise ValueError("a highlight needs points or rects")


class NotePayload(Payload):
    """A note pinned at a point of the page."""

    x: Coordinate
    y: Coordinate
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE_LENGTH)]


PAYLOADS: dict[AnnotationKind, type[Payload]] = {
    AnnotationKind.ink: InkPayload,
    AnnotationKind.highlight: HighlightPayload,
    AnnotationKind.note: NotePayload,
}


def annotation_payload(kind: AnnotationKind, payload: dict[str, Any]) -> Payload:
    """The payload checked against its kind's shape.

    Raises:
        msgspec.ValidationError: naming the field (`$.rects[0]`) that does not fit.
    """
    return msgspec.convert(payload, PAYLOADS[kind])


class ViewportMsg(Schema):
    """Scroll offsets as fractions of the page, and zoom."""

    x: Fraction = 0.0
    y: Fraction = 0.0
    zoom: Zoom = 1.0


# ------------------------------------------------------------------------------------------- inbound


class Inbound(msgspec.Struct, tag_field="type", rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of messages from the client; `ref` is echoed in the `ack` or `error` that answers it."""

    ref: Ref | None = None


class Auth(Inbound, tag="auth"):
    """First message: the token (or none, to use the session cookie) and the last `seq` seen, if any."""

    token: Token | None = None
    last_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Resync(Inbound, tag="resync"):
    """Ask for the events after `lastSeq` (or a fresh snapshot without it)."""

    last_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Ping(Inbound, tag="ping"):
    """Keep-alive; answered with `pong`."""


class PageTurn(Inbound, tag="page.turn"):
    """The presenter moves the room to a document page and viewport."""

    document_id: Id
    version_id: Id
    page: Page
    viewport: ViewportMsg = msgspec.field(default_factory=ViewportMsg)


class PresenterSet(Inbound, tag="presenter.set"):
    """The chair chooses who presents (null: the chair takes it back)."""

    user_id: Id | None


class PointerMove(Inbound, tag="pointer.move"):
    """The presenter's laser pointer, as fractions of the page; null x/y hides it."""

    x: Fraction | None
    y: Fraction | None


class AnnotationAdd(Inbound, tag="annotation.add"):
    """Save a new annotation; `id` is generated by the client, so a retry never duplicates."""

    id: ClientId
    document_id: Id
    version_id: Id
    page: Page
    kind: AnnotationKind
    visibility: Visibility
    # Checked against the kind's shape (`annotation_payload`) by the service: the shape depends on
    # `kind`, which one decoding step cannot express.
    payload: dict[str, Any]


class AnnotationUpdate(Inbound, tag="annotation.update"):
    """Change an annotation's content or visibility (its author; the chair for shared ones)."""

    id: ClientId
    # Replaces the whole payload; checked against the stored annotation's kind by the service.
    payload: dict[str, Any] | None = None
    visibility: Visibility | None = None


class AnnotationDelete(Inbound, tag="annotation.delete"):
    """Delete an annotation (its author; the chair for shared ones)."""

    id: ClientId


class SpeakerRequest(Inbound, tag="speaker.request"):
    """Ask for the floor."""


class SpeakerWithdraw(Inbound, tag="speaker.withdraw"):
    """Withdraw one's request for the floor."""


class SpeakerGrant(Inbound, tag="speaker.grant"):
    """The chair gives the floor to a user waiting on the active item (the next one when userId is null).

    `limitSeconds` sets this speaker's time; left out, the item's or else the meeting's applies.
    """

    user_id: Id | None = None
    limit_seconds: SpeakingLimit | None = None


class SpeakerExtend(Inbound, tag="speaker.extend"):
    """The chair gives the current speaker more time ("+1 phút"): `seconds` more to finish."""

    seconds: Annotated[int, msgspec.Meta(ge=10, le=60 * 60)] = EXTEND_SECONDS


class SpeakerLimit(Inbound, tag="speaker.limit"):
    """The chair sets the current speech's time, counted from its start (null: untimed)."""

    limit_seconds: SpeakingLimit | None


class SpeakerEnd(Inbound, tag="speaker.end"):
    """The chair (or the speaker) ends the current speech."""


class SpeakerReorder(Inbound, tag="speaker.reorder"):
    """The chair reorders the waiting list; every waiting user exactly once."""

    user_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)]


class MeetingStatusSet(Inbound, tag="meeting.status"):
    """The chair starts or ends the meeting."""

    status: MeetingStatus


class ItemStatusSet(Inbound, tag="agenda.item"):
    """The chair activates an agenda item or marks it done."""

    item_id: Id
    status: ItemStatus


ClientMessage = (
    Auth
    | Resync
    | Ping
    | PageTurn
    | PresenterSet
    | PointerMove
    | AnnotationAdd
    | AnnotationUpdate
    | AnnotationDelete
    | SpeakerRequest
    | SpeakerWithdraw
    | SpeakerGrant
    | SpeakerEnd
    | SpeakerReorder
    | SpeakerExtend
    | SpeakerLimit
    | MeetingStatusSet
    | ItemStatusSet
)

# ------------------------------------------------------------------------------------- read shapes


class PresenterRead(Schema):
    """Who presents and what they show."""

    user_id: int | None
    document_id: int | None
    version_id: int | None
    page: int
    viewport: ViewportMsg


class SpeakerRead(Schema):
    """One entry of the speaker queue, on the agenda item it was requested on."""

    user_id: int
    display_name: str
    requested_at: dt.datetime
    started_at: dt.datetime | None = None
    item_id: int | None = None


class FloorRead(Schema):
    """The speaker queues: the current speaker (with elapsed seconds at `asOf`) and who waits, in order.

    `waiting` holds every agenda item's queue, each entry with its `itemId`; a tablet shows the active
    item's (`itemId` here names the item active when this was sent; the agenda's events move it on).
    `limitSeconds` is the current speech's time (null: untimed); the countdown turns amber
    `warningSeconds` before its end and counts the overrun up after it.
    """

    speaking: SpeakerRead | None
    elapsed_seconds: float
    as_of: dt.datetime
    waiting: list[SpeakerRead]
    item_id: int | None = None
    limit_seconds: int | None = None
    warning_seconds: int = WARNING_SECONDS


class PresenceRead(Schema):
    """A participant: connected now or not, and where roll call has them (in the room, online …)."""

    user_id: int
    display_name: str
    role: ParticipantRole
    attendance: Attendance
    connected: bool


class AnnotationRead(Schema):
    """An annotation as its viewers see it."""

    id: str
    document_id: int
    version_id: int
    page: int
    kind: AnnotationKind
    visibility: Visibility
    author_id: int
    # Untyped on the way out: rows stored before payloads were typed load as they are (the client
    # skips what it cannot draw); everything written since fits `PAYLOADS`.
    payload: dict[str, Any]
    deleted: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class AnnotationPage(Schema):
    """The visible annotations of one page."""

    page: int
    annotations: list[AnnotationRead]


class AnnotationList(Schema):
    """The annotations of a document version visible to the caller, page by page."""

    document_id: int
    version_id: int
    pages: list[AnnotationPage]


# ------------------------------------------------------------------------------------------ outbound


class Snapshot(Event, tag="room.snapshot"):
    """The room's whole state on join or resync; `seq` is the last event it includes."""

    meeting_id: int
    meeting_status: MeetingStatus
    you: int
    your_role: ParticipantRole | None
    presence: list[PresenceRead]
    active_item: ItemRead | None
    presenter: PresenterRead
    speakers: FloorRead
    # The open poll, else the last closed one (its result only once published).
    poll: PollRead | None
    # Render progress of each document's current version.
    documents: list[DocumentProgress]


class Replayed(Event, tag="room.replayed"):
    """Sent after the replayed events of a resync: the client is up to date at `seq`."""

    count: int


class Ack(Event, tag="ack"):
    """A message was carried out; annotation messages get the stored annotation back."""

    ref: str | None = None
    result: AnnotationRead | None = None


class Pong(Event, tag="pong"):
    """Answer to `ping`."""

    ref: str | None = None


class ErrorMessage(Event, tag="error"):
    """A message was refused; the socket stays open. `status` numbers like the close codes (4403 …),
    `code` is the stable error code (meeting/errors.py `Code`), `detail` a human sentence."""

    status: int
    code: str
    detail: str
    ref: str | None = None


class PresenceChanged(Event, tag="presence.changed"):
    """A participant's first socket connected or last socket closed."""

    user_id: int
    connected: bool


class PresenterChanged(Event, tag="presenter.changed"):
    """The chair chose who presents."""

    presenter: PresenterRead


class PageTurned(Event, tag="page.turn"):
    """The presenter moved the room."""

    presenter: PresenterRead


class PointerMoved(Event, tag="pointer.move"):
    """The presenter's pointer; never stored, never sequenced (`seq` 0), dropped first under pressure."""

    user_id: int
    x: float | None
    y: float | None


class AnnotationAdded(Event, tag="annotation.add"):
    """An annotation was saved (shared: to everyone; private: to its author's sockets only, `seq` 0)."""

    annotation: AnnotationRead


class AnnotationUpdated(Event, tag="annotation.update"):
    """An annotation changed."""

    annotation: AnnotationRead


class AnnotationDeleted(Event, tag="annotation.delete"):
    """An annotation was deleted (`annotation.deleted` is true)."""

    annotation: AnnotationRead


class FloorChanged(Event, tag="speaker.queue"):
    """The speaker queue changed; `action` says how.

    One of request, withdraw, grant, end, reorder, extend, limit.
    """

    action: str
    user_id: int | None
    speakers: FloorRead


# Every message the room itself sends (forwarded events of other domains are theirs).
ServerMessage = (
    Snapshot
    | Replayed
    | Ack
    | Pong
    | ErrorMessage
    | PresenceChanged
    | PresenterChanged
    | PageTurned
    | PointerMoved
    | AnnotationAdded
    | AnnotationUpdated
    | AnnotationDeleted
    | FloorChanged
)
