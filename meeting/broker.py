"""Pub/sub between server processes, and the per-meeting event log that gives every event its `seq`.

Services write, then call `Broker.commit(session, meeting_id, events)`: in the same transaction each
event gets the meeting's next sequence number and a row in `room_events` (the history a reconnecting
tablet replays), the transaction commits, and only then are the events published. No tablet ever sees
a rolled-back change, and `seq` is gap-free and strictly increasing per meeting across processes.
"""

from __future__ import annotations

import asyncio
import datetime as dt  # noqa: TC003 - SQLAlchemy resolves Mapped[...] at runtime
import logging
from typing import TYPE_CHECKING, Any, TypeAlias

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.di import NamedDependency
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, insert, update
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Iterable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings

log = logging.getLogger("meeting.broker")


class Event(msgspec.Struct, tag_field="type", rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of every event broadcast to a meeting; subclasses set `tag="domain.verb"`."""

    seq: int = 0


class RoomSequence(Base):
    """The last sequence number handed out per meeting."""

    __tablename__ = "room_sequences"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class RoomEvent(Base):
    """One broadcast event, kept so a reconnecting client can replay what it missed."""

    __tablename__ = "room_events"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    # The exact JSON bytes that were broadcast: replay sends them unchanged.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


_encoder = msgspec.json.Encoder()

RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 5.0


class ResilientRedisBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, made to outlive a Redis outage.

    The plugin runs one publishing and one listening task; the stock backend lets a dropped connection
    end both for good (no fan-out until restart, and the publish queue grows). Here a failed publish is
    logged and dropped (the event is committed; clients resync by seq), and the listener reconnects
    with backoff; redis-py re-subscribes every channel on reconnect.
    """

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """Publish, or log the outage: the plugin's publishing task must survive it."""
        try:
            await super().publish(data, channels)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, event not fanned out (clients resync by seq): %s", exc)

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Subscribe; while Redis is away, remember the channels so the reconnect subscribes them."""
        try:
            await super().subscribe(channels)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, subscription deferred until it returns: %s", exc)
            # redis-py re-subscribes everything in `channels` (bytes keys) when it reconnects.
            self._pub_sub.channels.update({channel.encode(): None for channel in channels})
            self._has_subscribed.set()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Unsubscribe; while Redis is away, forget the channels so the reconnect leaves them out."""
        try:
            await super().unsubscribe(channels)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, unsubscribed locally: %s", exc)
            for channel in channels:
                self._pub_sub.channels.pop(channel.encode(), None)
            if not self._pub_sub.channels:
                self._has_subscribed.clear()

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """The stock stream, restarted after a lost connection until Redis answers again."""
        delay = RECONNECT_MIN_SECONDS
        while True:
            try:
                await self._has_subscribed.wait()
                if self._pub_sub.connection is None:
                    # Every subscription so far was made while Redis was away (the process started
                    # without it): connect now; redis-py then subscribes all the remembered channels.
                    channels = [channel.decode() for channel in self._pub_sub.channels]
                    if not channels:
                        self._has_subscribed.clear()
                        continue
                    await self._pub_sub.subscribe(*channels)
                async for event in super().stream_events():
                    delay = RECONNECT_MIN_SECONDS
                    yield event
            except (RedisError, OSError) as exc:
                log.warning("redis pub/sub connection lost, retrying in %.1f s: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)


class Broker:
    """Publishes sequenced events to the meeting channels, in-process or through Redis."""

    def __init__(self, settings: Settings) -> None:
        self.redis: Redis | None = Redis.from_url(settings.redis_url) if settings.redis_url else None
        backend = (
            ResilientRedisBackend(redis=self.redis) if self.redis is not None else MemoryChannelsBackend()
        )
        self.channels = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
        self.namespace = settings.channel_namespace

    def meeting_channel(self, meeting_id: int) -> str:
        """The pub/sub channel of one meeting."""
        return f"{self.namespace}.meeting.{meeting_id}"

    def sessions_channel(self) -> str:
        """The channel every process listens to for sessions that ended (logout, account disabled)."""
        return f"{self.namespace}.sessions"

    async def end_sessions(self, user_id: int, jti: str | None = None) -> None:
        """Tell every process to close the user's room sockets: all of them, or those of one token."""
        payload = _encoder.encode({"type": "sessions.ended", "userId": user_id, "jti": jti})
        try:
            self.channels.publish(payload, channels=[self.sessions_channel()])
        except Exception:  # the tokens are void in the database anyway; sockets re-check on every message
            log.exception("could not announce the end of user %s's sessions", user_id)

    async def commit(self, session: AsyncSession, meeting_id: int, events: Sequence[Event]) -> list[bytes]:
        """Sequence and log the events in the session's transaction, commit, then publish them."""
        payloads: list[bytes] = []
        if events:
            last = await _allocate(session, meeting_id, len(events))
            first = last - len(events) + 1
            rows: list[dict[str, Any]] = []
            for offset, event in enumerate(events):
                sequenced = msgspec.structs.replace(event, seq=first + offset)
                payload = _encoder.encode(sequenced)
                payloads.append(payload)
                rows.append(
                    {
                        "meeting_id": meeting_id,
                        "seq": sequenced.seq,
                        "type": type(event).__struct_config__.tag,
                        "payload": payload,
                        "created_at": utcnow(),
                    }
                )
            await session.execute(insert(RoomEvent), rows)
        await session.commit()
        for payload in payloads:
            await self.publish_raw(meeting_id, payload)
        return payloads

    async def publish_raw(self, meeting_id: int, payload: bytes) -> None:
        """Publish bytes to a meeting's channel; a broker outage is logged, never raised to the writer."""
        try:
            self.channels.publish(payload, channels=[self.meeting_channel(meeting_id)])
        except Exception:  # the write is committed; clients resync by seq when the broker returns
            log.exception("could not publish to meeting %s", meeting_id)

    async def healthy(self) -> bool:
        """Whether the pub/sub backend answers."""
        if self.redis is None:
            return True
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False


# How handlers ask for the broker.
Publisher: TypeAlias = NamedDependency[Broker]


async def _allocate(session: AsyncSession, meeting_id: int, count: int) -> int:
    """Reserve `count` sequence numbers for a meeting; returns the last one.

    The UPDATE takes the row lock, so concurrent writers on any process queue here, in transaction order.
    """
    result = await session.execute(
        update(RoomSequence)
        .where(RoomSequence.meeting_id == meeting_id)
        .values(last_seq=RoomSequence.last_seq + count)
        .returning(RoomSequence.last_seq)
    )
    # The row is created with the meeting, so it is always there to lock.
    return int(result.scalar_one())
