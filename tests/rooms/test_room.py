"""The room in use: follow the presenter, pointer, annotations, speakers, agenda, resync, robustness."""

from __future__ import annotations

import asyncio
import dataclasses
import socket as socketlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.servers import LoopServer, serve
from tests.support.sockets import Socket, join, open_socket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from meeting.settings import Settings
    from tests.support.api import Council, DocumentRef
    from tests.support.servers import Server


def turn(doc: DocumentRef, page: int, ref: str = "t") -> dict[str, Any]:
    """A page.turn message to a page of the document."""
    return {
        "type": "page.turn",
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": page,
        "viewport": {"zoom": 1.5},
        "ref": ref,
    }


def note(
    doc: DocumentRef, visibility: str, page: int = 2, text: str = "ghi chú", id_: str | None = None
) -> dict[str, Any]:
    """An annotation.add message: a note on a page of the document."""
    return {
        "type": "annotation.add",
        "id": id_ or uuid.uuid4().hex,
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": page,
        "kind": "note",
        "visibility": visibility,
        "payload": {"x": 0.5, "y": 0.25, "text": text},
        "ref": "a",
    }


async def test_followers_receive_presenter_page_turn(server: Server, room: Council, doc: DocumentRef) -> None:
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await chair.send(turn(doc, 3))
    await chair.until("ack", ref="t")
    moved = await delegate.until("page.turn")
    assert moved["presenter"] == {
        "userId": room.api.ids["chair"],
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 3,
        "viewport": {"x": 0.0, "y": 0.0, "zoom": 1.5},
    }
    late, snapshot = await join(server, room.api, room.meeting_id, "delegate2")
    assert snapshot["presenter"]["page"] == 3 and snapshot["presenter"]["userId"] == room.api.ids["chair"]
    for sock in (chair, delegate, late):
        await sock.close()


async def test_only_the_presenter_moves_the_room(server: Server, room: Council, doc: DocumentRef) -> None:
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await chair.send(turn(doc, 2))
    await delegate.until("page.turn")
    await delegate.send(turn(doc, 9, ref="mine"))
    refused = await delegate.until("error", ref="mine")
    assert (refused["status"], refused["code"]) == (4403, "presenter.only")
    assert not [m for m in await chair.quiet() if m["type"] == "page.turn" and m["presenter"]["page"] == 9]
    # The chair hands the room to delegate1, who may now move it.
    await chair.send({"type": "presenter.set", "userId": room.api.ids["delegate1"], "ref": "p"})
    changed = await delegate.until("presenter.changed")
    assert changed["presenter"]["userId"] == room.api.ids["delegate1"] and changed["presenter"]["page"] == 2
    await delegate.send(turn(doc, 5, ref="now"))
    await delegate.until("ack", ref="now")
    assert (await chair.until("page.turn"))["presenter"]["page"] == 5
    # A delegate cannot choose the presenter.
    await delegate.send({"type": "presenter.set", "userId": room.api.ids["delegate2"], "ref": "x"})
    refused = await delegate.until("error", ref="x")
    assert (refused["status"], refused["code"]) == (4403, "presenter.chair_only")
    await chair.close()
    await delegate.close()


