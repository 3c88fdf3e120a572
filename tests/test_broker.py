"""The event log and pub/sub: gap-free per-meeting seq, delivery on the memory and Redis backends."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

import msgspec
import pytest
from sqlalchemy import select

from meeting.app import create_app
from meeting.broker import Broker, Event, RoomEvent
from tests.support.backends import BROKER_BACKENDS, TEST_REDIS_URL

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from meeting.settings import Settings
    from tests.support.api import Council


class Probe(Event, tag="test.probe"):
    """An event used only by these tests."""

    n: int


async def test_concurrent_commits_get_strictly_increasing_gap_free_seq(
    council: Council, settings: Settings
) -> None:
    app = create_app(settings)
    async with app.lifespan():
        broker: Broker = app.state.broker
        factory = app.state.session_factory
        await _write_concurrently(broker, factory, council.meeting_id)
    rows = (
        await council.api.db.scalars(
            select(RoomEvent).where(RoomEvent.meeting_id == council.meeting_id).order_by(RoomEvent.seq)
        )
    ).all()
    seqs = [row.seq for row in rows]
    assert seqs == list(range(1, len(seqs) + 1))
    probes = [msgspec.json.decode(row.payload) for row in rows if row.type == "test.probe"]
    assert len(probes) == 40
    # The two events of one commit are adjacent: a transaction's events are never interleaved.
    by_seq = {p["seq"]: p["n"] for p in probes}
    for seq, n in by_seq.items():
        if n < 1000:
            assert by_seq[seq + 1] == n + 1000


async def _write_concurrently(
    broker: Broker, factory: async_sessionmaker[AsyncSession], meeting_id: int
) -> None:

    async def write(n: int) -> None:
        async with factory() as session:
            await broker.commit(session, meeting_id, [Probe(n=n), Probe(n=n + 1000)])

    await asyncio.gather(*(write(n) for n in range(20)))


@pytest.mark.parametrize("backend", BROKER_BACKENDS)
async def test_committed_events_reach_subscribers(council: Council, settings: Settings, backend: str) -> None:
    redis_settings = (
        dataclasses.replace(settings, redis_url=TEST_REDIS_URL) if backend == "redis" else settings
    )
    app = create_app(redis_settings)
    async with app.lifespan():
        broker: Broker = app.state.broker
        async with broker.channels.start_subscription(
            [broker.meeting_channel(council.meeting_id)]
        ) as subscriber:
            await asyncio.sleep(0.1)  # let the Redis subscription settle
            async with app.state.session_factory() as session:
                payloads = await broker.commit(session, council.meeting_id, [Probe(n=7)])
            received = await asyncio.wait_for(anext(subscriber.iter_events()), timeout=5)
        assert await broker.healthy()
    assert received == payloads[0]
    event = msgspec.json.decode(received)
    assert event["type"] == "test.probe" and event["n"] == 7 and event["seq"] >= 1
