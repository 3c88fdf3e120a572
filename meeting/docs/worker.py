"""A pool of long-lived worker processes that run PyMuPDF (meeting.docs.pdf) behind a wall.

MuPDF is C code parsing hostile files. Each worker imports it once and runs under kernel limits (see
`_confine`): address space, open files, the size of a file it writes, no new processes, and CPU time
per task. Every task also has a deadline: a worker that overruns it is killed, one that crashes (or
that the kernel stops at a limit) is noticed by its closed pipe, and either way the caller gets
`WorkerFailed` and a fresh worker takes the place. The server's event loop only waits on pipes, so
other requests keep being served meanwhile.

Workers are forked from a forkserver that has already imported PyMuPDF, so replacing one takes
milliseconds, and the server process itself never imports it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from meeting.settings import Settings

log = logging.getLogger("meeting.docs.worker")

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["meeting.docs.pdf"])


class PdfInfo(NamedTuple):
    """What `inspect_pdf` found: the page count and each page's width, height (points) and text."""

    page_count: int
    pages: list[tuple[float, float, str]]


class WorkerFailed(Exception):
    """A task was refused, crashed its worker, or ran out of time; the message says which."""


# A worker reads one file and writes one or two; fonts are already loaded. 64 descriptors is ample.
OPEN_FILES = 64
# The largest file a worker may write: a stamped copy of the largest upload, with room for the stamp.
FILE_BYTES = 1024 * 1024 * 1024


def _confine(memory_bytes: int) -> None:
    """The kernel's limits on a worker, set before it reads any file (hard limits: they cannot be raised).

    RLIMIT_NPROC 0 stops a compromised worker from starting processes (root is exempt from it: run the
    server under its own account).
    """
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no copy of a confidential file