async def test_pointer_reaches_followers_unsequenced_and_only_from_presenter(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await chair.send(turn(doc, 1))
    await delegate.until("page.turn")
    await chair.send({"type": "pointer.move", "x": 0.5, "y": 0.25})
    pointer = await delegate.until("pointer.move")
    assert pointer == {"type": "pointer.move", "seq": 0, "userId": room.api.ids["chair"], "x": 0.5, "y": 0.25}
    await delegate.send({"type": "pointer.move", "x": 0.1, "y": 0.1, "ref": "pt"})
    assert (await delegate.until("error", ref="pt"))["status"] == 4403
    await chair.close()
    await delegate.close()


async def test_private_annotation_reaches_only_the_authors_devices(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    tablet, _ = await join(server, room.api, room.meeting_id, "delegate1")
    laptop, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    message = note(doc, "private", text="bí mật")
    await tablet.send(message)
    ack = await tablet.until("ack", ref="a")
    assert ack["result"]["id"] == message["id"] and ack["result"]["visibility"] == "private"
    mirrored = await laptop.until("annotation.add")
    assert mirrored["seq"] == 0 and mirrored["annotation"]["payload"]["text"] == "bí mật"
    for sock in (other, chair):
        assert not [m for m in await sock.quiet() if "bí mật" in str(m)]
    # Nor does it reach anyone over REST or in the replay log.
    url = doc.annotations_url
    assert (await room.api.ok("GET", url, "delegate2"))["pages"] == []
    assert (await room.api.ok("GET", url, "chair"))["pages"] == []
    mine = await room.api.ok("GET", url, "delegate1")
    assert [a["id"] for p in mine["pages"] for a in p["annotations"]] == [message["id"]]
    late, _ = await join(server, room.api, room.meeting_id, "delegate2", last_seq=0)
    replayed = [late.seen[0], *await late.quiet()]
    assert not [m for m in replayed if "bí mật" in str(m)]
    for sock in (tablet, laptop, other, chair, late):
        await sock.close()


async def test_shared_annotation_is_broadcast_and_listed_by_page(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    first, second = note(doc, "shared", page=4, text="chung"), note(doc, "shared", page=2, text="trang 2")
    await author.send(first)
    await author.send(second)
    received = await other.until("annotation.add")
    assert received["seq"] > 0 and received["annotation"]["payload"]["text"] == "chung"
    await other.until("annotation.add")
    listed = await room.api.ok("GET", doc.annotations_url, "guest")
    assert [(p["page"], [a["id"] for a in p["annotations"]]) for p in listed["pages"]] == [
        (2, [second["id"]]),
        (4, [first["id"]]),
    ]
    # Others may not edit it; the chair may delete a shared one.
    await other.send(
        {
            "type": "annotation.update",
            "id": first["id"],
            "payload": {"x": 0.1, "y": 0.1, "text": "sửa"},
            "ref": "u",
        }
    )
    assert (await other.until("error", ref="u"))["status"] == 4403
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    await chair.send({"type": "annotation.delete", "id": first["id"], "ref": "d"})
    await chair.until("ack", ref="d")
    gone = await other.until("annotation.delete")
    assert gone["annotation"]["id"] == first["id"] and gone["annotation"]["deleted"] is True
    for sock in (author, other, chair):
        await sock.close()


async def test_retried_annotation_is_stored_once(server: Server, room: Council, doc: DocumentRef) -> None:
    sock, _ = await join(server, room.api, room.meeting_id, "delegate1")
    message = note(doc, "shared", text="một lần")
    await sock.send(message)
    await sock.until("ack", ref="a")
    await sock.close()
    again, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await again.send(message)
    ack = await again.until("ack", ref="a")
    assert ack["result"]["id"] == message["id"]
    listed = await room.api.ok("GET", doc.annotations_url, "delegate1")
    assert sum(len(p["annotations"]) for p in listed["pages"]) == 1
    # Someone else reusing the id is told to pick another, and the original stays intact.
    thief, _ = await join(server, room.api, room.meeting_id, "delegate2")
    await thief.send({**message, "payload": {"x": 0.1, "y": 0.1, "text": "chiếm"}})
    assert (await thief.until("error", ref="a"))["status"] == 4422
    await again.close()
    await thief.close()


async def test_reconnect_with_last_seq_replays_exactly_the_missed_events(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await chair.send(turn(doc, 1, ref="t1"))
    last = (await delegate.until("page.turn"))["seq"]
    await delegate.close()
    for page in (2, 3, 4):
        await chair.send(turn(doc, page, ref=f"t{page}"))
        await chair.until("ack", ref=f"t{page}")
    back, first = await join(server, room.api, room.meeting_id, "delegate1", last_seq=last)
    replay = [first]
    while replay[-1]["type"] != "room.replayed":
        replay.append(await back.recv())
    events, done = replay[:-1], replay[-1]
    assert [e["seq"] for e in events] == list(range(last + 1, done["seq"] + 1))
    assert [e["presenter"]["page"] for e in events if e["type"] == "page.turn"] == [2, 3, 4]
    assert done["count"] == len(events)
    # Nothing is delivered twice afterwards, and live events continue from there.
    await chair.send(turn(doc, 5, ref="t5"))
    live = await back.until("page.turn")
    assert live["seq"] > done["seq"] and live["presenter"]["page"] == 5
    assert all(m["seq"] > done["seq"] for m in back.seen[len(replay) :] if m["seq"])
    await chair.close()
    await back.close()


async def test_unknown_last_seq_gets_a_fresh_snapshot(server: Server, room: Council) -> None:
    sock, first = await join(server, room.api, room.meeting_id, "delegate1", last_seq=10_000)
    assert first["type"] == "room.snapshot"
    await sock.send({"type": "resync"})
    assert (await sock.until("room.snapshot"))["seq"] >= first["seq"]
    await sock.close()


async def test_bad_frames_get_errors_and_the_socket_stays_open(server: Server, room: Council) -> None:
    sock, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await sock.send("{not json")
    refused = await sock.until("error")
    assert (refused["status"], refused["code"]) == (4400, "request.malformed")
    await sock.send({"type": "teleport"})
    refused = await sock.until("error")
    assert (refused["status"], refused["code"]) == (4422, "request.invalid")
    await sock.send({"type": "page.turn", "documentId": 7, "versionId": 12, "page": 0, "ref": "z"})
    assert "page" in (await sock.until("error"))["detail"]
    await sock.send({"type": "ping", "color": "red"})
    assert "color" in (await sock.until("error"))["detail"]
    await sock.send({"type": "ping", "ref": "x" * (70 * 1024)})
    refused = await sock.until("error")
    assert (refused["status"], refused["code"]) == (4413, "request.too_large")
    deep = "[" * 2000 + "]" * 2000  # well under the frame limit, far past any decoder's recursion limit
    payload = '{"points": ' + deep + "}"
    await sock.send(
        '{"type": "annotation.add", "id": "deep0001", "documentId": 1, "versionId": 1, "page": 1,'
        ' "kind": "ink", "visibility": "shared", "payload": ' + payload + "}"
    )
    refused = await sock.until("error")
    assert (refused["status"], refused["code"]) == (4400, "request.malformed")
    await sock.send({"type": "ping", "ref": "still-open"})
    assert (await sock.until("pong"))["ref"] == "still-open"
    await sock.close()


async def test_flooding_client_is_rate_limited(server: Server, room: Council) -> None:
    sock, _ = await join(server, room.api, room.meeting_id, "delegate1")
    for index in range(100):
        await sock.send({"type": "ping", "ref": str(index)})
    got = await sock.quiet(1.0)
    pongs = [m for m in got if m["type"] == "pong"]
    limited = [m for m in got if m["type"] == "error" and m["code"] == "request.rate_limited"]
    assert 20 <= len(pongs) < 100 and limited
    await asyncio.sleep(1.0)
    await sock.send({"type": "ping", "ref": "later"})
    assert (await sock.until("pong"))["ref"] == "later"
    await sock.close()


async def test_speaker_queue_round_trip_survives_reconnect(server: Server, room: Council) -> None:
    api = room.api
    chair, _ = await join(server, api, room.meeting_id, "chair")
    one, _ = await join(server, api, room.meeting_id, "delegate1")
    two, _ = await join(server, api, room.meeting_id, "delegate2")
    await one.send({"type": "speaker.request", "ref": "r"})
    await one.until("ack", ref="r")
    await two.send({"type": "speaker.request", "ref": "r"})
    await two.until("ack", ref="r")
    await one.send({"type": "speaker.request", "ref": "again"})
    refused = await one.until("error", ref="again")
    assert (refused["status"], refused["code"]) == (4409, "speaker.already_waiting")
    queue = await chair.until("speaker.queue", action="request", userId=api.ids["delegate2"])
    assert [w["userId"] for w in queue["speakers"]["waiting"]] == [api.ids["delegate1"], api.ids["delegate2"]]
    await one.send({"type": "speaker.grant", "ref": "g"})
    assert (await one.until("error", ref="g"))["status"] == 4403
    await chair.send({"type": "speaker.reorder", "userIds": [api.ids["delegate2"], api.ids["delegate1"]]})
    await chair.until("speaker.queue", action="reorder")
    await chair.send({"type": "speaker.grant", "ref": "g"})
    granted = await one.until("speaker.queue", action="grant")
    assert granted["speakers"]["speaking"]["userId"] == api.ids["delegate2"]
    assert [w["userId"] for w in granted["speakers"]["waiting"]] == [api.ids["delegate1"]]
    await one.close()
    back, snapshot = await join(server, api, room.meeting_id, "delegate1")
    assert snapshot["speakers"]["speaking"]["userId"] == api.ids["delegate2"]
    assert snapshot["speakers"]["elapsedSeconds"] >= 0
    assert [w["userId"] for w in snapshot["speakers"]["waiting"]] == [api.ids["delegate1"]]
    await back.send({"type": "speaker.withdraw", "ref": "w"})
    await back.until("ack", ref="w")
    await two.send({"type": "speaker.end", "ref": "e"})
    ended = await chair.until("speaker.queue", action="end")
    assert ended["speakers"]["speaking"] is None and ended["speakers"]["waiting"] == []
    for sock in (chair, back, two):
        await sock.close()


async def test_chair_runs_the_agenda_over_the_socket(server: Server, room: Council) -> None:
    api = room.api
    item = await api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Bầu cử"})
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "scheduled"})
    chair, _ = await join(server, api, room.meeting_id, "chair")
    delegate, _ = await join(server, api, room.meeting_id, "delegate1")
    await delegate.send({"type": "meeting.status", "status": "live", "ref": "no"})
    refused = await delegate.until("error", ref="no")
    assert (refused["status"], refused["code"]) == (4403, "meeting.chair_or_secretary_only")
    await chair.send({"type": "meeting.status", "status": "live", "ref": "m"})
    assert (await delegate.until("meeting.changed"))["meeting"]["status"] == "live"
    await chair.send({"type": "agenda.item", "itemId": item["id"], "status": "active", "ref": "i"})
    changed = await delegate.until("agenda.changed")
    assert changed["items"][0]["status"] == "active"
    assert (await api.ok("GET", f"{room.url}/agenda", "delegate1"))[0]["status"] == "active"
    await chair.close()
    await delegate.close()


async def test_the_secretary_may_over_the_socket_what_they_may_over_http(
    server: Server, room: Council
) -> None:
    api = room.api
    item = await api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Bầu cử"})
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "scheduled"})
    secretary, _ = await join(server, api, room.meeting_id, "secretary")
    await secretary.send({"type": "meeting.status", "status": "live", "ref": "m"})
    assert (await secretary.until("meeting.changed"))["meeting"]["status"] == "live"
    await secretary.send({"type": "agenda.item", "itemId": item["id"], "status": "active", "ref": "i"})
    await secretary.until("ack", ref="i")
    # Handing the floor stays the chair's, on either transport.
    await secretary.send({"type": "speaker.grant", "ref": "g"})
    refused = await secretary.until("error", ref="g")
    assert (refused["status"], refused["code"]) == (4403, "meeting.chair_only")
    await secretary.close()


