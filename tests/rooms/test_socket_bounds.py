"""Bounds on what an unauthenticated or over-eager socket can cost: waiting for auth, resyncs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from meeting.rooms import socket as room_socket
from tests.support.sockets import join, open_socket

if TYPE_CHECKING:
    import pytest

    from tests.support.api import Council
    from tests.support.servers import Server


async def test_one_address_holds_only_so_many_sockets_waiting_to_authenticate(
    server: Server, room: Council, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_socket, "UNAUTHENTICATED_PER_ADDRESS", 5)
    waiting = [await open_socket(server, room.meeting_id) for _ in range(5)]
    await asyncio.sleep(0.2)  # all five are waiting in the handler
    extra = await open_socket(server, room.meeting_id)
    code, reason = await extra.closed()
    assert (code, "waiting to authenticate" in reason) == (4429, True)
    # Authenticating frees a place at once: the next socket from that address is let in.
    await waiting[0].send({"type": "auth", "token": room.api.tokens["delegate1"]})
    assert (await waiting[0].recv())["type"] == "room.snapshot"
    sock, first = await join(server, room.api, room.meeting_id, "delegate2")
    assert first["type"] == "room.snapshot"
    for other in (*waiting, sock):
        await other.close()


async def test_a_socket_that_never_authenticates_is_closed_after_a_few_seconds(
    server: Server, room: Council, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_socket, "AUTH_TIMEOUT_SECONDS", 0.3)
    silent = await open_socket(server, room.meeting_id)
    code, reason = await silent.closed(timeout=5)
    assert code == 4401 and "auth" in reason


async def test_resyncs_are_bounded_in_rate_and_in_length(
    server: Server, room: Council, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_socket, "REPLAY_LIMIT", 2)
    chair, snapshot = await join(server, room.api, room.meeting_id, "chair")
    start = snapshot["seq"]
    for status in ("scheduled", "live"):
        await room.api.ok("POST", f"{room.url}/status", "secretary", json={"status": status})
    await room.api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Mục mới"})
    await chair.quiet()
    # Three events behind, more than the replay limit: a snapshot instead of a long replay.
    await chair.send({"type": "resync", "lastSeq": start, "ref": "r1"})
    answer = await chair.recv()
    assert answer["type"] == "room.snapshot" and answer["seq"] == start + 3
    # A second resync within the second is refused, and the socket stays open.
    await chair.send({"type": "resync", "lastSeq": start + 2, "ref": "r2"})
    refused = await chair.until("error")
    assert (refused["code"], refused["ref"]) == ("room.resync_too_often", "r2")
    await asyncio.sleep(room_socket.RESYNC_INTERVAL_SECONDS)
    await chair.send({"type": "resync", "lastSeq": start + 2, "ref": "r3"})
    replayed = [await chair.recv(), await chair.recv()]
    assert [m["type"] for m in replayed][-1] == "room.replayed" and replayed[-1]["seq"] == start + 3
    await chair.close()
