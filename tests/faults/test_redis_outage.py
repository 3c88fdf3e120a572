"""Redis stops mid-meeting: HTTP keeps working, /health says so, and fan-out comes back by itself."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.api import PASSWORD, add_document, api_for, build_council
from tests.support.servers import deployment, free_port, migrate, start_server, stop_server
from tests.support.sockets import Socket, join

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.api import DocumentRef

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

WAIT = 20.0  # generous: a loaded 2-core machine
PAGES = 40  # page turns go on, a page further each time, until fan-out is back


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A private, throwaway Redis on loopback (never the machine's shared one)."""
    return subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(directory)),
        ],
        stdout=subprocess.DEVNULL,
    )


async def _until(check: Any, what: str, timeout: float = WAIT) -> None:
    """Poll an async check until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _turn(chair: Socket, doc: DocumentRef, page: int) -> None:
    ref = f"p{page}"
    turn = {"type": "page.turn", "documentId": doc.document_id, "versionId": doc.version_id, "page": page}
    await chair.send({**turn, "ref": ref})
    while (reply := await chair.recv(WAIT)).get("ref") != ref:
        pass
    assert reply["type"] == "ack", reply  # committed, whatever Redis does


async def test_redis_outage_degrades_then_fan_out_recovers(tmp_path: Path) -> None:
    redis_port = free_port()
    redis = start_redis(redis_port, tmp_path)
    here = deployment(tmp_path / "data", REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    await migrate(here.settings)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process, server = await start_server(here.env, log=log)
    try:
        async with (
            api_for(here.settings, server.http) as api,
            httpx.AsyncClient(base_url=server.http) as http,
        ):

            async def broker(state: str) -> bool:
                response = await http.get("/health")
                return bool(response.status_code == 200 and response.json()["broker"] == state)

            await _until(lambda: broker("up"), "broker up")
            council = await build_council(api)
            doc = await add_document(api, council.meeting_id, pages=PAGES)
            chair, _ = await join(server, api, council.meeting_id, "chair")
            delegate, _ = await join(server, api, council.meeting_id, "delegate1")
            await _turn(chair, doc, 2)
            seen = await delegate.until("page.turn", WAIT)
            last_seq = seen["seq"]

            redis.terminate()
            redis.wait(WAIT)
            # Still 200: the database is up; only the broker is reported down.
            await _until(lambda: broker("down"), "/health to report the broker down")
            await _turn(chair, doc, 3)  # written while Redis is away
            login = await http.post("/api/auth/login", json={"username": "guest", "password": PASSWORD})
            assert login.status_code == 200, login.text  # attempts are limited per process meanwhile
            # A tablet (re)joining meanwhile gets its snapshot from the database.
            late, snapshot = await join(server, api, council.meeting_id, "delegate2")
            assert snapshot["type"] == "room.snapshot" and snapshot["presenter"]["page"] == 3
            meeting = await api.ok("GET", council.url, "secretary")
            assert meeting["id"] == council.meeting_id
            await asyncio.sleep(3)  # a crash loop or a dead listener would show within this
            assert process.poll() is None

            redis = start_redis(redis_port, tmp_path)
            await _until(lambda: broker("up"), "broker up again")
            # Fan-out resumes by itself: a new page turn reaches the connected delegate.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            page = 4
            while True:
                await _turn(chair, doc, page)
                try:
                    await delegate.until("page.turn", 2.0, presenter={**seen["presenter"], "page": page})
                    break
                except TimeoutError:
                    assert loop.time() < deadline, "fan-out did not recover"
                    page += 1
            await late.until("page.turn", WAIT, presenter={**seen["presenter"], "page": page})
            # And a resync by seq fills in what the outage swallowed, in order and without gaps.
            await delegate.send({"type": "resync", "lastSeq": last_seq})
            replay = [await delegate.recv(WAIT)]
            while replay[-1]["type"] != "room.replayed":
                replay.append(await delegate.recv(WAIT))
            # Live events may still trickle in before the replay; the replay itself is what counts.
            by_seq = {m["seq"]: m for m in replay[:-1] if m["seq"] > last_seq}
            assert sorted(by_seq) == list(range(last_seq + 1, replay[-1]["seq"] + 1))
            pages = [
                by_seq[s]["presenter"]["page"] for s in sorted(by_seq) if by_seq[s]["type"] == "page.turn"
            ]
            assert pages == list(range(3, page + 1))
            # The late tablet's subscription was made while Redis was away; it catches up by seq as well.
            await late.send({"type": "resync", "lastSeq": snapshot["seq"]})
            got = await late.until("room.replayed", WAIT)
            assert got["seq"] >= replay[-1]["seq"]
            for sock in (chair, delegate, late):
                await sock.close()
    finally:
        stop_server(process)
        redis.terminate()
        redis.wait(WAIT)
    text = log_path.read_text()
    assert "redis pub/sub connection lost" in text  # the outage is in the log, in plain words
    assert text.count("Traceback") < 20, text[-3000:]  # not a tight loop of crashes


async def test_server_started_while_redis_is_down_serves_then_fans_out_once_it_is_up(tmp_path: Path) -> None:
    redis_port = free_port()
    here = deployment(tmp_path / "data", REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    await migrate(here.settings)
    process, server = await start_server(here.env)
    redis: subprocess.Popen[bytes] | None = None
    try:
        async with (
            api_for(here.settings, server.http) as api,
            httpx.AsyncClient(base_url=server.http) as http,
        ):
            health = await http.get("/health")
            assert (health.status_code, health.json()["broker"]) == (200, "down")
            login = await http.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
            assert login.status_code in (200, 401), login.text  # answered, whatever the password
            council = await build_council(api)
            doc = await add_document(api, council.meeting_id, pages=PAGES)
            chair, _ = await join(server, api, council.meeting_id, "chair")
            delegate, snapshot = await join(server, api, council.meeting_id, "delegate1")
            assert snapshot["type"] == "room.snapshot"
            await _turn(chair, doc, 2)

            redis = start_redis(redis_port, tmp_path)

            async def broker_up() -> bool:
                return bool((await http.get("/health")).json()["broker"] == "up")

            await _until(broker_up, "broker up")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            page = 3
            while True:
                await _turn(chair, doc, page)
                try:
                    while (await delegate.until("page.turn", 2.0))["presenter"]["page"] != page:
                        pass
                    break
                except TimeoutError:
                    assert loop.time() < deadline, "fan-out did not start once Redis came up"
                    page += 1
            for sock in (chair, delegate):
                await sock.close()
    finally:
        stop_server(process)
        if redis is not None:
            redis.terminate()
            redis.wait(WAIT)
