"""Fan-out benchmark: N real WebSocket clients follow a presenter turning pages for 10 s.

Runs the project server (uvicorn, `meeting.cli:app_from_env`, SQLite) and, in the same run, a bare
`websockets` server that relays each page turn with `websockets.broadcast()`; both in their own process,
driven by the same load client (this process). Reports delivery latency p50/p95/p99/max, deliveries per
second, server CPU per delivery (server CPU time ÷ deliveries) and memory per idle connection.
With `--redis` (and TEST_DATABASE_URL or DATABASE_URL for PostgreSQL) it also runs two project processes
sharing PostgreSQL and Redis, presenter on one, followers split over both, and reports the Redis hop.

    python bench/fanout.py                 # N = 100, 500, 1000
    python bench/fanout.py --clients 200 --seconds 5
The last line summarises N = 1000 (or the largest N) and contains `ratio <p99 project ÷ p99 bare>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERS = 20  # followers share 20 accounts (the per-user socket cap is raised), so joining stays O(N)
TURNS_PER_SECOND = 10
TICK = os.sysconf("SC_CLK_TCK")

BARE_SERVER = r"""
import asyncio, json, sys
from websockets.asyncio.server import broadcast, serve

clients = set()
seq = 0

async def handler(ws):
    global seq
    await ws.recv()  # the auth message, accepted as is
    await ws.send(json.dumps({"type": "room.snapshot", "seq": seq}))
    clients.add(ws)
    try:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "page.turn":
                seq += 1
                shown = {k: message[k] for k in ("documentId", "versionId", "page", "viewport")}
                event = {"type": "page.turn", "seq": seq, "presenter": {"userId": 1, **shown}}
                broadcast(clients, json.dumps(event, separators=(",", ":")))  # encoded once for everyone
    finally:
        clients.discard(ws)

async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), compression=None, max_size=2**20):
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    """Resident memory of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Target:
    """A server under test: where to connect, its process, and tokens to present."""

    name: str
    urls: list[str]  # socket URLs; followers are spread over them
    pids: list[int]
    presenter_token: str
    tokens: list[str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    document: tuple[int, int] = (1, 1)  # the document and version the presenter shows


@dataclass
class Result:
    """Figures of one run."""

    name: str
    clients: int
    latencies: list[float]
    expected: int
    seconds: float
    cpu: float
    rss_per_connection: float

    def line(self) -> str:
        """One human line."""
        lat = sorted(self.latencies)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0] if lat else 0.0] * 99
        delivered = len(lat)
        per = self.cpu / delivered * 1e6 if delivered else float("nan")
        return (
            f"{self.name:>14} N={self.clients:<5} delivered {delivered}/{self.expected} "
            f"p50 {q[49] * 1000:.1f} ms p95 {q[94] * 1000:.1f} ms p99 {q[98] * 1000:.1f} ms "
            f"max {max(lat) * 1000 if lat else 0:.1f} ms  {delivered / self.seconds:,.0f} msg/s  "
            f"cpu {per:.1f} µs/delivery  {self.rss_per_connection / 1024:.1f} KiB/idle connection"
        )

    def p99(self) -> float:
        """The 99th percentile latency, seconds."""
        return statistics.quantiles(sorted(self.latencies), n=100)[98]

    def cpu_per_delivery(self) -> float:
        """Server CPU seconds per delivered message."""
        return self.cpu / max(1, len(self.latencies))


async def _wait_http(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def seed(settings: Any, followers: int) -> tuple[int, str, list[str]]:
    """A live meeting with a chair and USERS delegates; returns (meeting id, chair token, delegate tokens)."""
    from meeting.agenda.models import Meeting, MeetingStatus, Participant, ParticipantRole
    from meeting.broker import RoomSequence
    from meeting.db import create_engine, create_session_factory, utcnow
    from meeting.users.models import User
    from meeting.users.service import new_token

    engine = create_engine(settings)
    key = settings.resolved_secret_key()
    async with create_session_factory(engine)() as session:
        meeting = Meeting(title="Bench", starts_at=utcnow(), ends_at=utcnow(), status=MeetingStatus.live)
        session.add(meeting)
        await session.flush()
        session.add(RoomSequence(meeting_id=meeting.id, last_seq=0))
        tag = secrets.token_hex(3)
        chair = User(username=f"chair{tag}", display_name="Chair", password_hash="x")
        delegates = [
            User(username=f"d{tag}{i}", display_name=f"D{i}", password_hash="x") for i in range(USERS)
        ]
        session.add_all([chair, *delegates])
        await session.flush()
        session.add(Participant(meeting_id=meeting.id, user_id=chair.id, role=ParticipantRole.chair))
        for user in delegates:
            session.add(Participant(meeting_id=meeting.id, user_id=user.id, role=ParticipantRole.delegate))
        await session.commit()
        chair_token = new_token(settings, key, chair)[0]
        tokens = [new_token(settings, key, u)[0] for u in delegates]
        meeting_id = meeting.id
    await engine.dispose()
    return meeting_id, chair_token, tokens


async def seed_document(settings: Any, meeting_id: int, pages: int = 100_000) -> tuple[int, int]:
    """A document of the meeting with one version of `pages` pages; returns (document id, version id).

    Rows only, like the rest of the seed: the room checks a page turn against the version's page count
    and never reads its file, and a benchmark turns a fresh page each time (one page per turn).
    """
    from meeting.db import create_engine, create_session_factory
    from meeting.docs import Document, DocumentVersion

    engine = create_engine(settings)
    async with create_session_factory(engine)() as session:
        document = Document(meeting_id=meeting_id, title="Bench")
        session.add(document)
        await session.flush()
        version = DocumentVersion(
            document_id=document.id,
            number=1,
            sha256="0" * 64,
            size_bytes=0,
            page_count=pages,
            file_name="bench.pdf",
        )
        session.add(version)
        await session.flush()
        document.current_version_id = version.id
        await session.commit()
        ids = (document.id, version.id)
    await engine.dispose()
    return ids


def project_env(settings: Any, extra: dict[str, str]) -> dict[str, str]:
    """Environment of a project server process."""
    env = {
        **os.environ,
        "MEETING_DATA_DIR": str(settings.data_dir),
        "MEETING_SECRET_KEY": settings.secret_key,
        "MEETING_SOCKETS_PER_USER": "100000",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


async def start_project(
    env: dict[str, str], log: IO[bytes] | None = None
) -> tuple[subprocess.Popen[bytes], str, int]:
    """One uvicorn process serving the project, as `meeting serve` does; its output to `log` if given."""
    port = free_port()
    command = [
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
        "--no-access-log",
        "--ws-max-size",
        str(1 << 20),
        "--backlog",
        "4096",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    await _wait_http(f"http://127.0.0.1:{port}/health")
    return process, f"ws://127.0.0.1:{port}", process.pid


async def start_bare() -> tuple[subprocess.Popen[bytes], str, int]:
    """The bare `websockets` broadcast server."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    await asyncio.get_running_loop().run_in_executor(None, process.stdout.readline)
    return process, f"ws://127.0.0.1:{port}", process.pid


