"""A pool of long-lived worker processes that run PyMuPDF (meeting.docs.pdf) behind a wall.

MuPDF is C code parsing hostile files. Each worker imports it once and runs under kernel limits (see
`_confine`): address space, open files, the size of a file it writes, no new processes, and CPU time
per task. Before its first task it shuts itself off from every file path, the network and other
processes (`isolate`), so a file that takes over MuPDF still cannot read the database, the secret key
or another meeting's documents: the server opens the files of each task and passes the open
descriptors over the pipe (`Source`, `Target`). Every task also has a deadline: a worker that
overruns it is killed, one that crashes (or that the kernel stops at a limit) is noticed by its closed
pipe, and either way the caller gets `WorkerFailed` and a fresh worker takes the place. The server's
event loop only waits on pipes, so other requests keep being served meanwhile.

Workers are forked from a forkserver that has already imported PyMuPDF, so replacing one takes
milliseconds, and the server process itself never imports it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import pwd
import resource
import secrets
import signal
import socket
import tempfile
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple

from py_landlock import Landlock, LandlockError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from pathlib import Path

    from meeting.settings import Settings

log = logging.getLogger("meeting.docs.worker")

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["meeting.docs.pdf"])

# What the forkserver keeps of the server's environment: nothing secret (DATABASE_URL with its password,
# MEETING_SECRET_KEY, the PKCS#11 PIN …) may reach it, because a worker's memory starts as its copy.
FORKSERVER_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ")
_forkserver_started = False


def _start_forkserver() -> None:
    """Start the forkserver (once per server process) with only FORKSERVER_ENVIRONMENT."""
    global _forkserver_started
    if _forkserver_started:
        return
    environment = os.environ.copy()
    os.environ.clear()
    os.environ.update({name: environment[name] for name in FORKSERVER_ENVIRONMENT if name in environment})
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(environment)
    _forkserver_started = True


class PdfInfo(NamedTuple):
    """What `inspect_pdf` found: the page count, each page's width, height (points) and text, whether
    MuPDF had to repair the file to open it, and whether it is signed."""

    page_count: int
    pages: list[tuple[float, float, str]]
    repaired: bool = False
    # Whether it has signature fields: re-saving it would break their signatures.
    signed: bool = False


class WorkerFailed(Exception):
    """A task was refused, crashed its worker, or ran out of time; the message says which."""


class Source(NamedTuple):
    """A file a task reads: the server opens it and hands the worker the open descriptor."""

    path: Path


class Target(NamedTuple):
    """A file a task writes: the server creates a new file beside `path` for the worker to write
    through, and moves it to `path` only when the task succeeded (a reader never sees half a file)."""

    path: Path


class Descriptor(NamedTuple):
    """What a worker function gets for a Source or a Target: the open descriptor, and the server's
    path as a name that tells files apart (blobs are named by their hash; never opened)."""

    fd: int
    name: str


# The most files one task may pass (scanned images of one upload, and the PDF they become): one
# message carries at most 253 descriptors (the kernel's SCM_MAX_FD).
MAX_TASK_FILES = 201
# A worker holds the descriptors of one task, its pipe and the standard streams.
OPEN_FILES = MAX_TASK_FILES + 16
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


# The account workers run as when the server runs as root.
WORKER_ACCOUNT = "nobody"


def _landlock_abi() -> int:
    """The kernel's Landlock version, 0 if it has none. Asked once at import: the library finds libc
    through `ldconfig`, which a confined worker could not run."""
    try:
        return int(Landlock(strict=False).abi_version)
    except LandlockError:
        return 0


# Whether this kernel can shut workers off from file paths: without it, only the chroot of a server
# run as root does, and workers of a server under its own account can read that account's files.
LANDLOCK_ABI = _landlock_abi()


def isolate(empty_root: str) -> None:
    """Shut this process off from every file path, the network, and other processes' signals.

    Landlock (a Linux security module any process may use on itself) denies opening, listing,
    creating or executing anything by path and connecting or listening on TCP: only descriptors
    opened before, or received over the pipe, still work. When the server runs as root, the worker
    also moves its root to an empty directory and becomes an unprivileged account first (a root
    worker could otherwise load kernel code). Everything the worker needs (modules, fonts) is
    loaded before this.
    """
    if os.geteuid() == 0:
        account = pwd.getpwnam(WORKER_ACCOUNT)
        os.chroot(empty_root)
        os.chdir("/")
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
    if LANDLOCK_ABI:
        # What this kernel knows of: file access since 5.13, TCP since 6.7, signals and abstract
        # sockets since 6.12.
        Landlock(strict=False).apply()


def _cpu_budget(seconds: float) -> None:
    """Let the next task use `seconds` of CPU more than the worker has used so far; beyond, the kernel
    stops the worker (SIGXCPU) even if the server is not watching."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    allowed = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (allowed, resource.RLIM_INFINITY))


