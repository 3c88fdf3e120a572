"""The meeting room socket: authenticate, snapshot or replay, then relay events and carry out messages.

Thin I/O around `service` (rules with the database) and `state` (pure rules); see docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from meeting.agenda import MeetingAccess, load_access
from meeting.agenda import service as agenda
from meeting.db import MAX_ID
from meeting.errors import (
    DATABASE_DOWN,
    Close,
    Code,
    DomainError,
    Forbidden,
    InternalError,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
    is_database_down,
)
from meeting.rooms import service, state
from meeting.rooms.hub import (
    Connection,
    Hub,
    Room,
    seq_of,
)
from meeting.rooms.schemas import (
    Ack,
    AnnotationAdd,
    AnnotationDelete,
    AnnotationRead,
    AnnotationUpdate,
    Auth,
    ClientMessage,
    ErrorMessage,
    ItemStatusSet,
    MeetingStatusSet,
    PageTurn,
    Ping,
    PointerMove,
    PointerMoved,
    Pong,
    PresenterSet,
    Replayed,
    Resync,
    SpeakerEnd,
    SpeakerExtend,
    SpeakerGrant,
    SpeakerLimit,
    SpeakerReorder,
    SpeakerRequest,
    SpeakerWithdraw,
)
from meeting.users import resolve_token, token_from

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.broker import Broker
    from meeting.settings import Settings

    # A room command: the caller's current access and the message in; an annotation command's result out.
    Command = Callable[[AsyncSession, Broker, MeetingAccess, Any], Awaitable[object]]

log = logging.getLogger("meeting.rooms")

# A socket that has not authenticated costs the server and proves nothing: it gets a few seconds, and
# one address may hold only so many at once (tablets authenticate within milliseconds of connecting).
AUTH_TIMEOUT_SECONDS = 5.0
UNAUTHENTICATED_PER_ADDRESS = 100
# A resync replays at most this many events (more is cheaper as a snapshot), at most once a second.
REPLAY_LIMIT = 1000
RESYNC_INTERVAL_SECONDS = 1.0
POINTER_INTERVAL_SECONDS = 1 / 30  # 30 positions a second look smooth; more only loads the room
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ClientMessage)


def origin_allowed(socket: WebSocket[Any, Any, Any], settings: Settings) -> bool:
    """Same origin, or one of the configured origins; a client without Origin (not a browser) passes."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    if origin in settings.allowed_origins:
        return True
    host = socket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower() and bool(host)


async def _send(socket: WebSocket[Any, Any, Any], event: msgspec.Struct) -> None:
    await socket.send_text(_encoder.encode(event).decode())


async def _refuse(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=code, reason=reason)


