"""SIGTERM: connected tablets are told to reconnect, in-flight writes finish, the process exits in time."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.api import api_for, build_council
from tests.support.servers import deployment, migrate, start_server, stop_server
from tests.support.sockets import join

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

EXIT_SECONDS = 15.0  # uvicorn's graceful timeout is 10 s


async def test_sigterm_closes_sockets_with_1012_and_exits_after_in_flight_writes(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    here = deployment(tmp_path / "data", **backend)
    await migrate(here.settings)
    process, server = await start_server(here.env)
    try:
        async with api_for(here.settings, server.http) as api:
            council = await build_council(api)
            chair, _ = await join(server, api, council.meeting_id, "chair")
            delegate, _ = await join(server, api, council.meeting_id, "delegate1")

            # Writes in flight when the signal lands: each either completes (and is stored) or is
            # refused with a whole response or a refused connection; never a stored half.
            async def write(n: int) -> int | None:
                try:
                    response = await api.call(
                        "POST", f"{council.url}/agenda", "secretary", json={"title": f"Mục {n}"}
                    )
                except httpx.TransportError:
                    return None
                assert response.status_code == 201, response.text
                return int(response.json()["id"])

            writes = [asyncio.create_task(write(n)) for n in range(8)]
            await asyncio.sleep(0.02)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            closes = await asyncio.gather(chair.closed(EXIT_SECONDS), delegate.closed(EXIT_SECONDS))
            assert [code for code, _ in closes] == [1012, 1012]  # docs/protocol.md: reconnect with lastSeq
            await asyncio.to_thread(process.wait, EXIT_SECONDS)
            assert time.monotonic() - started < EXIT_SECONDS
            # uvicorn re-raises the signal after its graceful shutdown, as process managers expect.
            assert process.returncode in (0, -signal.SIGTERM)
            done = {i for i in await asyncio.gather(*writes) if i is not None}

            process, server = await start_server(here.env, port=int(server.http.rsplit(":", 1)[1]))
            stored = await api.ok("GET", f"{council.url}/agenda", "secretary")
            ids = {item["id"] for item in stored} if isinstance(stored, list) else set()
            assert done <= ids  # every acknowledged write is there
            titles = sorted(item["title"] for item in stored)
            assert titles == sorted(set(titles))  # nothing stored twice, nothing half-stored
    finally:
        stop_server(process)