def _worker_main(connection: Connection, memory_bytes: int, empty_root: str) -> None:
    """The loop of one worker process: receive (function, args, seconds, files), answer (status, value)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server handles Ctrl-C and then stops us
    _confine(memory_bytes)
    from meeting.docs import pdf  # already imported by the forkserver: free

    pipe = socket.socket(fileno=os.dup(connection.fileno()))
    isolate(empty_root)
    while True:
        try:
            name, args, seconds, count = connection.recv()
            descriptors = socket.recv_fds(pipe, 1, count)[1] if count else []
        except (EOFError, OSError):
            return
        _cpu_budget(seconds)
        try:
            answer: tuple[str, Any] = ("ok", getattr(pdf, name)(*_received(args, descriptors)))
        except pdf.Refused as exc:
            answer = ("refused", str(exc))
        except MemoryError:
            answer = ("refused", "the file needs more memory than a worker may use")
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        finally:
            for descriptor in descriptors:
                os.close(descriptor)
        connection.send(answer)


def _received(args: tuple[Any, ...], descriptors: list[int]) -> list[Any]:
    """The task's arguments with each Descriptor's number (its place in the message) made the
    descriptor that arrived in that place."""

    def resolve(value: Any) -> Any:
        if isinstance(value, Descriptor):
            return Descriptor(descriptors[value.fd], value.name)
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return [resolve(arg) for arg in args]


class _TaskFiles:
    """The server's side of a task's files: opened before it is sent, closed after; each Target's new
    file is moved into place if the task succeeded and removed if not."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.descriptors: list[int] = []
        self._written: list[tuple[Path, Path]] = []  # (the new file, where it goes)
        try:
            self.args = [self._open(arg) for arg in args]
        except BaseException:
            self.close(succeeded=False)
            raise
        if len(self.descriptors) > MAX_TASK_FILES:
            self.close(succeeded=False)
            raise WorkerFailed(f"a task may pass at most {MAX_TASK_FILES} files")

    def _open(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._open(item) for item in value]
        if isinstance(value, Source):
            descriptor = os.open(value.path, os.O_RDONLY | os.O_CLOEXEC)
        elif isinstance(value, Target):
            partial = value.path.with_name(f".{value.path.name}.{secrets.token_hex(4)}.part")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            descriptor = os.open(partial, flags, 0o600)
            self._written.append((partial, value.path))
        else:
            return value
        self.descriptors.append(descriptor)
        return Descriptor(len(self.descriptors) - 1, str(value.path))

    def close(self, *, succeeded: bool) -> None:
        for descriptor in self.descriptors:
            os.close(descriptor)
        self.descriptors = []
        for partial, final in self._written:
            if succeeded:
                os.replace(partial, final)
            else:
                partial.unlink(missing_ok=True)
        self._written = []


class _Worker:
    """One worker process and the parent's end of its pipe (a Unix socket, so it carries descriptors)."""

    def __init__(self, memory_bytes: int) -> None:
        parent, child = _context.Pipe()
        self.connection: Connection = parent
        self.socket = socket.socket(fileno=os.dup(parent.fileno()))
        self.process: BaseProcess = _context.Process(
            target=_worker_main,
            args=(child, memory_bytes, _empty_root()),
            daemon=True,
            name="meeting-pdf-worker",
        )
        self.process.start()
        child.close()

    def send(self, name: str, files: _TaskFiles, timeout: float) -> None:
        self.connection.send((name, files.args, timeout, len(files.descriptors)))
        if files.descriptors:
            socket.send_fds(self.socket, [b"f"], files.descriptors)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()
        with contextlib.suppress(Exception):
            self.socket.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerPool:
    """Up to `size` workers; `run` sends one task to an idle worker and awaits its answer."""

    def __init__(self, size: int, memory_bytes: int) -> None:
        _start_forkserver()
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
        """Run `meeting.docs.pdf.<name>(*args)` in a worker and return its value; each Source and
        Target among the arguments (or in a list among them) reaches the function as a Descriptor.

        Raises:
            WorkerFailed: the file was refused, the worker crashed, or the deadline passed.
        """
        # Imported here: the worker processes import this module too, and need no metrics.
        from meeting import metrics

        files = _TaskFiles(args)
        succeeded = False
        metrics.PDF_JOBS_ACTIVE.inc()
        try:
            value = await self._run(name, files, timeout)
            succeeded = True
            return value
        finally:
            metrics.PDF_JOBS_ACTIVE.dec()
            metrics.PDF_JOBS.labels(name, "ok" if succeeded else "failed").inc()
            files.close(succeeded=succeeded)

    async def _run(self, name: str, files: _TaskFiles, timeout: float) -> Any:
        worker = await self._acquire()
        while not worker.process.is_alive():  # died while idle (killed from outside): start another
            self._discard(worker)
            worker = await self._acquire()
        healthy = False
        cancelled = False
        try:
            try:
                worker.send(name, files, timeout)
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
_empty_roots: list[str] = []


def _empty_root() -> str:
    """The empty directory root-run workers take as their root (made once per server process)."""
    if not _empty_roots:
        _empty_roots.append(tempfile.mkdtemp(prefix="meeting-worker-root-"))
    return _empty_roots[0]


def pool_for(settings: Settings) -> WorkerPool:
    """The process-wide pool for these limits: workers outlive apps (tests build many apps)."""
    size = settings.pdf_workers or (multiprocessing.cpu_count() or 1)
    key = (size, settings.worker_memory_bytes)
    if key not in _pools:
        if not LANDLOCK_ABI and os.geteuid() != 0:
            log.warning(
                "this kernel has no Landlock and the server does not run as root: PDF workers can read "
                "the files of the server's account (see docs/security.md)"
            )
        _pools[key] = WorkerPool(size, settings.worker_memory_bytes)
    return _pools[key]


@atexit.register
def _close_pools() -> None:
    for pool in _pools.values():
        pool.close()
    for root in _empty_roots:
        with contextlib.suppress(OSError):
            os.rmdir(root)
