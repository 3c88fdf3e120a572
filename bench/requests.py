"""Benchmark: server CPU per ordinary HTTP request, against a bare Litestar handler in the same run.

    .venv/bin/python bench/requests.py                 # SQLite in a temporary directory
    .venv/bin/python bench/requests.py --seconds 10 --connections 32

Starts one project process (uvicorn, as `meeting serve` runs it) on a seeded live meeting with a rendered
PDF, and one process serving a bare Litestar handler that returns a small JSON with the same uvicorn
settings. Each request kind is driven by `wrk` (Debian's package) with N keep-alive connections for a
few seconds; the server's CPU time is read from /proc before and after, so the figure is what the server
spent per request whatever else the machine is doing. Prints req/s, CPU per request and the ratio to the
bare handler; the last line is the summary with the authenticated read's ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import cpu_seconds, free_port, project_env, start_project  # noqa: E402
from bench.votes import seed  # noqa: E402
from meeting.docs.pdf import make_demo_pdf  # noqa: E402
from meeting.migrations import upgrade  # noqa: E402
from meeting.settings import Settings  # noqa: E402
from meeting.users.security import issue_token  # noqa: E402

BARE_APP = r"""
from litestar import Litestar, get

@get("/bare")
async def bare() -> dict[str, object]:
    return {"id": 1, "title": "Kỳ họp thứ 12", "status": "live"}

app = Litestar([bare])
"""

# What the project's process is started with (bench.fanout.start_project), minus the app.
UVICORN_ARGS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log", "--backlog", "4096"]


@dataclass
class Figure:
    """One request kind's run."""

    name: str
    requests: int
    seconds: float
    cpu: float
    statuses: str

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.requests * 1000


def wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> tuple[int, float, str]:
    """Run wrk; returns (requests, seconds, a note on non-2xx answers)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if match is None:
        raise RuntimeError(f"wrk printed no total:\n{output}")
    elapsed = float(match[2]) / (1000 if match[3] == "ms" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return int(match[1]), elapsed, f"{errors[1]} non-2xx/3xx" if errors else "all 2xx/3xx"


def measure(
    name: str, pid: int, url: str, seconds: float, connections: int, headers: dict[str, str]
) -> Figure:
    """Drive one URL and read the server's CPU time around it."""
    wrk(url, 1, connections, headers)  # warm-up: caches, lazy imports, pooled connections
    before = cpu_seconds(pid)
    requests, elapsed, statuses = wrk(url, seconds, connections, headers)
    return Figure(name, requests, elapsed, cpu_seconds(pid) - before, statuses)


async def prepare(settings: Settings, base: str, key: str) -> tuple[str, dict[str, str], str]:
    """Seed a live meeting, upload a 3-page PDF as its chair, wait for page 2; returns paths and auth."""
    meeting_id, _item_id, ids = await seed(settings, 8)
    chair = {"Authorization": f"Bearer {issue_token(key, ids['chair'], 0, 3600)[0]}"}
    delegate = {"Authorization": f"Bearer {issue_token(key, ids['delegate000'], 0, 3600)[0]}"}
    pdf = make_demo_pdf("Nghị quyết", ["Hội đồng nhân dân huyện quyết định thông qua dự toán."] * 9, 3)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        uploaded = await client.post(
            f"/api/meetings/{meeting_id}/documents",
            headers=chair,
            files={"file": ("nghi-quyet.pdf", pdf, "application/pdf")},
        )
        uploaded.raise_for_status()
        document = uploaded.json()
        version = document["currentVersion"]["id"]
        page = f"/api/meetings/{meeting_id}/documents/{document['id']}/versions/{version}/pages/2?width=1280"
        image = await client.get(page, headers=delegate)
        image.raise_for_status()
    return f"/api/meetings/{meeting_id}", delegate, page


def start_bare(directory: Path, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    """The bare Litestar app, under the same uvicorn settings."""
    (directory / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", *UVICORN_ARGS, "--port", str(port)],
        cwd=directory,
        stdout=log,
        stderr=log,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bare").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}/bare"


async def run(directory: str, seconds: float, connections: int) -> list[Figure]:
    """Both servers up, every request kind measured; returns the figures, the bare handler's first."""
    settings = Settings(data_dir=Path(directory) / "data", secret_key=secrets.token_hex(32))
    key = settings.resolved_secret_key()
    log = (Path(directory) / "server.log").open("wb")
    bare, bare_url = start_bare(Path(directory), log)
    processes = [bare]
    try:
        server, ws_base, pid = await start_project(project_env(settings, {}), log)
        processes.append(server)
        base = ws_base.replace("ws://", "http://")
        meeting, auth, page = await prepare(settings, base, key)
        load = (seconds, connections)
        etag = httpx.get(base + page, headers=auth).headers["etag"]
        figures = [
            measure("bare Litestar handler", bare.pid, bare_url, *load, {}),
            measure("GET /health", pid, f"{base}/health", *load, {}),
            measure("GET /api/meetings/{id}", pid, base + meeting, *load, auth),
            measure("GET …/agenda", pid, f"{base}{meeting}/agenda", *load, auth),
            measure("GET …/documents", pid, f"{base}{meeting}/documents", *load, auth),
            measure("GET …/pages/2?width=1280 (rendered)", pid, base + page, *load, auth),
            measure("same, If-None-Match → 304", pid, base + page, *load, {**auth, "If-None-Match": etag}),
        ]
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory() as directory:
        upgrade(Settings(data_dir=Path(directory) / "data"))  # Alembic runs its own event loop
        figures = asyncio.run(run(directory, args.seconds, args.connections))
    bare_ms = figures[0].cpu_ms
    print(f"{'request':42} {'req/s':>8} {'CPU ms/req':>11} {'× bare':>7}  answers")
    for figure in figures:
        print(
            f"{figure.name:42} {figure.per_second:8.0f} {figure.cpu_ms:11.3f} "
            f"{figure.cpu_ms / bare_ms:7.1f}  {figure.statuses}"
        )
    read = figures[2]
    print(
        f"requests: authenticated read {read.cpu_ms:.3f} ms CPU, bare {bare_ms:.3f} ms, "
        f"ratio {read.cpu_ms / bare_ms:.1f}"
    )


if __name__ == "__main__":
    main()
