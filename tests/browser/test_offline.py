"""A tablet off the network for over 30 s, in a real browser: it keeps what the delegate drew and catches up.

The delegate's tablet is Chromium with its network switched off (`BrowserContext.set_offline`); the chair
and another delegate are scripted over the room socket, so the room moves on while the tablet is away.
Chromium's offline mode does not close an open WebSocket: it holds its frames both ways until the network
is back, and a close started meanwhile does not finish either. The client therefore drops the socket
itself when the browser reports "offline" or a ping goes unanswered, and queues what the delegate does.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT, Api, Peer, login, needs_chromium

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from playwright.sync_api import BrowserContext, Page, WebSocket, WebSocketRoute

pytestmark = [pytest.mark.browser, needs_chromium]

OFFLINE_SECONDS = 31
# web/js/room.js's heartbeat.
PING_EVERY_MS = 15_000
PONG_TIMEOUT_MS = 8_000


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def save_screenshot(page: Page, path: Path) -> None:
    """A tablet-sized picture of the screen, once toasts and transitions have settled."""
    page.wait_for_timeout(250)
    page.screenshot(path=str(path))


def draw_stroke(page: Page, x: float, y: float) -> None:
    """Drag the pen across the page, starting at (x, y) as fractions of the page."""
    box = page.locator(".page-wrap").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            box["x"] + box["width"] * (x + step * 0.03), box["y"] + box["height"] * (y + step * 0.005)
        )
    page.mouse.up()


def test_tablet_offline_for_30_seconds_catches_up_and_saves_what_it_drew_once(
    new_context: Callable[[], BrowserContext],
    peer: Callable[[int, str], Peer],
    council_meeting: dict[str, Any],
    server: str,
    tmp_path: Path,
) -> None:
    mid = council_meeting["id"]
    document = council_meeting["document"]
    doc_id, version_id = document["id"], document["currentVersion"]["id"]
    annotations_path = f"/api/meetings/{mid}/documents/{doc_id}/versions/{version_id}/annotations"

    chair = peer(mid, "chair")
    chair.call({"type": "meeting.status", "status": "live"})
    chair.call({"type": "page.turn", "documentId": doc_id, "versionId": version_id, "page": 1})
    other = peer(mid, "delegate2")

    context = new_context()
    tablet = context.new_page()
    # Every frame of every socket the tablet opens: (which socket, "sent" or "received", frame).
    frames: list[tuple[int, str, dict[str, Any]]] = []
    sockets: list[WebSocket] = []

    def watch(ws: WebSocket) -> None:
        index = len(sockets)
        sockets.append(ws)
        ws.on("framesent", lambda payload: frames.append((index, "sent", json.loads(payload))))
        ws.on("framereceived", lambda payload: frames.append((index, "received", json.loads(payload))))

    tablet.on("websocket", watch)
    login(tablet, "delegate1")
    tablet.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    tablet.locator(".checkin").get_by_role("button", name="Có mặt").click()
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "1")
    expect(tablet.locator(".follow-state")).to_have_text("Đang theo người trình bày")
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối")
    assert len(sockets) == 1

    # The tablet loses its network: the indicator says so at once.
    context.set_offline(True)
    went_offline = time.monotonic()
    expect(tablet.locator(".conn")).to_have_attribute("data-state", "offline")
    expect(tablet.locator(".conn")).to_have_text("Không có mạng")

    # The room moves on without it: three page turns, and delegate2 annotates the pages.
    for page_number in (2, 3, 4):
        chair.call({"type": "page.turn", "documentId": doc_id, "versionId": version_id, "page": page_number})
    shared_ink = {
        "id": "d2-offline-ink-0001",
        "documentId": doc_id,
        "versionId": version_id,
        "page": 4,
        "kind": "ink",
        "visibility": "shared",
        "payload": {"points": [[0.2, 0.3], [0.5, 0.35], [0.7, 0.32]], "width": 3},
    }
    shared_note = {
        **shared_ink,
        "id": "d2-offline-note-0001",
        "kind": "note",
        "payload": {"x": 0.6, "y": 0.25, "text": "Đề nghị bổ sung số liệu quý IV"},
    }
    for annotation in (shared_ink, shared_note):
        other.call({"type": "annotation.add", **annotation})

    # Offline, the delegate draws a private stroke and writes a shared note: both show at once.
    tablet.get_by_role("button", name="Bút").click()
    draw_stroke(tablet, 0.25, 0.4)
    tablet.get_by_role("button", name="Bút").click()  # tool off
    expect(tablet.locator(".ink-layer polyline.ink.private")).to_have_count(1)
    tablet.get_by_role("button", name="Riêng tư").click()  # private by default; switch to shared
    expect(tablet.locator(".visibility")).to_have_attribute("data-visibility", "shared")
    tablet.get_by_role("button", name="Ghi chú").click()
    box = tablet.locator(".page-wrap").bounding_box()
    assert box is not None
    tablet.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.2)
    tablet.get_by_label("Nội dung ghi chú").fill("Ghi chú khi mất mạng")
    tablet.get_by_role("button", name="Thêm ghi chú").click()
    tablet.get_by_role("button", name="Ghi chú").click()  # tool off
    expect(tablet.locator(".note.shared.mine")).to_have_text("✎Ghi chú khi mất mạng")
    note_id = tablet.locator(".note.mine").get_attribute("data-id")
    stroke_id = tablet.locator(".ink-layer polyline.ink.private").get_attribute("data-id")
    assert note_id and stroke_id
    mine = sorted([note_id, stroke_id])

    # Nothing reached the server yet, and the tablet still shows the page it had.
    delegate_api = Api(server, "delegate1")
    delegate_id = council_meeting["users"]["delegate1"]

    def stored_mine() -> list[str]:
        pages = delegate_api.call("GET", annotations_path)["pages"]
        return sorted(a["id"] for p in pages for a in p["annotations"] if a["authorId"] == delegate_id)

    assert stored_mine() == []
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "1")
    expect(tablet.locator(".conn")).to_have_text("Không có mạng")
    save_screenshot(tablet, tmp_path / "offline.png")

    # Over 30 s away, past the heartbeat's ping and pong deadline: still offline, still nothing sent.
    tablet.wait_for_timeout(max(0.0, OFFLINE_SECONDS - (time.monotonic() - went_offline)) * 1000)
    expect(tablet.locator(".conn")).to_have_text("Không có mạng")
    assert stored_mine() == []

    # Back online: the tablet reconnects by itself and shows where the room is now.
    context.set_offline(False)
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối", timeout=15_000)
    expect(tablet.locator(".conn")).to_have_attribute("data-state", "online")
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "4")
    expect(tablet.locator(".page-label")).to_have_text("4 / 5")
    expect(tablet.locator(".follow-state")).to_have_text("Đang theo người trình bày")
    expect(tablet.locator(f".ink-layer [data-id='{shared_ink['id']}']")).to_have_count(1)
    expect(tablet.locator(f".note[data-id='{shared_note['id']}']")).to_have_text(
        "✎Đề nghị bổ sung số liệu quý IV"
    )
    expect(tablet.locator(".page-img")).to_have_attribute(
        "src", f"{document['currentVersion']['pagesUrl']}/4?width=1280"
    )
    # It resumed on a new socket from the last seq it had: a replay of what it missed, not a snapshot.
    resumed = next(
        index for index, way, frame in frames if way == "received" and frame["type"] == "room.replayed"
    )
    assert resumed > 0
    auth = next(f for i, way, f in frames if i == resumed and way == "sent" and f["type"] == "auth")
    assert auth["lastSeq"] > 0
    received = [f for i, way, f in frames if i == resumed and way == "received"]
    replayed = [
        f["type"] for f in received[: [f["type"] for f in received].index("room.replayed")] if f.get("seq")
    ]
    assert replayed.count("page.turn") == 3 and replayed.count("annotation.add") == 2, replayed
    save_screenshot(tablet, tmp_path / "caught-up.png")

    # What it drew offline was stored once, under the ids the tablet gave it; the shared note reached
    # delegate2 once, the private stroke never.
    wait_until(lambda: stored_mine() == mine)
    other.drain()
    added = [m["annotation"]["id"] for m in other.seen if m["type"] == "annotation.add"]
    assert added.count(note_id) == 1, added
    assert stroke_id not in added
    # Queued, not thrown into the dead socket: each was sent once, on the socket that resumed.
    for annotation_id in mine:
        sent_on = [i for i, way, f in frames if way == "sent" and f.get("id") == annotation_id]
        assert sent_on == [resumed], (annotation_id, sent_on)

    # Another drop and a reload change nothing: no annotation doubles, the tablet follows the room.
    context.set_offline(True)
    expect(tablet.locator(".conn")).to_have_text("Không có mạng")
    context.set_offline(False)
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối", timeout=15_000)
    tablet.reload()
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "4")
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối")
    expect(tablet.locator(".ink-layer polyline.ink.shared")).to_have_count(1)
    for _ in range(3):
        tablet.keyboard.press("ArrowLeft")
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "1")
    expect(tablet.locator(".ink-layer polyline.ink.private")).to_have_count(1)
    expect(tablet.locator(".note.mine")).to_have_count(1)
    other.drain()
    assert stored_mine() == mine
    added = [m["annotation"]["id"] for m in other.seen if m["type"] == "annotation.add"]
    assert added.count(note_id) == 1, added
    sent_adds = [f["id"] for _, way, f in frames if way == "sent" and f["type"] == "annotation.add"]
    assert sorted(sent_adds) == mine, sent_adds


def test_silently_dead_socket_is_given_up_after_the_heartbeat_and_a_fresh_snapshot_brings_all_back(
    new_context: Callable[[], BrowserContext],
    peer: Callable[[int, str], Peer],
    council_meeting: dict[str, Any],
) -> None:
    mid = council_meeting["id"]
    document = council_meeting["document"]
    doc_id, version_id = document["id"], document["currentVersion"]["id"]
    chair = peer(mid, "chair")
    chair.call({"type": "meeting.status", "status": "live"})
    chair.call({"type": "page.turn", "documentId": doc_id, "versionId": version_id, "page": 1})
    other = peer(mid, "delegate2")

    tablet = new_context().new_page()
    # The tablet's sockets go through a relay the test can silence without closing anything, as when a
    # tablet roams to another access point: no frame passes either way, no close ever completes, and the
    # browser still says it is online.
    relays: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def relay(ws: WebSocketRoute) -> None:
        server_side = ws.connect_to_server()
        if relays:
            # Later sockets resume as if the server no longer kept the missed events (a long absence):
            # without `lastSeq` the answer is a fresh snapshot instead of a replay.
            def forget_seq(message: str | bytes) -> None:
                frame = json.loads(message)
                if frame["type"] == "auth":
                    frame.pop("lastSeq", None)
                server_side.send(json.dumps(frame))

            ws.on_message(forget_seq)
        relays.append((ws, server_side))

    tablet.route_web_socket(re.compile(r".*/socket$"), relay)
    # A fake clock that runs at normal speed until the test skips ahead to the heartbeat's deadline.
    tablet.clock.install()
    login(tablet, "delegate1")
    tablet.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    tablet.locator(".checkin").get_by_role("button", name="Có mặt").click()
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "1")
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối")
    assert len(relays) == 1

    page_side, server_side = relays[0]
    page_side.on_message(lambda message: None)
    page_side.on_close(lambda code, reason: None)
    server_side.on_message(lambda message: None)
    chair.call({"type": "page.turn", "documentId": doc_id, "versionId": version_id, "page": 2})
    shared_note = {
        "id": "d2-silent-note-0001",
        "documentId": doc_id,
        "versionId": version_id,
        "page": 2,
        "kind": "note",
        "visibility": "shared",
        "payload": {"x": 0.5, "y": 0.3, "text": "Cần làm rõ nguồn vốn"},
    }
    other.call({"type": "annotation.add", **shared_note})
    tablet.wait_for_timeout(500)
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "1")

    # One ping interval plus the pong timeout later the tablet gives up on the silent socket at once,
    # without waiting for a closing handshake that cannot finish, and resumes on a new one.
    tablet.clock.run_for(PING_EVERY_MS + PONG_TIMEOUT_MS + 2000)
    expect(tablet.locator(".viewer")).to_have_attribute("data-page", "2")
    expect(tablet.locator(".conn")).to_have_text("Đã kết nối")
    assert len(relays) == 2
    # A snapshot carries no annotations: the tablet fetches them, so the note added meanwhile shows.
    expect(tablet.locator(f".note[data-id='{shared_note['id']}']")).to_have_text("✎Cần làm rõ nguồn vốn")
