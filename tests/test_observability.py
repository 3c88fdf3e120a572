"""/metrics and the JSON log: who may scrape, what is counted, and what a whole run's log never holds."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from meeting.app import create_app
from meeting.rooms.state import Outbox
from meeting.settings import Settings
from tests.support.api import PASSWORD, api_for
from tests.support.backends import TEST_REDIS_URL
from tests.support.servers import deployment, free_port, migrate, serve_in_process, start_server, stop_server
from tests.support.sockets import join
from tests.test_backup import _live_meeting

if TYPE_CHECKING:
    from pathlib import Path

WAIT = 15.0


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and sorted labels (it must parse)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _app(tmp_path: Path, **settings: Any) -> Any:
    return create_app(Settings(data_dir=tmp_path, secret_key="k" * 64, **settings))


async def test_metrics_count_requests_by_route_template_and_status_for_loopback(tmp_path: Path) -> None:
    async with serve_in_process(_app(tmp_path)) as client:
        # The figures are the process's: other tests in it count too, so compare before and after.
        before = _samples((await client.get("/metrics")).text)
        for _ in range(3):
            assert (await client.get("/api/meetings/12")).status_code == 401
        assert (await client.get("/no/such/route")).status_code == 404
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(answer.text)

    def grew(name: str, **labels: str) -> float:
        return _value(samples, name, **labels) - _value(before, name, **labels)

    route = "/api/meetings/{meeting_id}"
    assert grew("meeting_http_requests_total", method="GET", route=route, status="401") == 3
    assert grew("meeting_http_requests_total", method="GET", route="(none)", status="404") == 1
    assert grew("meeting_http_request_duration_seconds_count", method="GET", route=route) == 3
    for name in (
        "meeting_sockets_open",
        "meeting_room_events_delivered_total",
        "meeting_room_events_dropped_total",
        "meeting_socket_resyncs_total",
        "meeting_pdf_jobs_active",
        "meeting_db_pool_checked_out",
        "meeting_broker_up",
    ):
        assert any(key[0] == name for key in samples), name


@pytest.mark.parametrize(
    ("configured", "sent", "expected"),
    [
        (None, None, 403),
        (None, "Bearer anything", 403),
        ("s3cret-operator", None, 403),
        ("s3cret-operator", "Bearer wrong", 403),
        ("s3cret-operator", "s3cret-operator", 403),  # not a bearer header
        ("s3cret-operator", "Bearer s3cret-operator", 200),
    ],
)
async def test_metrics_from_another_host_need_the_operator_token(
    tmp_path: Path, configured: str | None, sent: str | None, expected: int
) -> None:
    app = _app(tmp_path, metrics_token=configured)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("192.168.1.50", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://box") as client:
            answer = await client.get("/metrics", headers={"authorization": sent} if sent else {})
    assert answer.status_code == expected
    if expected == 403:
        assert answer.json()["code"] == "metrics.forbidden"
        assert "meeting_http_requests" not in answer.text


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("tablet-7.a:1", True), ("x" * 129, False), ("bad id", False), ("<script>", False), (None, False)],
)
async def test_a_sane_request_id_is_echoed_and_any_other_is_replaced(
    tmp_path: Path, sent: str | None, kept: bool
) -> None:
    async with serve_in_process(_app(tmp_path)) as client:
        answer = await client.get("/health", headers={"x-request-id": sent} if sent else {})
    echoed = answer.headers["x-request-id"]
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and len(echoed) == 16 and int(echoed, 16) >= 0


@pytest.mark.parametrize(
    ("queued", "offered", "dropped", "accepted"),
    [
        (["live"], "pointer", 0, True),  # room left
        (["live", "live"], "pointer", 1, True),  # a new pointer for a full queue is skipped
        (["pointer", "live"], "live", 1, True),  # a queued pointer makes room
        (["live", "live"], "live", 0, False),  # nothing to drop: resync
    ],
)
def test_the_outbox_counts_the_pointer_events_it_drops(
    queued: list[str], offered: str, dropped: int, accepted: bool
) -> None:
    texts = {"pointer": '{"type":"pointer.move","x":1}', "live": '{"type":"page.turn","seq":3}'}
    outbox = Outbox(limit=2)
    for kind in queued:
        outbox.items.append(texts[kind])
    assert outbox.offer(texts[offered]) is accepted
    assert outbox.dropped == dropped


# ----------------------------------------------------------------------------- a whole run's log


async def test_a_full_run_logs_json_lines_without_tokens_passwords_receipts_or_choices(
    tmp_path: Path,
) -> None:
    log_file = tmp_path / "logs" / "meeting.log"
    log_file.parent.mkdir()
    # Small files, to see the rotation happen during the run.
    here = deployment(
        tmp_path / "data",
        MEETING_LOG_FILE=str(log_file),
        MEETING_LOG_MAX_BYTES="6000",
        MEETING_LOG_BACKUPS="50",
    )
    await migrate(here.settings)
    process, server = await start_server(here.env)
    secrets_seen: list[str] = [PASSWORD, here.env["MEETING_SECRET_KEY"]]
    try:
        async with api_for(here.settings, server.http) as api:
            council, _docs, secret = await _live_meeting(api, server)  # uploads, a named and a secret poll
            login = await api.client.post(
                "/api/auth/login", json={"username": "delegate2", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            secrets_seen += [token, *api.tokens.values()]
            cast = await api.client.post(
                f"{council.url}/polls/{secret['id']}/ballots",
                json={"choice": [2]},
                headers={"authorization": f"Bearer {token}", "x-request-id": "run-ballot-1"},
            )
            assert cast.status_code == 200, cast.text
            receipt = cast.json()["receipt"]
            secrets_seen += [receipt, receipt.lower()]
            sock, _ = await join(server, api, council.meeting_id, "delegate1")
            await sock.close()
            await api.ok("POST", f"{council.url}/polls/{secret['id']}/close", "chair")
            await api.ok("POST", f"{council.url}/polls/{secret['id']}/publish", "chair")
            verdict = await api.ok(
                "POST",
                f"{council.url}/polls/{secret['id']}/receipts/verify",
                "delegate2",
                json={"receipt": receipt},
            )
            assert verdict["found"] is True
            scrape = (await api.client.get("/metrics")).text
    finally:
        stop_server(process)

    files = sorted(log_file.parent.iterdir())
    assert len(files) > 1, "the log did not rotate"
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)
    lines = [json.loads(line) for line in text.splitlines() if line]  # every line is one JSON object
    access = [line for line in lines if line["logger"] == "meeting.access"]
    assert len(access) > 20
    for line in access:
        assert {"time", "level", "message", "request_id", "method", "route", "status", "duration_ms"} <= set(
            line
        )
    ballot = next(line for line in access if line["request_id"] == "run-ballot-1")
    assert ballot["route"] == "/api/meetings/{meeting_id}/polls/{poll_id}/ballots" and ballot["status"] == 200
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]  # it logs query strings
    assert not [line for line in lines if "?" in line.get("path", "") or "sig=" in line["message"]]
    for secret_text in secrets_seen:
        assert secret_text not in text
    assert "choice" not in text.lower()  # no ballot body, no choice, in any line

    samples = _samples(scrape)
    assert _value(samples, "meeting_room_events_delivered_total") > 0
    pdf_jobs = sum(v for (name, labels), v in samples.items() if name == "meeting_pdf_jobs_total")
    assert pdf_jobs > 0
    ballots = "/api/meetings/{meeting_id}/polls/{poll_id}/ballots"
    assert (
        _value(samples, "meeting_http_requests_total", method="POST", route=ballots, status="200") == 4
    )  # 2 named, 2 secret


# ------------------------------------------------------------------------------- several processes


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs TEST_REDIS_URL (several processes share events)")
async def test_with_two_workers_metrics_add_up_both_processes(tmp_path: Path) -> None:
    assert TEST_REDIS_URL is not None
    data_dir = tmp_path / "data"
    env = {**deployment(data_dir, REDIS_URL=TEST_REDIS_URL).env}
    env.pop("DATABASE_URL", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    meeting = [sys.executable, "-m", "meeting.cli", "serve", "--workers", "2", "--port", str(port)]
    process = subprocess.Popen(meeting, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(600):
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            # Each on a new connection: the kernel hands them to either process.
            requests = 40
            for _ in range(requests):
                async with httpx.AsyncClient(timeout=10) as fresh:
                    assert (await fresh.get(f"{base}/api/auth/me")).status_code == 401
            pids = {path.name.split("_")[-1] for path in (data_dir / "metrics").glob("counter_*.db")}
            assert len(pids) == 2, f"one process answered everything: {pids}"
            for _ in range(3):  # whichever process answers the scrape, it reports both
                samples = _samples((await client.get(f"{base}/metrics")).text)
                route = "/api/auth/me"
                assert _value(
                    samples, "meeting_http_requests_total", method="GET", route=route, status="401"
                ) == (requests)
    finally:
        process.terminate()
        process.wait(30)
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None  # the test process itself is unaffected
