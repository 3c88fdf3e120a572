"""SIGKILL mid-meeting, restart on the same port: the room is as it was and missed events replay by seq."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.api import add_document, api_for, build_council
from tests.support.servers import deployment, migrate, start_server, stop_server
from tests.support.sockets import Socket, join, shared_highlight

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.api import Api, Council, DocumentRef
    from tests.support.servers import Server

pytestmark = pytest.mark.slow

KILLS = 3  # the meeting moves on and the process is killed this many times in one test
WAIT = 15.0  # generous: a loaded 2-core machine


def _room(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The persistent part of a snapshot.

    Leaves out who is connected, clock readings and `seq` (presence changes are sequenced events too).
    """
    speakers = {k: v for k, v in snapshot["speakers"].items() if k not in ("elapsedSeconds", "asOf")}
    return {
        "meetingStatus": snapshot["meetingStatus"],
        "activeItem": snapshot["activeItem"],
        "presenter": snapshot["presenter"],
        "speakers": speakers,
        "poll": snapshot["poll"],
    }


async def _state(
    server: Server, api: Api, council: Council, doc: DocumentRef
) -> tuple[dict[str, Any], list[str], Any]:
    """The room snapshot, the saved annotation ids and the open poll, as a fresh tablet sees them."""
    sock, snapshot = await join(server, api, council.meeting_id, "guest")
    await sock.close()
    assert snapshot["type"] == "room.snapshot"
    listed = await api.ok("GET", doc.annotations_url, "delegate1")
    ids = sorted(a["id"] for p in listed["pages"] for a in p["annotations"])
    poll = await api.ok("GET", f"{council.url}/polls/{snapshot['poll']['id']}", "chair")
    return _room(snapshot), ids, poll


async def test_sigkill_mid_meeting_loses_nothing_acknowledged(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    here = deployment(tmp_path / "data", **backend)
    await migrate(here.settings)
    process, server = await start_server(here.env)
    port = int(server.http.rsplit(":", 1)[1])
    try:
        async with api_for(here.settings, server.http) as api:
            council = await build_council(api)
            doc = await add_document(api, council.meeting_id, pages=KILLS + 1)
            item = await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Ngân sách"})
            for status in ("scheduled", "live"):
                await api.ok("POST", f"{council.url}/status", "secretary", json={"status": status})
            for name in ("delegate1", "delegate2"):
                await api.ok("PUT", f"{council.url}/attendance/me", name, json={"attendance": "in_room"})
            chair, _ = await join(server, api, council.meeting_id, "chair")
            await chair.acked({"type": "agenda.item", "itemId": item["id"], "status": "active"}, WAIT)
            poll = await api.ok(
                "POST",
                f"{council.url}/polls",
                "secretary",
                json={"itemId": item["id"], "question": "Thông qua?", "kind": "secret"},
            )
            await api.ok("POST", f"{council.url}/polls/{poll['id']}/open", "chair")

            for kill in range(KILLS):
                # delegate2's tablet drops out; the meeting goes on without it, then the server dies.
                tablet, first = await join(server, api, council.meeting_id, "delegate2")
                last_seq = first["seq"]
                await tablet.close()
                await chair.acked(
                    {
                        "type": "page.turn",
                        "documentId": doc.document_id,
                        "versionId": doc.version_id,
                        "page": kill + 2,
                    },
                    WAIT,
                )
                delegate, _ = await join(server, api, council.meeting_id, "delegate1")
                await delegate.acked(shared_highlight(doc, kill + 2), WAIT)
                if kill == 0:
                    await delegate.acked({"type": "speaker.request"}, WAIT)
                    voted = await api.call(
                        "POST", f"{council.url}/polls/{poll['id']}/ballots", "delegate1", json={"choice": [0]}
                    )
                    assert voted.status_code < 300, voted.text
                    await chair.acked({"type": "speaker.grant"}, WAIT)
                elif kill == 1:
                    await chair.acked({"type": "speaker.end"}, WAIT)
                    await delegate.acked({"type": "speaker.request"}, WAIT)  # waiting in the queue
                before = await _state(server, api, council, doc)
                missed = [m for m in (await _drain(chair)) if m.get("seq", 0) > last_seq]
                assert {"page.turn", "annotation.add"} <= {m["type"] for m in missed}

                process.send_signal(signal.SIGKILL)
                process.wait(WAIT)
                for sock in (chair, delegate):
                    code, _ = await sock.closed(WAIT)
                    assert code != 1000  # no clean close from a killed process
                process, server = await start_server(here.env, port=port)

                after = await _state(server, api, council, doc)
                assert after == before
                # The tablet that dropped out catches up on exactly what it missed, in order.
                tablet, replay = await join(server, api, council.meeting_id, "delegate2", last_seq=last_seq)
                replayed = [replay]
                while replayed[-1]["type"] != "room.replayed":
                    replayed.append(await tablet.recv(WAIT))
                assert [m["seq"] for m in replayed[:-1]] == list(range(last_seq + 1, replayed[-1]["seq"] + 1))
                assert replayed[: len(missed)] == missed  # every event sent before the kill, unchanged
                # After those, only the presence of tablets that joined the restarted server.
                assert {m["type"] for m in replayed[len(missed) : -1]} <= {"presence.changed"}
                await tablet.close()
                chair, _ = await join(server, api, council.meeting_id, "chair", last_seq=replayed[-1]["seq"])
            snapshot, annotations, open_poll = await _state(server, api, council, doc)
            assert len(annotations) == KILLS
            assert open_poll["state"] == "open" and open_poll["cast"] == 1
            assert snapshot["presenter"]["page"] == KILLS + 1
            assert [w["userId"] for w in snapshot["speakers"]["waiting"]] == [api.ids["delegate1"]]
            await chair.close()
            # The sealed secret ballot, acknowledged before the kills, opens and counts after them.
            closed = await api.ok("POST", f"{council.url}/polls/{poll['id']}/close", "chair")
            assert (closed["result"]["counts"], closed["result"]["ballots"]) == ([1, 0, 0], 1)
    finally:
        stop_server(process)


async def _drain(sock: Socket) -> list[dict[str, Any]]:
    """Everything the always-connected chair received so far (the reference log)."""
    await sock.quiet(0.5)
    return [m for m in sock.seen if m.get("seq", 0) > 0 and m["type"] != "room.snapshot"]
