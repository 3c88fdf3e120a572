"""The PDF worker pool: limits, deadlines, and replacement of crashed workers."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from meeting.docs.worker import FILE_BYTES, OPEN_FILES, WorkerFailed, WorkerPool
from tests.support.files import make_pdf, slow_pdf

if TYPE_CHECKING:
    from collections.abc import Iterator

LIMIT = 700 * 1024 * 1024


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    """A pool of one worker, so the test knows which process is busy."""
    workers = WorkerPool(1, LIMIT)
    yield workers
    workers.close()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


async def test_worker_runs_under_the_address_space_limit(pool: WorkerPool, tmp_path: Path) -> None:
    await pool.warm_up()
    pid = pool._idle[0].process.pid
    line = ""
    for _ in range(100):  # the worker applies its limit first thing after starting
        limits = Path(f"/proc/{pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        if line.split()[3] != "unlimited":
            break
        await asyncio.sleep(0.02)
    assert line.split()[3] == str(LIMIT)


async def test_a_worker_may_not_open_many_files_write_big_ones_start_processes_or_dump_core(
    pool: WorkerPool, tmp_path: Path
) -> None:
    good = _write(tmp_path, "good.pdf", make_pdf(pages=2))
    await pool.run("inspect_pdf", good, 100, 10_000.0, timeout=7)  # after a task: its limits are all set
    pid = pool._idle[0].process.pid
    assert pid is not None
    assert resource.prlimit(pid, resource.RLIMIT_NOFILE) == (OPEN_FILES, OPEN_FILES)
    assert resource.prlimit(pid, resource.RLIMIT_FSIZE) == (FILE_BYTES, FILE_BYTES)
    assert resource.prlimit(pid, resource.RLIMIT_NPROC) == (0, 0)
    assert resource.prlimit(pid, resource.RLIMIT_CORE) == (0, 0)
    # CPU: the task's deadline (7 s) and a second, on top of the little a fresh worker has used.
    soft, _ = resource.prlimit(pid, resource.RLIMIT_CPU)
    assert 7 < soft < 20


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