async def run(target: Target, n: int, seconds: float, meeting_path: str) -> Result:
    """Connect n followers and a presenter, turn pages for `seconds`, collect latencies."""
    sent_at: dict[int, float] = {}
    latencies: list[float] = []

    async def follower(connection: ClientConnection) -> None:
        async for raw in connection:
            arrived = time.perf_counter()
            if isinstance(raw, str) and raw.startswith('{"type":"page.turn"'):
                page = json.loads(raw)["presenter"]["page"]
                latencies.append(arrived - sent_at[page])

    async def open_one(index: int) -> ClientConnection:
        url = target.urls[index % len(target.urls)] + meeting_path
        connection = await connect(url, compression=None, max_size=None, open_timeout=60, ping_interval=None)
        await connection.send(
            json.dumps({"type": "auth", "token": target.tokens[index % len(target.tokens)]})
        )
        await connection.recv()  # snapshot
        return connection

    rss_before = sum(rss_bytes(p) for p in target.pids)
    connections: list[ClientConnection] = []
    for start in range(0, n, 50):  # in batches, like a room filling up
        connections += await asyncio.gather(*(open_one(i) for i in range(start, min(n, start + 50))))
    await asyncio.sleep(1.0)
    rss_per = (sum(rss_bytes(p) for p in target.pids) - rss_before) / n
    presenter = await connect(
        target.urls[0] + meeting_path, compression=None, max_size=None, ping_interval=None
    )
    await presenter.send(json.dumps({"type": "auth", "token": target.presenter_token}))
    await presenter.recv()
    tasks = [asyncio.create_task(follower(c)) for c in connections]

    async def drain_presenter() -> None:
        async for _ in presenter:
            pass

    drain = asyncio.create_task(drain_presenter())
    turns = int(seconds * TURNS_PER_SECOND)
    cpu_before = sum(cpu_seconds(p) for p in target.pids)
    started = time.perf_counter()
    for turn in range(turns):
        page = turn + 1
        sent_at[page] = time.perf_counter()
        message = {
            "type": "page.turn",
            "documentId": target.document[0],
            "versionId": target.document[1],
            "page": page,
            "viewport": {"x": 0, "y": 0, "zoom": 1},
        }
        await presenter.send(json.dumps(message))
        await asyncio.sleep(max(0.0, started + (turn + 1) / TURNS_PER_SECOND - time.perf_counter()))
    expected = turns * n
    deadline = time.perf_counter() + 30
    while len(latencies) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    cpu = sum(cpu_seconds(p) for p in target.pids) - cpu_before
    for task in tasks:
        task.cancel()
    drain.cancel()
    await asyncio.gather(*(c.close() for c in [*connections, presenter]), return_exceptions=True)
    await asyncio.sleep(0.5)
    return Result(target.name, n, latencies, expected, elapsed, cpu, rss_per)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis", help="Redis URL: also run two project processes through Redis")
    args = parser.parse_args()

    from meeting.migrations import upgrade
    from meeting.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="fanout-"))
    settings = Settings(data_dir=workdir, secret_key=secrets.token_urlsafe(48))
    await asyncio.get_running_loop().run_in_executor(None, upgrade, settings)
    meeting_id, chair_token, tokens = await seed(settings, max(args.clients))
    document = await seed_document(settings, meeting_id)
    path = f"/api/meetings/{meeting_id}/socket"

    project_process, project_url, project_pid = await start_project(project_env(settings, {}))
    bare_process, bare_url, bare_pid = await start_bare()
    project = Target(
        "project", [project_url], [project_pid], chair_token, tokens, [project_process], document
    )
    bare = Target("bare websockets", [bare_url], [bare_pid], "x", ["x"], [bare_process])
    results: dict[int, tuple[Result, Result]] = {}
    try:
        for n in args.clients:
            mine = await run(project, n, args.seconds, path)
            print(mine.line(), flush=True)
            base = await run(bare, n, args.seconds, "/")
            print(base.line(), flush=True)
            results[n] = (mine, base)
    finally:
        for process in (project_process, bare_process):
            process.terminate()
            process.wait(10)

    if args.redis:
        database = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if not database:
            print("--redis needs DATABASE_URL or TEST_DATABASE_URL (PostgreSQL)", file=sys.stderr)
        else:
            print(await redis_run(args, database, args.redis, results), flush=True)

    n = max(results)
    mine, base = results[n]
    ratio = mine.p99() / base.p99()
    cpu_ratio = mine.cpu_per_delivery() / base.cpu_per_delivery()
    lost = mine.expected - len(mine.latencies)
    print(
        f"N={n}: project p99 {mine.p99() * 1000:.0f} ms vs bare {base.p99() * 1000:.0f} ms, "
        f"ratio {ratio:.2f}; "
        f"cpu/delivery {mine.cpu_per_delivery() * 1e6:.1f} µs vs {base.cpu_per_delivery() * 1e6:.1f} µs "
        f"(×{cpu_ratio:.2f}); {mine.rss_per_connection / 1024:.1f} KiB per idle connection; lost {lost}"
    )


