"""This process's open room sockets: one channel subscription per meeting, fanned out to bounded outboxes.

Each event arrives once per process from the Channels plugin (memory or Redis), is decoded to text once,
and is offered to every connection's outbox; a writer task per connection drains it. A slow socket
never delays the others: its outbox overflows, pointer events go first, then it is closed for resync.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from meeting import metrics
from meeting.errors import Close
from meeting.mail import Outbox
from meeting.rooms.presence import Presence
from meeting.rooms.service import (
    announce_presence,
    current_seq,
    events_after,
    load_presenter,
    user_channel,
)

if TYPE_CHECKING:
    from litestar.channels import Subscriber
    from litestar.connection import WebSocket
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from meeting.broker import Broker
    from meeting.rooms import state
    from meeting.settings import Settings

log = logging.getLogger("meeting.rooms")


_PRESENTER_TYPES = ('{"type":"presenter.changed"', '{"type":"page.turn"')
_REMOVED_TYPE = '{"type":"participant.removed"'


# A missing seq is usually just a publication a moment behind the next one; read the log after this.
GAP_WAIT_SECONDS = 0.25


class _Seq(msgspec.Struct):
    seq: int = 0


_seq_decoder = msgspec.json.Decoder(_Seq)


class _Typed(msgspec.Struct):
    user_id: int | None = msgspec.field(default=None, name="userId")


class _SessionsEnded(msgspec.Struct, rename="camel"):
    user_id: int
    jti: str | None = None


class _PresenterEvent(msgspec.Struct):
    presenter: _Typed


@dataclass(eq=False)
class Connection:
    """One open socket: its user, its outbox and the close that is pending, if any."""

    socket: WebSocket[Any, Any, Any]
    meeting_id: int
    user_id: int
    outbox: state.Outbox
    jti: str  # the token the socket authenticated with: logging it out closes the socket
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    close_reason: str = ""
    paused: bool = True  # until the snapshot or replay is sent, events wait in the outbox
    writer: asyncio.Task[None] | None = None
    closer: asyncio.Task[None] | None = None
    last_resync: float = float("-inf")  # monotonic time of the last resync this socket asked for
    # The last seq its snapshot or replay covered: with Redis an event read from the database for a
    # replay may still be on its way to this process, and must not reach the tablet a second time.
    covered_seq: int = 0

    def push(self, text: str, seq: int = 0) -> None:
        """Queue an event (`seq` 0: unsequenced); a connection that fell too far behind is closed so it
        resyncs."""
        if self.close_code is not None or 0 < seq <= self.covered_seq:
            return
        dropped = self.outbox.dropped
        if not self.outbox.offer(text):
            self.close(Close.RESYNC, "too far behind; reconnect with lastSeq")
            return
        if self.outbox.dropped != dropped:
            metrics.EVENTS_DROPPED.inc()
        if not self.paused:
            self.wake.set()

    def close(self, code: int, reason: str) -> None:
        """Close now: queued events are dropped and a send stuck on a stalled peer is abandoned."""
        if self.close_code is not None:
            return
        if code == Close.RESYNC:
            metrics.SOCKET_RESYNCS.inc()
        self.stop(code)
        self.close_reason = reason
        # The close frame goes out from its own task: the writer may be blocked on a peer that reads nothing.
        self.closer = asyncio.create_task(self._close_socket())

    def stop(self, code: int) -> None:
        """Stop sending (the peer left, or the socket is being closed)."""
        if self.close_code is None:
            self.close_code = code
        self.outbox.items.clear()
        self.wake.set()
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()

    async def _close_socket(self) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close(code=self.close_code or 1000, reason=self.close_reason)

    async def run_writer(self) -> None:
        """Drain the outbox to the socket until the connection closes."""
        send = self.socket.send_text
        try:
            while self.close_code is None:
                await self.wake.wait()
                self.wake.clear()
                sent = 0
                try:
                    while (
                        self.close_code is None
                        and not self.paused
                        and (text := self.outbox.take()) is not None
                    ):
                        await send(text)
                        sent += 1
                finally:
                    metrics.EVENTS_DELIVERED.inc(sent)  # once per wake-up, not per event
        except asyncio.CancelledError:
            return
        except Exception:  # the peer went away mid-send: the reader notices and cleans up
            self.close_code = self.close_code or 1006


@dataclass(eq=False)
class Room:
    """The connections of one meeting in this process."""

    meeting_id: int
    connections: set[Connection] = field(default_factory=set)
    by_user: dict[int, set[Connection]] = field(default_factory=dict)
    presenter_id: int | None = None
    subscriber: Subscriber | None = None
    user_subscribers: dict[int, Subscriber] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Sequenced events go out in seq order: two writers commit in seq order but may publish the other
    # way round, and a tablet drops any event not above the last seq it applied.
    next_seq: int = 1
    held: dict[int, bytes] = field(default_factory=dict)  # arrived early, waiting for the ones before
    gap_filler: asyncio.Task[None] | None = None

    def deliver(self, payload: bytes) -> None:
        """Offer one event to every connection; decoded once for all of them."""
        text = payload.decode()
        seq = seq_of(payload)
        if text.startswith(_PRESENTER_TYPES):
            self.presenter_id = msgspec.json.decode(payload, type=_PresenterEvent).presenter.user_id
        elif text.startswith(_REMOVED_TYPE):
            removed = msgspec.json.decode(payload, type=_Typed).user_id
            for connection in list(self.by_user.get(removed or 0, ())):
                connection.push(text)
                connection.close(Close.FORBIDDEN, "you were removed from this meeting")
        for connection in self.connections:
            connection.push(text, seq)

    def deliver_to(self, user_id: int, payload: bytes) -> None:
        """Offer a private event to one user's connections."""
        text = payload.decode()
        for connection in self.by_user.get(user_id, ()):
            connection.push(text)


