"""What an operator watches: /metrics in Prometheus's text format, and logs as JSON lines with a request id.

`observe(app)` wraps the app's whole ASGI handler (outside routing, so a 404 for no route is counted and
logged too, and the time includes every middleware) to time and log each HTTP request;
`ObservabilityPlugin` adds the /metrics route and a sampler that reads the database pool and the broker
every few seconds (off the request path). The metric objects are module globals,
as prometheus-client wants them, are in meeting/metrics.py, incremented where the thing happens
(rooms/hub.py, docs/worker.py, backup.py).

With several server processes (`meeting serve --workers N`) the CLI points PROMETHEUS_MULTIPROC_DIR at
a fresh directory before the workers start; each process writes its figures there and whichever answers
/metrics sums them (prometheus-client's multiprocess mode), so a scrape sees the whole installation.
Several installations behind a load balancer are scraped one by one.

Logs never carry a request's headers, query string or body: tokens, passwords, receipts and ballot
choices travel only there (tests/test_observability.py greps a whole run's log for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import ipaddress
import itertools
import json
import logging
import logging.handlers
import os
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.logging import LoggingConfig
from litestar.plugins import InitPluginProtocol
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

from meeting.errors import Code, Forbidden
from meeting.metrics import BROKER_UP, DB_POOL_IN_USE, DB_POOL_SIZE, HTTP_REQUESTS, HTTP_SECONDS

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from meeting.settings import Settings

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
SAMPLE_SECONDS = 5.0
TEXT_FORMAT = "text/plain; version=0.0.4"  # what generate_latest writes; Litestar adds the charset

# The request being answered, for every log line written while it runs.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# A client's X-Request-ID is kept when it looks like an id (a proxy's, a test's), else replaced.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_NO_ROUTE = "(none)"

access_log = logging.getLogger("meeting.access")
log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ logs


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (a record of the access log brings its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record."""
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


# Fields a record may carry into its line, besides the standard ones.
_EXTRA = ("request_id", "method", "route", "path", "status", "duration_ms", "client")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields, and a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _EXTRA:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class SizeRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates once the file has reached maxBytes: the standard handler formats every record twice to
    see whether it would still fit, which doubled the cost of each access line."""

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Whether the file is full."""
        if self.stream is None:
            self.stream = self._open()
        return self.maxBytes > 0 and self.stream.tell() >= self.maxBytes


def logging_config(settings: Settings) -> LoggingConfig:
    """JSON lines on stderr, or into MEETING_LOG_FILE rotated by size.

    Written by the logging thread itself, not through a queue: a line costs a few microseconds into the
    page cache, and the queue's listener thread competed for the interpreter lock with the event loop
    (bench/observability.py measured the access line at about twice the cost through the queue).
    """
    target: dict[str, Any]
    if settings.log_file is not None:
        target = {
            "()": SizeRotatingFileHandler,
            "filename": str(settings.log_file),
            "maxBytes": settings.log_max_bytes,
            "backupCount": settings.log_backups,
            "encoding": "utf-8",
        }
    else:
        target = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return LoggingConfig(
        formatters={"json": {"()": JsonFormatter}},
        filters={"request_id": {"()": RequestIdFilter}},
        handlers={"json_out": {**target, "formatter": "json", "filters": ["request_id"]}},
        root={"level": "INFO", "handlers": ["json_out"]},
        loggers={
            "meeting": {"level": "INFO", "propagate": True},
            "litestar": {"level": "INFO", "propagate": True},
            # uvicorn's own lines (start, stop, protocol errors) in the same format; no access log.
            "uvicorn": {"level": "INFO", "propagate": True, "handlers": []},
            "uvicorn.error": {"level": "INFO", "propagate": True, "handlers": []},
            # Its access lines carry the query string (signed page URLs): ours replace them.
            "uvicorn.access": {"level": "CRITICAL", "propagate": False, "handlers": []},
        },
        log_exceptions="debug",
    )