async def test_disabled_user_is_disconnected_at_once(server: Server, room: Council) -> None:
    sock, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await room.api.ok("PATCH", f"/api/users/{room.api.ids['delegate1']}", "admin", json={"isActive": False})
    code, _ = await sock.closed()
    assert code == 4401


async def test_logout_closes_only_the_sockets_of_that_token(server: Server, room: Council) -> None:
    api = room.api
    # A second device of the same delegate, logged in with a token of its own.
    phone_token = await api.mint("delegate1")
    tablet, _ = await join(server, api, room.meeting_id, "delegate1")
    phone = await open_socket(server, room.meeting_id)
    await phone.send({"type": "auth", "token": phone_token})
    assert (await phone.recv())["type"] == "room.snapshot"
    await api.ok("POST", "/api/auth/logout", "delegate1")
    code, _ = await tablet.closed()
    assert code == 4401
    await phone.send({"type": "ping", "ref": "still-here"})
    assert (await phone.recv()) == {"type": "pong", "seq": 0, "ref": "still-here"}
    await phone.close()


@pytest.fixture
async def tight_server(settings: Settings) -> AsyncIterator[Server]:
    """A server with a tiny outgoing queue and no practical inbound limit."""
    tight = dataclasses.replace(settings, socket_queue_limit=8, socket_messages_per_second=10_000)
    async with serve(tight) as urls:
        yield urls


