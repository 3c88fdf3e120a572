"""Cost of the request middleware (meeting/observability.py): metrics, request id and the JSON access line.

The same app is called straight through ASGI (no HTTP client, no socket) with and without `observe`,
in alternating rounds (CPU time, fastest round of each), on an unauthenticated GET /api/auth/me (401:
the whole middleware and exception stack, no database); then the middleware alone around an app that
answers at once. The access lines go to a log file, as in production with MEETING_LOG_FILE.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import meeting.app as app_module
from meeting.settings import Settings

REQUESTS = 1000
ROUNDS = 15


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/auth/me",
        "raw_path": b"/api/auth/me",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"box"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _round(app: Any) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 401, message

    # CPU time of this process, not wall time: the 2-core machine is shared, and waiting for a core is
    # not the middleware's cost.
    started = time.process_time()
    for _ in range(REQUESTS):
        await app(_scope(), receive, send)
    return (time.process_time() - started) / REQUESTS * 1e6


async def _bare_middleware(directory: Path) -> tuple[float, float]:
    """The middleware alone, around an app that answers 204 at once: (µs with, µs without) a request."""
    from meeting.observability import observability_middleware

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wrapped = observability_middleware(answer)  # type: ignore[arg-type]
    with_mw = min([await _round_of(wrapped) for _ in range(ROUNDS)])
    without = min([await _round_of(answer) for _ in range(ROUNDS)])
    return with_mw, without


async def _round_of(app: Any) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    started = time.process_time()
    for _ in range(REQUESTS):
        await app(_scope(), receive, send)
    return (time.process_time() - started) / REQUESTS * 1e6


async def main() -> None:
    directory = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=directory, secret_key="k" * 64, log_file=directory / "meeting.log")
    observed = app_module.create_app(settings)
    real_observe = app_module.observe
    app_module.observe = lambda app: app  # type: ignore[assignment] - the baseline: no middleware
    try:
        bare = app_module.create_app(settings)
    finally:
        app_module.observe = real_observe
    logging.getLogger("meeting.access").setLevel(logging.INFO)
    async with observed.lifespan(), bare.lifespan():
        await _round(observed)
        await _round(bare)  # warm both
        with_mw, without = [], []
        for _ in range(ROUNDS):
            with_mw.append(await _round(observed))
            without.append(await _round(bare))
        logging.getLogger("meeting.access").setLevel(logging.WARNING)
        quiet = []
        for _ in range(ROUNDS):
            quiet.append(await _round(observed))
            without.append(await _round(bare))
    # The fastest round of each: the 2-core machine is shared, slower rounds measure the neighbours.
    a, b, q = min(with_mw), min(without), min(quiet)
    lines = sum(1 for _ in (directory / "meeting.log").open()) if (directory / "meeting.log").exists() else 0
    print(f"with observe:             {a:7.1f} µs/request (median {statistics.median(with_mw):.1f})")
    print(f"with observe, no log line: {q:7.1f} µs/request (median {statistics.median(quiet):.1f})")
    print(f"without:                  {b:7.1f} µs/request (median {statistics.median(without):.1f})")
    print(f"access lines written: {lines}")
    logging.getLogger("meeting.access").setLevel(logging.INFO)
    alone, nothing = await _bare_middleware(directory)
    print(f"the middleware alone (log line included): {alone - nothing:.1f} µs/request")
    print(f"middleware cost {a - b:.1f} µs/request ({q - b:.1f} without the log line); ratio {a / b:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
