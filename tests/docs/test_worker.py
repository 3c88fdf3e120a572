"""The PDF worker pool: limits, isolation, deadlines, and replacement of crashed workers."""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from meeting.docs import worker
from meeting.docs.worker import (
    FILE_BYTES,
    LANDLOCK_ABI,
    OPEN_FILES,
    Source,
    Target,
    WorkerFailed,
    WorkerPool,
    isolate,
)
from tests.support.files import make_pdf, slow_pdf

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

LIMIT = 700 * 1024 * 1024


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    """A pool of one worker, so the test knows which process is busy."""
    workers = WorkerPool(1, LIMIT)
    yield workers
    workers.close()


def _write(tmp_path: Path, name: str, data: bytes) -> Source:
    path = tmp_path / name
    path.write_bytes(data)
    return Source(path)


def _limit(pid: int, name: str) -> tuple[str, str]:
    """A process's soft and hard limit as /proc shows them to anyone (`prlimit` on a process of
    another account needs privileges the server may not have)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(name):
            soft, hard = line[len(name) :].split()[:2]
            return soft, hard
    raise AssertionError(f"no {name!r} in /proc/{pid}/limits")


async def test_worker_runs_under_the_address_space_limit(pool: WorkerPool, tmp_path: Path) -> None:
    await pool.warm_up()
    pid = pool._idle[0].process.pid
    assert pid is not None
    for _ in range(100):  # the worker applies its limit first thing after starting
        if _limit(pid, "Max address space")[0] != "unlimited":
            break
        await asyncio.sleep(0.02)
    assert _limit(pid, "Max address space")[0] == str(LIMIT)


async def test_a_worker_may_not_open_many_files_write_big_ones_start_processes_or_dump_core(
    pool: WorkerPool, tmp_path: Path
) -> None:
    good = _write(tmp_path, "good.pdf", make_pdf(pages=2))
    await pool.run("inspect_pdf", good, 100, 10_000.0, timeout=7)  # after a task: its limits are all set
    pid = pool._idle[0].process.pid
    assert pid is not None
    assert _limit(pid, "Max open files") == (str(OPEN_FILES), str(OPEN_FILES))
    assert _limit(pid, "Max file size") == (str(FILE_BYTES), str(FILE_BYTES))
    assert _limit(pid, "Max processes") == ("0", "0")
    assert _limit(pid, "Max core file size") == ("0", "0")
    # CPU: the task's deadline (7 s) and a second, on top of the little a fresh worker has used.
    soft, _ = _limit(pid, "Max cpu time")
    assert 7 < int(soft) < 20


async def test_crashed_worker_is_replaced_and_the_caller_told(pool: WorkerPool, tmp_path: Path) -> None:
    slow = _write(tmp_path, "slow.pdf", slow_pdf())
    good = _write(tmp_path, "good.pdf", make_pdf(pages=2))
    await pool.warm_up()
    pid = pool._idle[0].process.pid
    assert pid is not None
    task = asyncio.create_task(pool.run("inspect_pdf", slow, 100, 10_000.0, timeout=30))
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGKILL)  # what a segfault in MuPDF looks like from outside
    with pytest.raises(WorkerFailed, match="crashed"):
        await task
    info = await pool.run("inspect_pdf", good, 100, 10_000.0, timeout=30)
    assert info.page_count == 2
    assert pool.replaced == 1


async def test_task_past_its_deadline_is_killed(pool: WorkerPool, tmp_path: Path) -> None:
    slow = _write(tmp_path, "slow.pdf", slow_pdf())
    with pytest.raises(WorkerFailed, match=r"longer than 0\.5 s"):
        await pool.run("inspect_pdf", slow, 100, 10_000.0, timeout=0.5)
    assert pool.replaced == 1
    info = await pool.run(
        "inspect_pdf", _write(tmp_path, "good.pdf", make_pdf(pages=1)), 100, 10_000.0, timeout=30
    )
    assert info.page_count == 1


async def test_callers_queue_for_a_busy_worker(pool: WorkerPool, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.pdf", make_pdf(pages=1))
    results = await asyncio.gather(
        *(pool.run("inspect_pdf", good, 100, 10_000.0, timeout=30) for _ in range(5))
    )
    assert [r.page_count for r in results] == [1] * 5


def _probe(connection: Connection, empty_root: str, server_files: list[str], document: str) -> None:
    """Runs in a process forked like a worker and isolated by the same function: tries to reach what
    a file that took over MuPDF would want, and reports what happened."""
    opened = os.open(document, os.O_RDONLY)  # as the descriptors the server passes
    isolate(empty_root)
    outcome: dict[str, str] = {}
    for path in server_files:
        try:
            with open(path, "rb") as handle:
                outcome[path] = f"read {len(handle.read())} bytes"
        except OSError as exc:
            outcome[path] = f"refused: {exc.strerror}"
    try:
        outcome["list /"] = f"listed {os.listdir('/')}" if os.listdir("/") else "refused: empty"
    except OSError as exc:
        outcome["list /"] = f"refused: {exc.strerror}"
    for name, address in (("PostgreSQL", ("127.0.0.1", 5432)), ("Redis", ("127.0.0.1", 6379))):
        with socket.socket() as connection_attempt:
            try:
                connection_attempt.connect(address)
                outcome[name] = "connected"
            except OSError as exc:
                outcome[name] = f"refused: {exc.strerror}"
    outcome["environment"] = " ".join(sorted(os.environ))
    # The control: what was opened before (as the server's descriptors are) still reads.
    outcome["descriptor"] = os.pread(opened, 5, 0).decode()
    connection.send(outcome)


@pytest.mark.skipif(
    not (LANDLOCK_ABI >= 4 or os.geteuid() == 0), reason="needs Landlock (Linux ≥ 6.7) or root"
)
async def test_an_isolated_worker_cannot_reach_the_database_the_secret_key_or_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    server_files = []
    for name in ("meeting.sqlite3", "secret_key"):
        (data / name).write_bytes(b"secret contents")
        (data / name).chmod(0o600)
        server_files.append(str(data / name))
    document = tmp_path / "blob.pdf"
    document.write_bytes(make_pdf(pages=1))
    # A server started with secrets in its environment: the worker's copy must hold none of them.
    WorkerPool(1, LIMIT).close()  # starts the forkserver (if no test did) with only what workers may see
    monkeypatch.setenv("DATABASE_URL", "postgresql://meeting:password@127.0.0.1/meeting")
    monkeypatch.setenv("MEETING_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("HOME", str(tmp_path))
    parent, child = worker._context.Pipe()
    root = worker._empty_root()
    process = worker._context.Process(target=_probe, args=(child, root, server_files, str(document)))
    process.start()
    child.close()
    try:
        assert await asyncio.to_thread(parent.poll, 30)
        outcome = parent.recv()
    finally:
        process.join(10)
    assert outcome.pop("descriptor") == "%PDF-"
    environment = outcome.pop("environment").split()
    assert not {"DATABASE_URL", "MEETING_SECRET_KEY", "HOME"} & set(environment), environment
    assert all(result.startswith("refused") for result in outcome.values()), outcome


async def test_pool_workers_run_isolated(pool: WorkerPool, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.pdf", make_pdf(pages=2))
    out = tmp_path / "page.jpg"
    assert await pool.run("render_page", good, 2, 320, "jpeg", Target(out), timeout=30) == (320, 453)
    assert out.read_bytes()[:2] == b"\xff\xd8"  # written through the descriptor, moved into place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pdf", "page.jpg"]
    pid = pool._idle[0].process.pid
    status = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )
    assert status["NoNewPrivs"] == "1"  # set by Landlock's restriction
    if os.geteuid() == 0:
        nobody = str(pwd.getpwnam(worker.WORKER_ACCOUNT).pw_uid)
        assert status["Uid"].split() == [nobody] * 4
        assert os.readlink(f"/proc/{pid}/root") == worker._empty_root()
        assert os.listdir(worker._empty_root()) == []


async def test_a_failed_task_leaves_no_partial_file(pool: WorkerPool, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.pdf", make_pdf(pages=2))
    with pytest.raises(WorkerFailed):
        await pool.run("render_page", good, 9, 320, "jpeg", Target(tmp_path / "page.jpg"), timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pdf"]