async def _rendered(room: Council, doc: DocumentRef) -> None:
    """Wait until every page of `doc` is rendered: each is announced to the room as it is done."""
    status = f"{room.url}/documents/{doc.document_id}/status"
    for _ in range(400):
        if (await room.api.ok("GET", status, "secretary"))["done"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {doc.document_id} was not rendered in 20 s")


async def test_stalled_client_is_closed_for_resync_without_slowing_others(
    tight_server: Server, room: Council, doc: DocumentRef
) -> None:
    from websockets.asyncio.client import connect

    api = room.api
    server = tight_server
    # Only the strokes below may fill the sockets' queues.
    await _rendered(room, doc)
    fast, _ = await join(server, api, room.meeting_id, "delegate2")
    # A client that stops reading: tiny receive queue, tiny TCP buffer.
    raw = socketlib.socket()
    # A fixed, tiny receive buffer turns off autotuning (up to 32 MiB here), so backpressure comes soon.
    raw.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_RCVBUF, 4096)
    raw.setblocking(False)
    host, port = server.http.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
    stalled_conn = await connect(
        f"{server.ws}/api/meetings/{room.meeting_id}/socket",
        sock=raw,
        max_queue=1,
        max_size=None,
        compression=None,
    )
    stalled: Socket = Socket(stalled_conn)
    await stalled.send({"type": "auth", "token": api.tokens["guest"]})
    await stalled.recv()
    writer, _ = await join(server, api, room.meeting_id, "delegate1")
    # Long strokes (2000 points, ~20 KB a frame): the stalled socket's buffers fill soon. Corner to
    # corner, so the numbers are short and cheap to encode and parse for the fast client.
    points = [[i % 2, 1 - i % 2] for i in range(2000)]
    big = {**note(doc, "shared"), "kind": "ink", "payload": {"points": points, "width": 3}}
    sent = 250
    for index in range(sent):
        await writer.send({**big, "id": uuid.uuid4().hex, "ref": f"n{index}"})
    received = 0
    while received < sent:
        message = await fast.recv(10)
        received += message["type"] == "annotation.add"
    assert received == sent  # the fast client got every one, none lost
    code, reason = await stalled.closed(10)
    assert code == 4409, reason
    await fast.close()
    await writer.close()