async def _first_message(socket: WebSocket[Any, Any, Any], limit: int) -> Auth | None:
    """The `auth` message, or None after closing the socket with the reason."""
    try:
        event = await asyncio.wait_for(socket.receive(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        await _refuse(socket, Close.UNAUTHENTICATED, 'send {"type":"auth"} first')
        return None
    if event["type"] == "websocket.disconnect":
        return None
    raw: str | bytes = cast("str | bytes", event.get("text") or event.get("bytes") or b"")
    if len(raw) > limit:
        await _refuse(socket, Close.UNAUTHENTICATED, "the auth message is too large")
        return None
    try:
        message = _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        message = None
    if not isinstance(message, Auth):
        await _refuse(socket, Close.UNAUTHENTICATED, 'send {"type":"auth"} first')
        return None
    return message


@websocket("/api/meetings/{meeting_id:int}/socket", name="room_socket")
async def room_socket(socket: WebSocket[Any, Any, Any], meeting_id: FromPath[int]) -> None:
    """A tablet in a meeting: see docs/protocol.md."""
    app_state = socket.app.state
    settings: Settings = app_state.settings
    hub: Hub = app_state.room_hub
    await socket.accept()
    if not origin_allowed(socket, settings):
        await _refuse(socket, Close.FORBIDDEN, "origin not allowed")
        return
    address = socket.client.host if socket.client else ""
    if hub.waiting_for_auth[address] >= UNAUTHENTICATED_PER_ADDRESS:
        await _refuse(
            socket, Close.TOO_MANY_SOCKETS, "too many sockets from your address waiting to authenticate"
        )
        return
    hub.waiting_for_auth[address] += 1
    try:
        auth = await _first_message(socket, settings.socket_frame_limit)
    finally:
        hub.waiting_for_auth[address] -= 1
        if not hub.waiting_for_auth[address]:
            del hub.waiting_for_auth[address]
    if auth is None:
        return
    token = auth.token or token_from(socket, allow_cookie=True)
    async with hub.session_factory() as session:
        try:
            if token is None:
                raise Unauthenticated(
                    Code.AUTH_REQUIRED, "no token: send it in the auth message or log in for the cookie"
                )
            user, claims = await resolve_token(session, app_state.signing_key, token)
        except DomainError as exc:
            await _refuse(socket, Close.UNAUTHENTICATED, exc.detail[:120])
            return
        # Unknown, or not yours: as over HTTP, a meeting you are not invited to is not shown to exist.
        try:
            if abs(meeting_id) > MAX_ID:
                raise NotFound(Code.MEETING_NOT_FOUND, f"meeting {meeting_id} not found")
            await load_access(session, meeting_id, user)
        except DomainError:
            await _refuse(socket, Close.NOT_FOUND, f"meeting {meeting_id} not found")
            return
    # Count this socket before checking: sockets connecting at the same moment then see each other
    # (checking first let a burst of connects all pass).
    open_sockets = await hub.presence.add(meeting_id, user.id, 1)
    if open_sockets > settings.sockets_per_user:
        await hub.presence.add(meeting_id, user.id, -1)
        await _refuse(
            socket, Close.TOO_MANY_SOCKETS, f"at most {settings.sockets_per_user} open sockets per user"
        )
        return
    connection = Connection(
        socket, meeting_id, user.id, state.Outbox(settings.socket_queue_limit), jti=claims.jti
    )
    room = await hub.join(connection)
    try:
        if open_sockets == 1:
            async with hub.session_factory() as session:
                await service.announce_presence(session, hub.broker, meeting_id, user.id, True)
        await _catch_up(hub, connection, auth.last_seq)
        connection.writer = asyncio.create_task(connection.run_writer())
        await _read(hub, room, connection)
    finally:
        connection.stop(1000)
        await hub.leave(connection)
        if connection.closer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.closer, 5)
        if await hub.presence.add(meeting_id, user.id, -1) == 0:
            with contextlib.suppress(Exception):
                async with hub.session_factory() as session:
                    await service.announce_presence(session, hub.broker, meeting_id, user.id, False)


async def _catch_up(hub: Hub, connection: Connection, last_seq: int | None) -> None:
    """Send the missed events (or a snapshot), then release what was queued meanwhile, without repeats."""
    socket = connection.socket
    connection.paused = True
    async with hub.session_factory() as session:
        replay = None
        if last_seq is not None:
            limit = min(hub.settings.room_event_retention, REPLAY_LIMIT)
            replay = await service.events_after(session, connection.meeting_id, last_seq, limit)
        if replay is None:
            access = await load_access(session, connection.meeting_id, await _user(session, connection))
            connected = await hub.presence.connected(connection.meeting_id)
            snapshot = await service.build_snapshot(session, access, connected)
            await _send(socket, snapshot)
            upto = snapshot.seq
        else:
            for payload in replay:
                await socket.send_text(payload.decode())
            upto = (last_seq or 0) + len(replay)
            await _send(socket, Replayed(seq=upto, count=len(replay)))
        if upto > hub.settings.room_event_retention:
            # Joins are the natural moment to forget what no reconnect may ask for any more.
            await service.prune_events(session, connection.meeting_id, hub.settings.room_event_retention)
    # Events that arrived while reading: the ones already covered are dropped, the rest go out in order;
    # covered ones arriving later are dropped by push.
    connection.covered_seq = upto
    queued = list(connection.outbox.items)
    connection.outbox.items.clear()
    for text in queued:
        if not state.is_ephemeral(text):
            seq = seq_of(text)
            if 0 < seq <= upto:
                continue
        connection.outbox.items.append(text)
    connection.paused = False
    connection.wake.set()


async def _user(session: AsyncSession, connection: Connection) -> Any:
    from meeting.users import User

    user = await session.get(User, connection.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(Code.AUTH_ACCOUNT_DISABLED, "your account was disabled")
    return user


async def _read(hub: Hub, room: Room, connection: Connection) -> None:
    """Carry out the client's messages until it leaves or is closed."""
    socket = connection.socket
    settings = hub.settings
    bucket = state.TokenBucket(
        rate=settings.socket_messages_per_second, burst=2 * settings.socket_messages_per_second
    )
    pointer = state.Throttle(POINTER_INTERVAL_SECONDS)
    told_limited = 0.0
    while connection.close_code is None:
        try:
            event = await socket.receive()
        except WebSocketDisconnect:
            return
        if event["type"] == "websocket.disconnect":
            return
        raw = cast("str | bytes", event.get("text") or event.get("bytes") or b"")
        now = time.monotonic()
        if not bucket.allow(now):
            # One error per second is enough to explain it; more would only feed the flood.
            if now - told_limited > 1:
                told_limited = now
                _refuse_message(
                    connection, RateLimited(Code.REQUEST_RATE_LIMITED, "too many messages; slow down")
                )
            continue
        if len(raw) > settings.socket_frame_limit:
            detail = f"message of {len(raw)} bytes is over the {settings.socket_frame_limit}-byte limit"
            _refuse_message(connection, TooLarge(Code.REQUEST_TOO_LARGE, detail))
            continue
        try:
            message = _decoder.decode(raw)
        except msgspec.ValidationError as exc:  # a subclass of DecodeError: test it first
            _refuse_message(connection, InvalidInput(Code.REQUEST_INVALID, str(exc)))
            continue
        except msgspec.DecodeError as exc:
            _refuse_message(connection, DomainError(Code.REQUEST_MALFORMED, f"malformed JSON: {exc}"))
            continue
        except RecursionError:  # an untyped part (an annotation's payload) nested past the decoder's limit
            _refuse_message(
                connection, DomainError(Code.REQUEST_MALFORMED, "the message is nested too deeply")
            )
            continue
        if isinstance(message, PointerMove):
            _point(hub, room, connection, message, pointer, now)
            continue
        try:
            await _carry_out(hub, connection, message)
        except DomainError as exc:
            _refuse_message(connection, exc, message.ref)
            if isinstance(exc, (Unauthenticated,)):
                connection.close(Close.UNAUTHENTICATED, exc.detail[:120])
        except Exception as exc:
            if is_database_down(exc):  # an outage, not a bug: one log line, and the client retries
                log.error("database unavailable for room message %s: %s", type(message).__name__, exc)
                _refuse_message(connection, Unavailable(Code.SERVER_UNAVAILABLE, DATABASE_DOWN), message.ref)
                continue
            log.exception("room message %s failed", type(message).__name__)
            _refuse_message(
                connection, InternalError(Code.SERVER_ERROR, "internal error; please retry"), message.ref
            )


def _reply(connection: Connection, event: msgspec.Struct) -> None:
    connection.push(_encoder.encode(event).decode())


def _refuse_message(connection: Connection, error: DomainError, ref: str | None = None) -> None:
    """Answer a refused message with an `error` event; the socket stays open."""
    _reply(
        connection, ErrorMessage(status=error.socket_status, code=error.code, detail=error.detail, ref=ref)
    )


def _point(
    hub: Hub, room: Room, connection: Connection, message: PointerMove, pointer: state.Throttle, now: float
) -> None:
    """The presenter's pointer: checked against the room's presenter, throttled, published without seq."""
    if room.presenter_id != connection.user_id:
        _refuse_message(
            connection, Forbidden(Code.PRESENTER_ONLY, "only the presenter's pointer is shown"), message.ref
        )
        return
    if not pointer.allow(now):
        return  # too soon after the last position: the next one supersedes it
    event = PointerMoved(user_id=connection.user_id, x=message.x, y=message.y)
    with contextlib.suppress(Exception):
        hub.broker.channels.publish(
            _encoder.encode(event), channels=[hub.broker.meeting_channel(room.meeting_id)]
        )


async def _set_item_status(
    session: AsyncSession, broker: Broker, access: MeetingAccess, msg: ItemStatusSet
) -> None:
    await agenda.change_item_status(session, broker, access, msg.item_id, msg.status)


# Each room command and the one service function that carries it out: the service decides who may,
# the same rule as over HTTP. Annotation commands answer with the stored annotation in their `ack`.
COMMANDS: dict[type[msgspec.Struct], Command] = {
    PageTurn: service.turn_page,
    PresenterSet: service.set_presenter,
    AnnotationAdd: service.add_annotation,
    AnnotationUpdate: service.update_annotation,
    AnnotationDelete: service.delete_annotation,
    SpeakerRequest: service.request_to_speak,
    SpeakerWithdraw: service.withdraw_request,
    SpeakerGrant: service.grant_floor,
    SpeakerEnd: service.end_speech,
    SpeakerReorder: service.reorder_speakers,
    SpeakerExtend: service.extend_speech,
    SpeakerLimit: service.set_speech_limit,
    ItemStatusSet: _set_item_status,
}


async def _carry_out(hub: Hub, connection: Connection, message: Any) -> None:
    """Run one message; commands load the caller's current access first (roles change, people leave)."""
    if isinstance(message, Ping):
        _reply(connection, Pong(ref=message.ref))
        return
    if isinstance(message, Auth):
        _refuse_message(
            connection, DomainError(Code.ROOM_ALREADY_AUTHENTICATED, "already authenticated"), message.ref
        )
        return
    async with hub.session_factory() as session:
        if isinstance(message, Resync):
            now = time.monotonic()
            if now - connection.last_resync < RESYNC_INTERVAL_SECONDS:
                too_often = RateLimited(Code.ROOM_RESYNC_TOO_OFTEN, "at most one resync a second")
                _refuse_message(connection, too_often, message.ref)
                return
            connection.last_resync = now
            connection.paused = True
            await _catch_up(hub, connection, message.last_seq)
            return
        access = await load_access(session, connection.meeting_id, await _user(session, connection))
        if isinstance(message, MeetingStatusSet):
            # Outside COMMANDS: scheduling or calling off a meeting sends mail, through the hub's outbox.
            result: object = await agenda.change_meeting_status(
                session, hub.broker, access, message.status, outbox=hub.outbox
            )
        else:
            result = await COMMANDS[type(message)](session, hub.broker, access, message)
    _reply(connection, Ack(ref=message.ref, result=result if isinstance(result, AnnotationRead) else None))


__all__ = ["room_socket"]
