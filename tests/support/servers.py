"""The app under test, three ways: in-process over ASGI, under uvicorn in the test's own event loop, and
as real server processes (`meeting.cli:app_from_env`, as `meeting serve` runs it) on loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx
import uvicorn

from meeting.app import create_app
from meeting.migrations import upgrade
from meeting.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from litestar import Litestar

START_SECONDS = 30.0  # a loaded 2-core machine imports the app slowly
STOP_SECONDS = 15.0  # uvicorn's graceful shutdown is 10 s
POLL_SECONDS = 0.01  # how often start-up is checked: a server is up within tens of milliseconds


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server's base URLs."""

    http: str
    ws: str

    @classmethod
    def on(cls, port: int) -> Server:
        """The URLs of a server on this loopback port."""
        return cls(http=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}")

    @property
    def port(self) -> int:
        """The loopback port."""
        return int(self.http.rsplit(":", 1)[1])


# ------------------------------------------------------------------------------------------ in-process


@contextlib.asynccontextmanager
async def serve_in_process(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and an HTTP client on this test's event loop.

    (Litestar's AsyncTestClient runs the lifespan on a thread of its own, so the engine would be closed
    from another loop than the one its connections belong to.)
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Enter and leave the lifespan in one task: it holds cancel scopes that must not change task.
        async with app.lifespan():
            started.set()
            await stopping.wait()

    lifespan = asyncio.create_task(run_lifespan())
    await asyncio.wait([lifespan, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if lifespan.done():
        lifespan.result()  # startup failed: raise its error here
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        stopping.set()
        await lifespan


# ----------------------------------------------------------------------------- uvicorn in the test loop


class LoopServer:
    """The app under uvicorn on a loopback port, in this event loop, as `meeting serve` would run it.

    Published events and the sockets they are relayed to then go through one and the same broker, and
    a blocked event loop or a streamed body shows as a tablet would see it.
    """

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        port = free_port()
        self.urls = Server.on(port)
        self.uvicorn = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=port,
                ws="websockets-sansio",
                ws_max_size=1024 * 1024,
                lifespan="on",
                log_level="warning",
                access_log=False,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve, returning once uvicorn listens."""
        self._task = asyncio.create_task(self._serve_then_release())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        while not self.uvicorn.started:
            assert not self._task.done(), "uvicorn exited during start-up"
            assert loop.time() < deadline, "uvicorn did not start"
            await asyncio.sleep(POLL_SECONDS)

    def request_stop(self) -> None:
        """Begin uvicorn's graceful shutdown (sockets are closed with 1012)."""
        self.uvicorn.should_exit = True

    async def stopped(self) -> None:
        """Wait for the shutdown to finish."""
        assert self._task is not None
        await asyncio.wait_for(self._task, STOP_SECONDS)

    async def stop(self) -> None:
        """Shut down and wait for it."""
        self.request_stop()
        await self.stopped()

    async def _serve_then_release(self) -> None:
        """Serve until told to stop, then close every Redis connection the app still holds.

        Socket handlers finishing during shutdown may take a connection after the lifespan closed the
        pool; releasing them here keeps the next test free of the unclosed-socket warnings.
        """
        try:
            await self.uvicorn.serve()
        finally:
            redis = self.app.state.broker.redis
            if redis is not None:
                await redis.connection_pool.disconnect()


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Server]:
    """The app under uvicorn in this loop for the duration of the block; yields its URLs."""
    running = LoopServer(settings)
    await running.start()
    try:
        yield running.urls
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def served_client(settings: Settings, timeout: float = 30) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app under uvicorn in this loop."""
    async with serve(settings) as urls, httpx.AsyncClient(base_url=urls.http, timeout=timeout) as http:
        yield http


# ---------------------------------------------------------------------------------- server processes


@dataclass
class Deployment:
    """What a server process is started with, and the same settings seen from the test."""

    env: dict[str, str]
    settings: Settings


def deployment(data_dir: Path, **extra: str) -> Deployment:
    """A private data dir, signing key and channel namespace (SQLite embedded unless DATABASE_URL is
    given; REDIS_URL turns the broker to Redis)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "MEETING_SECRET_KEY": secrets.token_urlsafe(48),
        "MEETING_DATA_DIR": str(data_dir),
        # Our own channel and key names: other test runs may share this Redis.
        "MEETING_CHANNEL_NAMESPACE": f"proc{secrets.token_hex(4)}",
        **extra,
    }
    return Deployment(env=env, settings=Settings.from_env(env))


async def migrate(settings: Settings) -> None:
    """`meeting db upgrade` (in a thread: Alembic runs its own event loop)."""
    await asyncio.to_thread(upgrade, settings)


async def start_server(
    env: dict[str, str], port: int | None = None, log: IO[bytes] | None = None
) -> tuple[subprocess.Popen[bytes], Server]:
    """Start a server process and wait until /health answers (any status: the database may be down)."""
    urls = Server.on(port or free_port())
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "meeting.cli:app_from_env", "--factory"),
            *("--host", "127.0.0.1", "--port", str(urls.port), "--ws", "websockets-sansio"),
            *("--log-level", "warning", "--timeout-graceful-shutdown", "10"),  # as `meeting serve`
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    async with httpx.AsyncClient(timeout=5) as client:
        while loop.time() < deadline and process.poll() is None:
            try:
                await client.get(f"{urls.http}/health")
                return process, urls
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    process.kill()
    process.wait(10)
    raise AssertionError(f"server process did not start (exit code {process.returncode})")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process (kill it when it does not exit in time)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.asynccontextmanager
async def server_processes(
    env: dict[str, str], count: int
) -> AsyncIterator[list[tuple[subprocess.Popen[bytes], Server]]]:
    """`count` server processes of one deployment (with PostgreSQL and Redis: one installation behind a
    load balancer), each stopped afterwards, whatever the test did to it."""
    started: list[tuple[subprocess.Popen[bytes], Server]] = []
    try:
        for _ in range(count):
            started.append(await start_server(env))
        yield started
    finally:
        for process, _ in started:
            stop_server(process)


@contextlib.contextmanager
def demo_server_process(
    data_dir: Path, *args: str, ca: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`meeting serve --demo` as a user starts it (SQLite in `data_dir`), on a free loopback port;
    yields its base URL, and stops it afterwards. For clients that are not asyncio (a browser, requests).

    `args` go to `meeting serve` (`--tls`: the URL is https://, checked against the CA certificate `ca`);
    `env` is added to the server's environment.
    """
    port = free_port()
    env = {**os.environ, "MEETING_DATA_DIR": str(data_dir), **(env or {})}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    meeting = Path(sys.executable).with_name("meeting")
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [str(meeting), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"{'https' if '--tls' in args else 'http'}://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2, context=context) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