def _cpu_budget(seconds: float) -> None:
    """Let the next task use `seconds` of CPU more than the worker has used so far; beyond, the kernel
    stops the worker (SIGXCPU) even if the server is not watching."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    allowed = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (allowed, resource.RLIM_INFINITY))


def _worker_main(connection: Connection, memory_bytes: int) -> None:
    """The loop of one worker process: receive (function, args, seconds), answer (status, value)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server handles Ctrl-C and then stops us
    _confine(memory_bytes)
    from meeting.docs import pdf  # already imported by the forkserver: free

    while True:
        try:
            name, args, seconds = connection.recv()
        except (EOFError, OSError):
            return
        _cpu_budget(seconds)
        try:
            answer: tuple[str, Any] = ("ok", getattr(pdf, name)(*args))
        except pdf.Refused as exc:
            answer = ("refused", str(exc))
        except MemoryError:
            answer = ("refused", "the file needs more memory than a worker may use")
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        connection.send(answer)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, memory_bytes: int) -> None:
        parent, child = _context.Pipe()
        self.connection: Connection = parent
        self.process: BaseProcess = _context.Process(
            target=_worker_main, args=(child, memory_bytes), daemon=True, name="meeting-pdf-worker"
        )
        self.process.start()
        child.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerPool:
    """Up to `size` workers; `run` sends one task to an idle worker and awaits its answer."""

    def __init__(self, size: int, memory_bytes: int) -> None:
        self.size = size
        self.memory_bytes = memory_bytes
        self._idle: list[_Worker] = []
        self._count = 0
        # Futures of callers waiting for a worker; plain futures so the pool works across event loops.
        self._waiters: deque[asyncio.Future[_Worker]] = deque()
        self.replaced = 0

    async def warm_up(self) -> None:
        """Start every worker now rather than on first use."""
        while self._count < self.size:
            self._count += 1
            try:
                self._idle.append(await asyncio.to_thread(_Worker, self.memory_bytes))
            except BaseException:
                self._count -= 1
                raise

    async def _acquire(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._count < self.size:
            self._count += 1
            try:
                return await asyncio.to_thread(_Worker, self.memory_bytes)
            except BaseException:
                self._count -= 1
                raise
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await waiter

    def _release(self, worker: _Worker) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.get_loop().call_soon_threadsafe(_hand_over, waiter, worker, self)
                return
        self._idle.append(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.stop()  # SIGKILL: a worker past its deadline may be stuck inside C code
        self._count -= 1
        self.replaced += 1
        # A caller may be waiting for a worker that will now never be released: let it start one.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                self._count += 1
                waiter.get_loop().call_soon_threadsafe(_spawn_for, waiter, self)
                return

    async def run(self, name: str, *args: Any, timeout: float) -> Any:
        """Run `meeting.docs.pdf.<name>(*args)` in a worker and return its value.

        Raises:
            WorkerFailed: the file was refused, the worker crashed, or the deadline passed.
        """
        worker = await self._acquire()
        while not worker.process.is_alive():  # died while idle (killed from outside): start another
            self._discard(worker)
            worker = await self._acquire()
        healthy = False
        cancelled = False
        try:
            try:
                worker.connection.send((name, args, timeout))
            except OSError as exc:
                raise WorkerFailed("the PDF reader stopped unexpectedly") from exc
            if not await _readable(worker.connection, timeout):
                raise WorkerFailed(f"processing took longer than {timeout:g} s and was stopped")
            try:
                # A large answer (a minutes PDF) may still be arriving: finish reading off the event loop.
                status, value = await asyncio.to_thread(worker.connection.recv)
            except (EOFError, OSError) as exc:
                raise WorkerFailed("the file crashed the PDF reader") from exc
            healthy = True
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            # Anything but a clean answer (timeout, crash, cancellation) leaves the worker's state unknown.
            if healthy:
                self._release(worker)
            else:
                log.log(
                    logging.INFO if cancelled else logging.WARNING,
                    "replacing PDF worker %s after a %s %s task",
                    worker.process.pid,
                    "cancelled" if cancelled else "failed",
                    name,
                )
                self._discard(worker)
        if status == "ok":
            return value
        if status == "refused":
            raise WorkerFailed(str(value))
        log.info("PDF worker task %s failed: %s", name, value)
        raise WorkerFailed("the file could not be read as a valid PDF")

    def close(self) -> None:
        """Stop every worker."""
        while self._idle:
            self._idle.pop().stop()
        self._count = 0


def _hand_over(waiter: asyncio.Future[_Worker], worker: _Worker, pool: WorkerPool) -> None:
    if waiter.done():  # cancelled meanwhile: give the worker to the next caller
        pool._release(worker)
    else:
        waiter.set_result(worker)


def _spawn_for(waiter: asyncio.Future[_Worker], pool: WorkerPool) -> None:
    async def spawn() -> None:
        try:
            worker = await asyncio.to_thread(_Worker, pool.memory_bytes)
        except BaseException as exc:
            pool._count -= 1
            if not waiter.done():
                waiter.set_exception(WorkerFailed(f"could not start a PDF worker: {exc}"))
            return
        _hand_over(waiter, worker, pool)

    task = asyncio.ensure_future(spawn())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Future[None]] = set()


async def _readable(connection: Connection, timeout: float) -> bool:
    """Wait until the pipe has data (or is closed by a crash); False after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    descriptor = connection.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(descriptor, wake)
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(descriptor)
        # uvloop leaves the socket non-blocking; the Connection's send/recv expect a blocking one, and
        # would fail with BlockingIOError in the middle of a message larger than the socket buffer.
        os.set_blocking(descriptor, True)


_pools: dict[tuple[int, int], WorkerPool] = {}


def pool_for(settings: Settings) -> WorkerPool:
    """The process-wide pool for these limits: workers outlive apps (tests build many apps)."""
    size = settings.pdf_workers or (multiprocessing.cpu_count() or 1)
    key = (size, settings.worker_memory_bytes)
    if key not in _pools:
        _pools[key] = WorkerPool(size, settings.worker_memory_bytes)
    return _pools[key]


@atexit.register
def _close_pools() -> None:
    for pool in _pools.values():
        pool.close()