def seq_of(payload: bytes | str) -> int:
    """An event's seq (0 for the unsequenced ones), without decoding the rest of it."""
    return _seq_decoder.decode(payload).seq


def _release(room: Room) -> None:
    """Deliver the held events that are next in line."""
    while (payload := room.held.pop(room.next_seq, None)) is not None:
        room.next_seq += 1
        room.deliver(payload)


class Hub:
    """Every room socket of this process."""

    def __init__(
        self, settings: Settings, broker: Broker, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.broker = broker
        # What a meeting status change over the socket writes mail to (the HTTP route's, from settings).
        self.outbox = Outbox.from_settings(settings)
        self.session_factory = session_factory
        self.rooms: dict[int, Room] = {}
        self.presence = Presence(broker, on_gone=self._announce_gone)
        # Sockets of this process still waiting for their `auth` message, per client address.
        self.waiting_for_auth: collections.Counter[str] = collections.Counter()
        self._lock = asyncio.Lock()
        self._users_task: asyncio.Task[None] | None = None

    async def _pump(self, subscriber: Subscriber, on_event: Any) -> None:
        try:
            async for payload in subscriber.iter_events():
                try:
                    on_event(payload)
                except Exception:  # one bad event must not stop the room's stream
                    log.exception("could not deliver an event")
        except asyncio.CancelledError:
            raise

    def _in_order(self, room: Room, payload: bytes) -> None:
        """Deliver a meeting event, holding a sequenced one until those before it went out."""
        seq = seq_of(payload)
        if seq == 0:  # not sequenced (the pointer): nothing to wait for
            room.deliver(payload)
            return
        if seq < room.next_seq:
            return  # out already: the gap filler read it from the log before its publication came
        room.held[seq] = payload
        _release(room)
        if room.held and (room.gap_filler is None or room.gap_filler.done()):
            room.gap_filler = asyncio.create_task(self._fill_gap(room))

    async def _fill_gap(self, room: Room) -> None:
        """A missing event's publication is late or lost (a Redis outage): read it from the event log.

        It is always there: a later seq commits only after the earlier one did (the sequence row lock).
        """
        await asyncio.sleep(GAP_WAIT_SECONDS)
        while room.held:
            first_held = min(room.held)
            try:
                async with self.session_factory() as session:
                    missing = await events_after(
                        session, room.meeting_id, room.next_seq - 1, self.settings.room_event_retention
                    )
            except Exception:  # the database is away: keep holding, try again
                log.exception("could not read missed events of meeting %d", room.meeting_id)
                await asyncio.sleep(GAP_WAIT_SECONDS * 5)
                continue
            if missing is None:  # no longer kept: every tablet here starts over from a snapshot
                log.warning("meeting %d: events from %d are gone", room.meeting_id, room.next_seq)
                for connection in list(room.connections):
                    connection.close(Close.RESYNC, "events were missed; reconnect with lastSeq")
                room.next_seq = first_held
            else:
                for payload in missing[: first_held - room.next_seq]:
                    room.held.setdefault(seq_of(payload), payload)
            _release(room)

    async def _announce_gone(self, meeting_id: int, user_id: int) -> None:
        async with self.session_factory() as session:
            await announce_presence(session, self.broker, meeting_id, user_id, False)

    async def close(self) -> None:
        """Leave the shared presence count (the app is shutting down)."""
        await self.presence.close()

    def _on_sessions_ended(self, payload: bytes) -> None:
        ended = msgspec.json.decode(payload, type=_SessionsEnded)
        for room in self.rooms.values():
            for connection in list(room.by_user.get(ended.user_id, ())):
                if ended.jti is None or ended.jti == connection.jti:
                    connection.close(Close.UNAUTHENTICATED, "your session ended: log in again")

    async def join(self, connection: Connection) -> Room:
        """Register a connection: subscribe its meeting (and its user's private channel) if first here."""
        channels = self.broker.channels
        async with self._lock:
            if self._users_task is None:
                subscriber = await channels.subscribe([self.broker.sessions_channel()])
                self._users_task = asyncio.create_task(self._pump(subscriber, self._on_sessions_ended))
            room = self.rooms.get(connection.meeting_id)
            if room is None:
                room = Room(meeting_id=connection.meeting_id)
                async with self.session_factory() as session:
                    room.presenter_id = (await load_presenter(session, room.meeting_id)).user_id
                room.subscriber = await channels.subscribe([self.broker.meeting_channel(room.meeting_id)])
                # Read after subscribing: every later event is then either published to us or, if its
                # publication is lost, in the event log for the gap filler.
                async with self.session_factory() as session:
                    room.next_seq = await current_seq(session, room.meeting_id) + 1
                room.tasks.append(
                    asyncio.create_task(self._pump(room.subscriber, lambda p, r=room: self._in_order(r, p)))
                )
                self.rooms[room.meeting_id] = room
            user_id = connection.user_id
            if user_id not in room.user_subscribers:
                subscriber = await channels.subscribe([user_channel(self.broker, room.meeting_id, user_id)])
                room.user_subscribers[user_id] = subscriber
                room.tasks.append(
                    asyncio.create_task(self._pump(subscriber, lambda p, u=user_id: room.deliver_to(u, p)))
                )
            room.connections.add(connection)
            room.by_user.setdefault(user_id, set()).add(connection)
            metrics.SOCKETS_OPEN.inc()
        return room

    async def leave(self, connection: Connection) -> None:
        """Forget a connection; the last one of a meeting (or user) ends the subscriptions."""
        channels = self.broker.channels
        async with self._lock:
            room = self.rooms.get(connection.meeting_id)
            if room is None or connection not in room.connections:
                return
            room.connections.discard(connection)
            metrics.SOCKETS_OPEN.dec()
            mine = room.by_user.get(connection.user_id, set())
            mine.discard(connection)
            if not mine:
                room.by_user.pop(connection.user_id, None)
                subscriber = room.user_subscribers.pop(connection.user_id, None)
                if subscriber is not None:
                    await channels.unsubscribe(subscriber)
            if not room.connections:
                del self.rooms[room.meeting_id]
                for subscriber in [room.subscriber, *room.user_subscribers.values()]:
                    if subscriber is not None:
                        await channels.unsubscribe(subscriber)
                for task in [*room.tasks, room.gap_filler]:
                    if task is not None:
                        task.cancel()