@pytest.fixture
async def forgetful_server(settings: Settings) -> AsyncIterator[Server]:
    """A server that keeps only the newest 3 events per meeting."""
    async with serve(dataclasses.replace(settings, room_event_retention=3)) as urls:
        yield urls


async def test_reconnect_after_too_many_events_gets_a_snapshot(
    forgetful_server: Server, room: Council, doc: DocumentRef
) -> None:
    server = forgetful_server
    # Only the page turns below may push events out of the 3 kept: a render's progress events would
    # trim the one a slow publication still owes the room, and it would close every socket to resync.
    await _rendered(room, doc)
    chair, snapshot = await join(server, room.api, room.meeting_id, "chair")
    old = snapshot["seq"]
    for page in range(1, 7):
        await chair.send(turn(doc, page, ref=f"t{page}"))
        await chair.until("ack", ref=f"t{page}")
    back, first = await join(server, room.api, room.meeting_id, "delegate1", last_seq=old)
    assert first["type"] == "room.snapshot" and first["presenter"]["page"] == 6
    # Recent gaps are still replayed.
    recent = first["seq"]
    await back.close()
    await chair.send(turn(doc, 7, ref="t7"))
    await chair.until("ack", ref="t7")
    again, replayed = await join(server, room.api, room.meeting_id, "delegate1", last_seq=recent)
    assert replayed["type"] != "room.snapshot" and replayed["seq"] == recent + 1
    for sock in (chair, again):
        await sock.close()


async def test_server_shutdown_closes_sockets_with_restart_code(settings: Settings, room: Council) -> None:
    running = LoopServer(settings)
    await running.start()
    sock, _ = await join(running.urls, room.api, room.meeting_id, "delegate1")
    running.request_stop()
    code, _ = await sock.closed()
    await running.stopped()
    assert code == 1012
