"""Real server processes for tests: `meeting.cli:app_from_env` under uvicorn on a loopback port."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import IO

import httpx

from tests.rooms.conftest import Server, free_port

START_SECONDS = 30.0  # a loaded 2-core machine imports the app slowly


async def start_server(
    env: dict[str, str], port: int | None = None, log: IO[bytes] | None = None
) -> tuple[subprocess.Popen[bytes], Server]:
    """Start a server process and wait until /health answers (any status: the database may be down)."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "meeting.cli:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "10",  # as `meeting serve`
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    urls = Server(http=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    async with httpx.AsyncClient(timeout=5) as client:
        while loop.time() < deadline and process.poll() is None:
            try:
                await client.get(f"{urls.http}/health")
                return process, urls
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    process.kill()
    process.wait(10)
    raise AssertionError(f"server process did not start (exit code {process.returncode})")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process (kill it when it does not exit in time)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
