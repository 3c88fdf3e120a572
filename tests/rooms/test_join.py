"""Joining a meeting room: who gets in, how refusals close, what the snapshot holds."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.sockets import join, open_socket

if TYPE_CHECKING:
    from tests.support.api import Council
    from tests.support.servers import Server
    from tests.support.sockets import Socket


async def test_participant_joins_and_receives_snapshot(server: Server, room: Council) -> None:
    api = room.api
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "scheduled"})
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "live"})
    item = await api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Báo cáo ngân sách"})
    await api.ok("POST", f"{room.url}/agenda/{item['id']}/status", "chair", json={"status": "active"})
    await api.ok("PUT", f"{room.url}/attendance/me", "delegate1", json={"attendance": "in_room"})
    sock, snapshot = await join(server, api, room.meeting_id, "delegate1")
    assert snapshot["type"] == "room.snapshot"
    assert snapshot["meetingId"] == room.meeting_id
    assert snapshot["you"] == api.ids["delegate1"]
    assert snapshot["yourRole"] == "delegate"
    assert snapshot["meetingStatus"] == "live"
    assert snapshot["activeItem"]["id"] == item["id"]
    assert snapshot["presenter"]["userId"] is None
    assert snapshot["speakers"]["waiting"] == [] and snapshot["speakers"]["speaking"] is None
    presence = {p["userId"]: p for p in snapshot["presence"]}
    assert presence[api.ids["delegate1"]]["connected"] is True
    assert presence[api.ids["delegate1"]]["attendance"] == "in_room"
    assert presence[api.ids["delegate2"]]["connected"] is False
    assert snapshot["seq"] >= 1
    await sock.close()


async def test_others_see_presence_changes(server: Server, room: Council) -> None:
    first, _ = await join(server, room.api, room.meeting_id, "chair")
    second, _ = await join(server, room.api, room.meeting_id, "delegate2")
    joined = await first.until("presence.changed", userId=room.api.ids["delegate2"])
    assert joined["connected"] is True and joined["seq"] > 0
    await second.close()
    left = await first.until("presence.changed", userId=room.api.ids["delegate2"], connected=False)
    assert left["seq"] > joined["seq"]
    await first.close()


async def test_outsider_is_refused_as_if_the_meeting_did_not_exist(server: Server, room: Council) -> None:
    sock = await open_socket(server, room.meeting_id)
    await sock.send({"type": "auth", "token": room.api.tokens["outsider"]})
    code, reason = await sock.closed()
    # As over HTTP: a meeting you are not invited to is not shown to exist.
    assert (code, reason) == (4404, f"meeting {room.meeting_id} not found")


@pytest.mark.parametrize("offset", [999, 2**70])  # an id past 64 bits names no meeting either
async def test_unknown_meeting_is_refused_with_4404(server: Server, room: Council, offset: int) -> None:
    sock = await open_socket(server, room.meeting_id + offset)
    await sock.send({"type": "auth", "token": room.api.tokens["delegate1"]})
    code, _ = await sock.closed()
    assert code == 4404


async def test_bad_token_is_refused_with_4401(server: Server, room: Council) -> None:
    sock = await open_socket(server, room.meeting_id)
    await sock.send({"type": "auth", "token": "not-a-token"})
    code, _ = await sock.closed()
    assert code == 4401


async def test_first_message_must_be_auth(server: Server, room: Council) -> None:
    sock = await open_socket(server, room.meeting_id)
    await sock.send({"type": "ping"})
    code, reason = await sock.closed()
    assert code == 4401 and "auth" in reason


async def test_session_cookie_authenticates(server: Server, room: Council) -> None:
    cookie = f"meeting_session={room.api.tokens['delegate1']}"
    sock = await open_socket(server, room.meeting_id, headers={"Cookie": cookie})
    await sock.send({"type": "auth"})
    snapshot = await sock.recv()
    assert snapshot["type"] == "room.snapshot" and snapshot["you"] == room.api.ids["delegate1"]
    await sock.close()


async def test_foreign_origin_is_refused(server: Server, room: Council) -> None:
    sock = await open_socket(server, room.meeting_id, origin="https://evil.example")
    code, reason = await sock.closed()
    assert code == 4403 and "origin" in reason


async def test_same_origin_is_accepted(server: Server, room: Council) -> None:
    sock = await open_socket(server, room.meeting_id, origin=server.http)
    await sock.send({"type": "auth", "token": room.api.tokens["delegate1"]})
    assert (await sock.recv())["type"] == "room.snapshot"
    await sock.close()


async def test_sockets_per_user_are_capped(server: Server, room: Council) -> None:
    socks = [(await join(server, room.api, room.meeting_id, "guest"))[0] for _ in range(5)]
    extra = await open_socket(server, room.meeting_id)
    await extra.send({"type": "auth", "token": room.api.tokens["guest"]})
    code, _ = await extra.closed()
    assert code == 4429
    for sock in socks:
        await sock.close()


async def test_a_burst_of_connects_by_one_user_is_capped_too(server: Server, room: Council) -> None:
    async def connect() -> tuple[Socket, str]:
        sock = await open_socket(server, room.meeting_id)
        await sock.send({"type": "auth", "token": room.api.tokens["guest"]})
        try:
            return sock, (await sock.recv())["type"]
        except ConnectionClosed as exc:
            return sock, f"closed {exc.rcvd.code if exc.rcvd else None}"

    outcomes = await asyncio.gather(*(connect() for _ in range(12)))
    kinds = sorted(kind for _, kind in outcomes)
    assert kinds == ["closed 4429"] * 7 + ["room.snapshot"] * 5
    for sock, _ in outcomes:
        await sock.close()


async def test_removed_participant_is_disconnected_at_once(server: Server, room: Council) -> None:
    sock, _ = await join(server, room.api, room.meeting_id, "delegate2")
    await room.api.ok("DELETE", f"{room.url}/participants/{room.participant_ids['delegate2']}", "secretary")
    code, _ = await sock.closed()
    assert code == 4403
