"""The figures /metrics reports (meeting/observability.py serves them), each incremented where it happens.

Only prometheus-client is imported here, so the room hub and the backup schedule can count cheaply.
Counters get `_total` in the exposition (`meeting_http_requests_total`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # the `_created` series double the output and nobody here graphs them

# Latency buckets for a LAN: most answers take milliseconds, uploads and minutes PDFs seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "meeting_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "meeting_http_request_duration_seconds",
    "Time to answer, by route template",
    ["method", "route"],
    buckets=BUCKETS,
)
SOCKETS_OPEN = Gauge("meeting_sockets_open", "Room sockets joined to a meeting", multiprocess_mode="livesum")
EVENTS_DELIVERED = Counter("meeting_room_events_delivered", "Room events written to sockets")
EVENTS_DROPPED = Counter(
    "meeting_room_events_dropped", "Pointer events dropped for sockets that fell behind (by design)"
)
SOCKET_RESYNCS = Counter(
    "meeting_socket_resyncs", "Sockets closed with 4409 to resync (fell too far behind, or missed events)"
)
PDF_JOBS_ACTIVE = Gauge(
    "meeting_pdf_jobs_active", "PDF worker jobs queued or running", multiprocess_mode="livesum"
)
PDF_JOBS = Counter("meeting_pdf_jobs", "PDF worker jobs finished, by task and outcome", ["task", "outcome"])
DB_POOL_IN_USE = Gauge(
    "meeting_db_pool_checked_out", "Database connections in use (sampled)", multiprocess_mode="livesum"
)
DB_POOL_SIZE = Gauge(
    "meeting_db_pool_size",
    "Database connections held open by the pool (sampled)",
    multiprocess_mode="livesum",
)
BROKER_UP = Gauge(
    "meeting_broker_up",
    "1 when Redis answers (always 1 with the in-process broker); sampled",
    multiprocess_mode="livemin",
)
BACKUPS = Counter("meeting_backups", "Scheduled backups, by outcome", ["outcome"])
