"""Two processes behind PostgreSQL and Redis; one is killed with SIGKILL mid-meeting.

The other keeps serving, the killed process's tablets move over and catch up by seq, and the users who
never come back stop counting as connected once the dead process misses its heartbeats.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from meeting.rooms.presence import HEARTBEAT_SECONDS, PROCESS_TTL_SECONDS
from tests.support.api import add_document, api_for, build_council
from tests.support.backends import TEST_REDIS_URL, empty_tables, needs_postgresql_and_redis
from tests.support.servers import deployment, server_processes
from tests.support.sockets import join

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.sockets import Socket

pytestmark = [pytest.mark.slow, needs_postgresql_and_redis]

WAIT = 15.0
# The survivor notices a dead process after its TTL, at its next heartbeat; a loaded machine adds some.
SWEEP_WAIT = PROCESS_TTL_SECONDS + 2 * HEARTBEAT_SECONDS + 10.0


async def _page_turn(sock: Socket, page: int) -> dict[str, Any]:
    """The room's page.turn to `page` (it may have arrived before the ack that `acked` waited for)."""
    for message in sock.seen:
        if message["type"] == "page.turn" and message["presenter"]["page"] == page:
            return message
    while True:
        message = await sock.until("page.turn", WAIT)
        if message["presenter"]["page"] == page:
            return message


def _presence(snapshot: dict[str, Any]) -> set[int]:
    return {p["userId"] for p in snapshot["presence"] if p["connected"]}


async def test_killing_one_of_two_processes_leaves_the_other_serving(
    postgres_url: str, tmp_path: Path
) -> None:
    await empty_tables(postgres_url)
    assert TEST_REDIS_URL is not None
    here = deployment(tmp_path, DATABASE_URL=postgres_url, REDIS_URL=TEST_REDIS_URL)
    async with server_processes(here.env, 2) as [(doomed, a), (_, b)], api_for(here.settings, b.http) as api:
        council = await build_council(api)
        doc = await add_document(api, council.meeting_id, pages=3)
        shown = {"type": "page.turn", "documentId": doc.document_id, "versionId": doc.version_id}
        for status in ("scheduled", "live"):
            await api.ok("POST", f"{council.url}/status", "secretary", json={"status": status})
        chair, _ = await join(b, api, council.meeting_id, "chair")
        delegate1, _ = await join(a, api, council.meeting_id, "delegate1")
        delegate2, _ = await join(a, api, council.meeting_id, "delegate2")
        for name in ("delegate1", "delegate2"):
            await chair.until("presence.changed", userId=api.ids[name], connected=True)
        await chair.acked({**shown, "page": 2}, WAIT)
        last_seq = (await delegate1.until("page.turn"))["seq"]

        doomed.send_signal(signal.SIGKILL)
        doomed.wait(WAIT)
        for sock in (delegate1, delegate2):
            code, _ = await sock.closed(WAIT)
            assert code != 1000

        # The survivor serves HTTP and the room as before.
        async with httpx.AsyncClient(timeout=WAIT) as http:
            assert (await http.get(f"{b.http}/health")).status_code == 200
        await chair.acked({**shown, "page": 3}, WAIT)
        missed = await _page_turn(chair, 3)

        # delegate1's tablet moves over and gets exactly what it missed.
        moved, replay = await join(b, api, council.meeting_id, "delegate1", last_seq=last_seq)
        replayed = [replay]
        while replayed[-1]["type"] != "room.replayed":
            replayed.append(await moved.recv(WAIT))
        assert [m["seq"] for m in replayed[:-1]] == list(range(last_seq + 1, replayed[-1]["seq"] + 1))
        assert missed in replayed

        # delegate2 never comes back: once the dead process is swept the room hears it left.
        gone = await chair.until(
            "presence.changed", timeout=SWEEP_WAIT, userId=api.ids["delegate2"], connected=False
        )
        assert gone["seq"] > missed["seq"]
        left = [
            m
            for m in chair.seen
            if m["type"] == "presence.changed" and not m["connected"] and m["userId"] == api.ids["delegate1"]
        ]
        assert left == []  # delegate1 is connected through the survivor all along

        fresh, snapshot = await join(b, api, council.meeting_id, "guest")
        assert _presence(snapshot) == {api.ids["chair"], api.ids["delegate1"], api.ids["guest"]}
        for sock in (fresh, moved, chair):
            await sock.close()
