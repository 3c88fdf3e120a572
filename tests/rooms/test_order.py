"""Sequenced events reach a process's tablets in seq order, whatever order they were published in."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from meeting.broker import Broker
from meeting.db import create_engine, create_session_factory
from meeting.rooms.hub import GAP_WAIT_SECONDS, Hub, Room, seq_of
from meeting.rooms.schemas import PresenceChanged

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from meeting.settings import Settings
    from tests.support.api import Council


class RecordingRoom(Room):
    """A room whose deliveries are recorded instead of sent to sockets."""

    delivered: list[bytes]

    def deliver(self, payload: bytes) -> None:
        """Record the payload."""
        self.delivered.append(payload)


@asynccontextmanager
async def _hub(settings: Settings) -> AsyncIterator[Hub]:
    engine = create_engine(settings)
    try:
        yield Hub(settings, Broker(settings), create_session_factory(engine))
    finally:
        await engine.dispose()


def _room(meeting_id: int, next_seq: int) -> RecordingRoom:
    room = RecordingRoom(meeting_id=meeting_id, next_seq=next_seq)
    room.delivered = []
    return room


def _event(seq: int) -> bytes:
    return b'{"type":"page.turn","seq":%d}' % seq


async def test_event_published_before_an_earlier_one_waits_for_it(
    settings: Settings, council: Council
) -> None:
    async with _hub(settings) as hub:
        room = _room(council.meeting_id, next_seq=5)
        hub._in_order(room, _event(6))
        pointer = b'{"type":"pointer","x":0.5,"y":0.5}'
        hub._in_order(room, pointer)  # not sequenced: goes at once
        assert room.delivered == [pointer]
        hub._in_order(room, _event(5))
        hub._in_order(room, _event(5))  # a repeat (the gap filler got it first) is dropped
        assert room.delivered == [pointer, _event(5), _event(6)]
        assert room.held == {}
        assert room.gap_filler is not None
        await asyncio.wait_for(room.gap_filler, GAP_WAIT_SECONDS + 10)
        assert room.delivered == [pointer, _event(5), _event(6)]  # nothing was missing: nothing read


async def test_event_whose_publication_is_lost_is_read_from_the_log(
    settings: Settings, council: Council
) -> None:
    async with _hub(settings) as hub:
        async with hub.session_factory() as session:
            payloads = await hub.broker.commit(
                session,
                council.meeting_id,
                [
                    PresenceChanged(user_id=council.api.ids[name], connected=True)
                    for name in ("chair", "guest")
                ],
            )
        room = _room(council.meeting_id, next_seq=seq_of(payloads[0]))
        hub._in_order(room, payloads[1])  # the first one's publication never comes
        assert room.delivered == []
        assert room.gap_filler is not None
        await asyncio.wait_for(room.gap_filler, GAP_WAIT_SECONDS + 10)
        assert room.delivered == payloads
