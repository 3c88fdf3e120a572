"""PostgreSQL stops mid-meeting: quick 503s with a clear message, recovery without restart, no half writes."""

from __future__ import annotations

import asyncio
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.api import add_document, api_for, build_council
from tests.support.servers import deployment, free_port, migrate, start_server, stop_server
from tests.support.sockets import Socket, join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.api import DocumentRef

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
INITDB = BINARIES[-1] if BINARIES else shutil.which("initdb")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(INITDB is None, reason="PostgreSQL's initdb is not installed"),
]

WAIT = 20.0  # generous: a loaded 2-core machine
QUICK = 10.0  # a request while the database is away is answered within this (connect timeout is 5 s)


class Cluster:
    """A private PostgreSQL cluster in a temporary folder, on its own loopback port."""

    def __init__(self) -> None:
        assert INITDB is not None
        self.bin = Path(INITDB).parent
        self.dir = Path(tempfile.mkdtemp(prefix="meeting-pg-"))
        self.port = free_port()
        # initdb refuses to run as root: the cluster then belongs to the postgres account.
        self.owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.owner:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.owner, str(self.bin / tool), *args], check=True, capture_output=True, timeout=WAIT * 3
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [*self.owner, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=WAIT * 3,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A started private cluster, stopped and deleted afterwards."""
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.remove()


def _annotation(doc: DocumentRef, id_: str) -> dict[str, Any]:
    return {
        "type": "annotation.add",
        "id": id_,
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 1,
        "kind": "highlight",
        "visibility": "shared",
        "payload": {"rects": [[0.1, 0.1, 0.2, 0.2]]},
        "ref": secrets.token_hex(4),
    }


async def _reply(sock: Socket, message: dict[str, Any]) -> dict[str, Any]:
    await sock.send(message)
    while (reply := await sock.recv(WAIT)).get("ref") != message["ref"]:
        pass
    return reply


async def test_postgres_outage_answers_503_quickly_and_recovers_without_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    here = deployment(tmp_path / "data", DATABASE_URL=cluster.url)
    await migrate(here.settings)
    process, server = await start_server(here.env)
    try:
        async with (
            api_for(here.settings, server.http) as api,
            httpx.AsyncClient(base_url=server.http) as http,
        ):
            council = await build_council(api)
            doc = await add_document(api, council.meeting_id, pages=3)
            item = await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Ngân sách"})
            for status in ("scheduled", "live"):
                await api.ok("POST", f"{council.url}/status", "secretary", json={"status": status})
            for name in ("delegate1", "delegate2"):
                await api.ok("PUT", f"{council.url}/attendance/me", name, json={"attendance": "in_room"})
            poll = await api.ok(
                "POST",
                f"{council.url}/polls",
                "secretary",
                json={"itemId": item["id"], "question": "Thông qua?"},
            )
            await api.ok("POST", f"{council.url}/polls/{poll['id']}/open", "chair")
            delegate, _ = await join(server, api, council.meeting_id, "delegate1")
            ballots = f"{council.url}/polls/{poll['id']}/ballots"
            voted = await api.call("POST", ballots, "delegate2", json={"choice": [1]})
            assert voted.status_code < 300, voted.text
            saved = _annotation(doc, secrets.token_hex(8))
            assert (await _reply(delegate, saved))["type"] == "ack"

            await asyncio.to_thread(cluster.stop)
            for method, url, as_, body in (
                ("GET", council.url, "secretary", None),
                ("POST", ballots, "delegate1", {"choice": [0]}),
            ):
                started = time.monotonic()
                response = await api.call(method, url, as_, json=body)
                assert time.monotonic() - started < QUICK
                assert response.status_code == 503, response.text
                assert response.json()["detail"] == "the database is unavailable; please retry shortly"
                assert response.json()["code"] == "server.unavailable"
            health = await http.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "down"
            lost = _annotation(doc, secrets.token_hex(8))
            refused = await _reply(delegate, lost)
            # Nothing was saved: the tablet retries the same message.
            assert refused["type"] == "error"
            assert (refused["status"], refused["code"]) == (4503, "server.unavailable")
            assert process.poll() is None

            await asyncio.to_thread(cluster.start)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            while (await http.get("/health")).status_code != 200:
                assert loop.time() < deadline, "the server did not recover"
                await asyncio.sleep(0.2)
            # The refused writes left nothing behind: retrying them stores each exactly once.
            voted = await api.call("POST", ballots, "delegate1", json={"choice": [0]})
            assert voted.status_code < 300, voted.text
            again = await api.call("POST", ballots, "delegate1", json={"choice": [0]})
            assert again.status_code == 409, again.text
            sock, _ = await join(server, api, council.meeting_id, "delegate1")
            assert (await _reply(sock, {**lost, "ref": "retry"}))["type"] == "ack"
            listed = await api.ok("GET", doc.annotations_url, "chair")
            ids = sorted(a["id"] for p in listed["pages"] for a in p["annotations"])
            assert ids == sorted([saved["id"], lost["id"]])
            current = await api.ok("GET", f"{council.url}/polls/{poll['id']}", "chair")
            assert current["cast"] == 2
            for open_socket in (sock, delegate):
                await open_socket.close()
    finally:
        stop_server(process)