async def redis_run(
    args: argparse.Namespace, database: str, redis: str, results: dict[int, tuple[Result, Result]]
) -> str:
    """Two project processes on PostgreSQL + Redis: the presenter on one, followers on both."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from meeting.migrations import upgrade
    from meeting.settings import Settings, normalize_database_url

    server = make_url(normalize_database_url(database))
    name = f"fanout_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = server.set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="fanout-redis-"))
    settings = Settings(data_dir=workdir, secret_key=secrets.token_urlsafe(48), database_url=url)
    try:
        await asyncio.get_running_loop().run_in_executor(None, upgrade, settings)
        meeting_id, chair_token, tokens = await seed(settings, max(args.clients))
        document = await seed_document(settings, meeting_id)
        env = project_env(
            settings,
            {
                "DATABASE_URL": url,
                "REDIS_URL": redis,
                "MEETING_CHANNEL_NAMESPACE": f"bench{secrets.token_hex(3)}",
            },
        )
        first = await start_project(env)
        second = await start_project(env)
        n = max(args.clients)
        target = Target(
            "project+redis",
            [first[1], second[1]],
            [first[2], second[2]],
            chair_token,
            tokens,
            document=document,
        )
        try:
            result = await run(target, n, args.seconds, f"/api/meetings/{meeting_id}/socket")
        finally:
            for process, _, _ in (first, second):
                process.terminate()
                process.wait(10)
        single = results[n][0] if n in results else None
        added = ""
        if single is not None:
            p50 = statistics.median(result.latencies) - statistics.median(single.latencies)
            added = f"; Redis hop adds {p50 * 1000:.1f} ms at p50 over one process"
        return result.line() + added
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
