"""Benchmark: N delegates vote at once over HTTP on a locally started server; is every ballot counted?

    .venv/bin/python bench/votes.py                      # SQLite in a temporary directory
    .venv/bin/python bench/votes.py --database-url postgresql://postgres@127.0.0.1:5432/test

With a PostgreSQL URL a private database is created next to the given one and dropped afterwards.
Prints the time until all ballots are counted and the ballot latency percentiles, and a ratio against a
baseline in the same run (every delegate reading their ballot status at once); the last line says
`tally ok` or names the mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from argon2 import PasswordHasher
from sqlalchemy import insert
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meeting.agenda.models import AgendaItem, Attendance, Meeting, MeetingStatus, Participant, ParticipantRole
from meeting.broker import RoomSequence
from meeting.db import create_engine
from meeting.migrations import upgrade
from meeting.settings import Settings, normalize_database_url
from meeting.users.models import GlobalRole, User
from meeting.users.security import issue_token


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux), to tell server cost from machine load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(settings: Settings, delegates: int) -> tuple[int, int, dict[str, int]]:
    """A live meeting with one item, a chair and N checked-in delegates; returns (meeting, item, user ids)."""
    engine = create_engine(settings)
    password_hash = PasswordHasher().hash(secrets.token_urlsafe(12))
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        names = ["chair", *[f"delegate{i:03d}" for i in range(delegates)]]
        await conn.execute(
            insert(User),
            [
                {
                    "username": n,
                    "display_name": n,
                    "password_hash": password_hash,
                    "role": GlobalRole.user,
                    "is_active": True,
                    "token_version": 0,
                    "created_at": now,
                }
                for n in names
            ],
        )
        rows = (await conn.exec_driver_sql("SELECT id, username FROM users")).all()
        ids = {username: user_id for user_id, username in rows}
        meeting_id = (
            await conn.execute(
                insert(Meeting)
                .values(
                    title="Kỳ họp benchmark",
                    description="",
                    location="Hội trường",
                    starts_at=now,
                    ends_at=now + dt.timedelta(hours=4),
                    timezone="Asia/Ho_Chi_Minh",
                    online_allowed=True,
                    status=MeetingStatus.live,
                    quorum_fraction=0.5,
                    created_at=now,
                    updated_at=now,
                )
                .returning(Meeting.id)
            )
        ).scalar_one()
        await conn.execute(insert(RoomSequence).values(meeting_id=meeting_id, last_seq=0))
        item_id = (
            await conn.execute(
                insert(AgendaItem)
                .values(
                    meeting_id=meeting_id,
                    position=0,
                    title="Nghị quyết",
                    description="",
                    presenter="",
                    status="active",
                )
                .returning(AgendaItem.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(Participant),
            [
                {
                    "meeting_id": meeting_id,
                    "user_id": ids[n],
                    "role": ParticipantRole.chair if n == "chair" else ParticipantRole.delegate,
                    "voting": n != "chair",
                    "attendance": Attendance.in_room,
                    "absence_reason": "",
                    "attendance_at": now,
                }
                for n in names
            ],
        )
    await engine.dispose()
    return meeting_id, item_id, ids


async def run(settings: Settings, delegates: int, kind: str, port: int) -> str:
    """Start the server, vote, close, compare; returns the summary line."""
    meeting_id, item_id, ids = await seed(settings, delegates)
    key = settings.resolved_secret_key()
    env = {
        **os.environ,
        "MEETING_DATA_DIR": str(settings.data_dir),
        "MEETING_SECRET_KEY": key,
    }
    env.pop("REDIS_URL", None)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    else:
        env.pop("DATABASE_URL", None)
    retries = [0]  # ballots answered 503 and sent again
    log_path = settings.data_dir / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "meeting.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def auth(name: str) -> dict[str, str]:
            token, _ = issue_token(key, ids[name], 0, 3600)
            return {"Authorization": f"Bearer {token}"}

        limits = httpx.Limits(max_connections=delegates + 10, max_keepalive_connections=delegates + 10)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            polls = f"/api/meetings/{meeting_id}/polls"
            chair = auth("chair")
            created = await client.post(
                polls, headers=chair, json={"itemId": item_id, "question": "Thông qua?", "kind": kind}
            )
            created.raise_for_status()
            poll_id = created.json()["id"]
            (await client.post(f"{polls}/{poll_id}/open", headers=chair)).raise_for_status()
            headers = {f"delegate{i:03d}": auth(f"delegate{i:03d}") for i in range(delegates)}
            sent = [0, 0, 0]
            latencies: list[float] = []
            failures: list[str] = []

            async def vote(index: int) -> None:
                choice = index % 3
                started = time.perf_counter()
                response: httpx.Response | None = None
                for attempt in range(20):
                    try:
                        response = await client.post(
                            f"{polls}/{poll_id}/ballots",
                            headers=headers[f"delegate{index:03d}"],
                            json={"choice": [choice]},
                        )
                    except httpx.TransportError:
                        # A kept-alive connection the server closed meanwhile: send again, as a tablet would.
                        retries[0] += 1
                        continue
                    # 503 means "retry shortly" (database pool busy); the tablet retries, so does the bench.
                    # A resent ballot that was in fact stored gets 409, which the tally check exposes.
                    if response.status_code != 503:
                        break
                    retries[0] += 1
                    await asyncio.sleep(0.05 * (attempt + 1))
                latencies.append(time.perf_counter() - started)
                if response is not None and response.status_code == 200:
                    sent[choice] += 1
                elif response is None:
                    failures.append("no answer")
                else:
                    failures.append(f"{response.status_code} {response.text[:80]}")

            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            await asyncio.gather(*(vote(i) for i in range(delegates)))
            progress = (await client.get(f"{polls}/{poll_id}", headers=chair)).json()
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(server.pid) - cpu_before

            # Baseline in the same run: every delegate reads their ballot status at once (no writes).
            async def status(index: int) -> None:
                for _ in range(20):
                    try:
                        answer = await client.get(
                            f"{polls}/{poll_id}/ballots/me", headers=headers[f"delegate{index:03d}"]
                        )
                    except httpx.TransportError:
                        continue
                    if answer.status_code != 503:
                        return
                    await asyncio.sleep(0.05)

            base_started = time.perf_counter()
            await asyncio.gather(*(status(i) for i in range(delegates)))
            baseline = time.perf_counter() - base_started
            closed = await client.post(f"{polls}/{poll_id}/close", headers=chair)
            closed.raise_for_status()
            result = closed.json()["result"]
    except Exception:
        # Show why the server failed before the traceback of the client.
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        if os.environ.get("BENCH_SERVER_LOG"):  # keep the server's log for a closer look
            Path(os.environ["BENCH_SERVER_LOG"]).write_bytes(log_path.read_bytes())
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    backend = "postgresql" if settings.database_url else "sqlite"
    print(f"backend            {backend}")
    print(f"ballots sent       {delegates} ({kind})")
    print(f"refused            {len(failures)}{': ' + failures[0] if failures else ''}")
    print(f"retries            {retries[0]} (503 or dropped connection)")
    print(f"all counted after  {elapsed:.2f} s  ({delegates / elapsed:.0f} ballots/s)")
    print(f"latency p50 / p99  {p50:.0f} ms / {p99:.0f} ms")
    print(f"baseline           {baseline:.2f} s for {delegates} concurrent ballot-status reads")
    print(f"server CPU         {server_cpu:.2f} s ({server_cpu / delegates * 1000:.1f} ms per ballot)")
    print(f"load average       {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    mismatch = []
    if progress["cast"] != sum(sent):
        mismatch.append(f"progress says {progress['cast']} cast, {sum(sent)} accepted")
    if result["counts"] != sent:
        mismatch.append(f"counts {result['counts']} != sent {sent}")
    if result["ballots"] != delegates:
        mismatch.append(f"{result['ballots']} ballots counted of {delegates}")
    verdict = "tally ok" if not mismatch else "tally MISMATCH: " + "; ".join(mismatch)
    ratio = elapsed / baseline
    figures = f"{delegates} ballots, {elapsed:.2f} s, p99 {p99:.0f} ms, ratio {ratio:.2f}"
    return f"votes {backend}: {figures} — {verdict}"


async def _admin(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def main() -> int:
    """Parse arguments, prepare a private database, run, print the summary last."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--kind", choices=["open", "named", "secret"], default="secret")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-votes-") as tmp:
        database_url = None
        admin_dsn = name = None
        if args.database_url:
            server = make_url(normalize_database_url(args.database_url))
            name = f"bench_votes_{os.getpid()}"
            admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
            asyncio.run(_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
            database_url = server.set(database=name).render_as_string(hide_password=False)
        settings = Settings(
            data_dir=Path(tmp), database_url=database_url, secret_key=secrets.token_urlsafe(48)
        )
        try:
            upgrade(settings)
            summary = asyncio.run(run(settings, args.delegates, args.kind, free_port()))
        finally:
            if admin_dsn and name:
                asyncio.run(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(summary)
    return 0 if "tally ok" in summary else 1


if __name__ == "__main__":
    sys.exit(main())