# ------------------------------------------------------------------------------------------ middleware


# Generated ids: this process's random prefix and a counter, unique across processes and restarts
# without asking the kernel for randomness per request (os.urandom cost ~90 µs a call on the 2-core VM).
_ID_PREFIX = secrets.token_hex(4)
_id_counter = itertools.count(1)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
            break
    return f"{_ID_PREFIX}{next(_id_counter):08x}"


def observe(app: Litestar) -> Litestar:
    """Time, count and log every HTTP request the app answers, routed or not."""
    app.asgi_handler = observability_middleware(app.asgi_handler)
    return app


def observability_middleware(app: ASGIApp) -> ASGIApp:
    """Request id in and out (X-Request-ID), one JSON access line, the request counter and latency."""
    # Children of the labelled metrics, made once per (method, route, status): labels() takes a lock.
    counted: dict[tuple[str, str, int], Any] = {}
    timed: dict[tuple[str, str], Any] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        echoed = request_id.encode()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", echoed)]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            route = scope.get("path_template") or _NO_ROUTE
            key = (method, route, status)
            child = counted.get(key)
            if child is None:
                child = counted[key] = HTTP_REQUESTS.labels(method, route, str(status))
            child.inc()
            timer = timed.get(key[:2])
            if timer is None:
                timer = timed[key[:2]] = HTTP_SECONDS.labels(method, route)
            timer.observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "path": scope.get("path"),  # never the query: it may hold a signed URL
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            REQUEST_ID.reset(token)

    return middleware


# ---------------------------------------------------------------------------------------------- /metrics


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus's text format, for loopback callers or the operator's bearer token.

    Raises:
        Forbidden: from elsewhere without MEETING_METRICS_TOKEN as the bearer token.
    """
    settings: Settings = request.app.state.settings
    token = settings.metrics_token
    given = request.headers.get("authorization", "")
    allowed = _is_loopback(request.client.host if request.client else None) or (
        token is not None and secrets.compare_digest(given.encode(), f"Bearer {token}".encode())
    )
    if not allowed:
        raise Forbidden(
            Code.METRICS_FORBIDDEN,
            "metrics are for loopback callers, or with the operator token (MEETING_METRICS_TOKEN)",
        )
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, media_type=TEXT_FORMAT)


# ---------------------------------------------------------------------------------------------- sampler


async def _sample(app: Litestar) -> None:
    """Every few seconds: the pool's connections and whether the broker answers."""
    state = app.state
    while True:
        pool = state.engine.pool
        # QueuePool (PostgreSQL) counts; SQLite's pools may not: then the gauges stay at 0.
        with contextlib.suppress(AttributeError, TypeError):
            DB_POOL_IN_USE.set(pool.checkedout())
            DB_POOL_SIZE.set(pool.size())
        broker = state.broker
        try:
            BROKER_UP.set(1 if broker.redis is None or await broker.healthy() else 0)
        except Exception:  # an unreachable Redis is what this gauge reports, not a reason to stop
            BROKER_UP.set(0)
        await asyncio.sleep(SAMPLE_SECONDS)


class ObservabilityPlugin(InitPluginProtocol):
    """The metrics route and the sampler of one app (`observe` wraps its ASGI handler)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Register the route and the sampler's lifespan."""
        app_config.route_handlers.append(metrics)
        app_config.lifespan.append(_sampler)
        return app_config


@contextlib.asynccontextmanager
async def _sampler(app: Litestar) -> AsyncGenerator[None, None]:
    task = asyncio.create_task(_sample(app))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def prepare_multiprocess(directory: os.PathLike[str] | str) -> None:
    """Before server workers start: an empty directory for their figures, named in the environment
    (each worker's prometheus-client reads it at import)."""
    import shutil
    from pathlib import Path

    path = Path(directory)
    shutil.rmtree(path, ignore_errors=True)  # figures of processes that are gone would add up forever
    path.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROCESS_ENV] = str(path)
