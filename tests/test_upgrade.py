"""Upgrades keep the data: a database written by the server as it was a few migrations ago, upgraded with
`meeting db upgrade`, still holds every row and passes `meeting audit verify`.

The old server is the project's own code at the commit before `0005_record` was added, taken from git
and run for real (its demo seed, its HTTP API and its room socket), so the rows are exactly what that
version wrote, audit chain included.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from meeting.settings import Settings
from tests.support.api import api_as
from tests.support.backends import TEST_DATABASE_URL, _dsn, create_database, drop_database
from tests.support.files import make_pdf
from tests.support.servers import free_port, start_server, stop_server
from tests.support.sockets import Socket, open_socket

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.servers import Server

ROOT = Path(__file__).resolve().parent.parent
# The revision before the latest few (0005_record, 0006_minutes, 0007_resolutions).
OLD_HEAD = "0004_voting"
FIRST_NEWER = "meeting/migrations/versions/0005_record.py"
WAIT = 15.0


def _commit_adding_first_newer() -> str | None:
    """The commit that added FIRST_NEWER, None without the project's git history (a shallow clone)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    added = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%H", "--diff-filter=A", "--", FIRST_NEWER],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return added or None


ADDED = _commit_adding_first_newer()
needs_history = pytest.mark.skipif(
    ADDED is None, reason=f"needs the git history back to the commit that added {FIRST_NEWER}"
)


def _old_code(into: Path) -> Path:
    """The `meeting` package as of the commit before FIRST_NEWER was added."""
    added = ADDED
    code = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", f"{added}^", "meeting", "web"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(code)) as tar:
        tar.extractall(into, filter="data")
    versions = sorted(p.stem for p in (into / "meeting" / "migrations" / "versions").glob("0*.py"))
    assert versions[-1] == OLD_HEAD, versions
    return into


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meeting.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(params=["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else []))
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the embedded SQLite; a fresh PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        yield None
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


# ------------------------------------------------------------------------------------- the old server


async def _login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/api/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _socket(server: Server, meeting_id: int, token: str) -> Socket:
    sock = await open_socket(server, meeting_id)
    await sock.send({"type": "auth", "token": token})
    first = await sock.recv(WAIT)
    assert first["type"] == "room.snapshot", first
    return sock


async def _old_meeting(server: Server) -> dict[str, Any]:
    """A session as the old server records it: attendance, a new document, an annotation, a conclusion,
    a published secret poll, a closed named poll and a named poll left open with a ballot in it."""
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
        tokens = {
            n: await _login(client, n) for n in ("secretary", "chair", "delegate1", "delegate2", "delegate3")
        }

        async def ok(method: str, url: str, who: str, **kwargs: Any) -> Any:
            response = await client.request(
                method, url, headers={"Authorization": f"Bearer {tokens[who]}"}, **kwargs
            )
            assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
            return response.json() if response.content else None

        meeting = (await ok("GET", "/api/meetings", "secretary"))[0]
        url = f"/api/meetings/{meeting['id']}"
        items = await ok("GET", f"{url}/agenda", "secretary")
        pdf = make_pdf("Nghị quyết về dự toán ngân sách 2027", pages=3)
        created = await ok(
            "POST",
            f"{url}/documents",
            "secretary",
            files=[("file", ("Nghị quyết dự toán.pdf", pdf, "application/pdf"))],
        )
        await ok("POST", f"{url}/status", "secretary", json={"status": "live"})
        for name in ("chair", "delegate1", "delegate2", "delegate3"):
            await ok("PUT", f"{url}/attendance/me", name, json={"attendance": "in_room"})
        chair = await _socket(server, meeting["id"], tokens["chair"])
        await chair.acked({"type": "agenda.item", "itemId": items[2]["id"], "status": "active"}, WAIT)
        await chair.close()
        delegate = await _socket(server, meeting["id"], tokens["delegate1"])
        annotation = secrets.token_hex(8)
        version_id = created["currentVersion"]["id"]
        await delegate.acked(
            {
                "type": "annotation.add",
                "id": annotation,
                "documentId": created["id"],
                "versionId": version_id,
                "page": 2,
                "kind": "highlight",
                "visibility": "shared",
                "payload": {"rects": [[0.1, 0.2, 0.3, 0.05]]},
            },
            WAIT,
        )
        await delegate.close()
        await ok(
            "PUT",
            f"{url}/agenda/{items[2]['id']}/conclusion",
            "secretary",
            json={"text": "Hội đồng thống nhất dự toán ngân sách năm 2027."},
        )

        polls: dict[str, Any] = {}
        for label, kind, votes in (
            ("secret", "secret", {"delegate1": 0, "delegate2": 0, "delegate3": 1}),
            ("named", "named", {"delegate1": 0, "delegate2": 2}),
            ("open", "named", {"delegate3": 1}),
        ):
            poll = await ok(
                "POST",
                f"{url}/polls",
                "secretary",
                json={"itemId": items[2]["id"], "question": f"Thông qua ({label})?", "kind": kind},
            )
            await ok("POST", f"{url}/polls/{poll['id']}/open", "chair")
            for name, choice in votes.items():
                await ok("POST", f"{url}/polls/{poll['id']}/ballots", name, json={"choice": [choice]})
            if label != "open":  # an open secret poll cannot be upgraded (0005_record says why)
                await ok("POST", f"{url}/polls/{poll['id']}/close", "chair")
            if label == "secret":
                await ok("POST", f"{url}/polls/{poll['id']}/publish", "chair")
            polls[label] = await ok("GET", f"{url}/polls/{poll['id']}", "chair")
        return {
            "meeting": meeting,
            "document": created,
            "pdf": hashlib.sha256(pdf).hexdigest(),
            "annotation": annotation,
            "polls": polls,
        }


# ------------------------------------------------------------------------------------- the rows, raw

TABLES = (
    "users",
    "meetings",
    "agenda_items",
    "participants",
    "documents",
    "document_versions",
    "annotations",
    "polls",
    "poll_voters",
    "ballots",
    "poll_voted",
    "conclusions",
    "audit_entries",
    "room_events",
)
# Each table's rows as the old version wrote them, by columns both versions have.
QUERIES = {
    "meetings": "SELECT id, title, status, location FROM meetings ORDER BY id",
    "participants": "SELECT id, meeting_id, user_id, role, attendance FROM participants ORDER BY id",
    "document_versions": "SELECT id, document_id, number, sha256, page_count FROM document_versions "
    "ORDER BY id",
    "annotations": "SELECT id, version_id, page, kind, visibility FROM annotations ORDER BY id",
    "polls": "SELECT id, kind, state, result FROM polls ORDER BY id",
    "ballots": "SELECT poll_id, participant_id, choice FROM ballots ORDER BY poll_id, participant_id",
    "conclusions": "SELECT item_id, version, text FROM conclusions ORDER BY item_id, version",
    "audit_entries": "SELECT meeting_id, seq, action, payload, at, prev_hash, hash FROM audit_entries "
    "ORDER BY meeting_id, seq",
}


async def _fetch(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    """The rows of a query, straight from the database."""
    if settings.database_url:
        connection = await asyncpg.connect(_dsn(settings.database_url))
        try:
            return [tuple(r) for r in await connection.fetch(query)]
        finally:
            await connection.close()
    with contextlib.closing(sqlite3.connect(settings.data_dir / "meeting.sqlite3")) as connection:
        return [tuple(r) for r in connection.execute(query)]


async def _rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Counts of every table and the content of the ones above."""
    queries = {f"count {t}": f"SELECT count(*) FROM {t}" for t in TABLES} | QUERIES
    return {name: await _fetch(settings, query) for name, query in queries.items()}


async def _secret_choices(settings: Settings, table: str) -> list[str]:
    return [r[0] for r in await _fetch(settings, f"SELECT choice FROM {table} ORDER BY choice")]


# ----------------------------------------------------------------------------------------- the test


@pytest.mark.slow
@needs_history
async def test_an_old_database_upgraded_keeps_its_rows_and_its_record(
    tmp_path: Path, database_url: str | None
) -> None:
    old = _old_code(tmp_path / "old")
    data = tmp_path / "data"
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")}
    base |= {"MEETING_DATA_DIR": str(data), "MEETING_SECRET_KEY": secrets.token_urlsafe(48)}
    if database_url:
        base["DATABASE_URL"] = database_url
    # The old package first on the path; PYTHONSAFEPATH keeps the working directory's out of it.
    old_env = base | {"PYTHONPATH": str(old), "PYTHONSAFEPATH": "1"}
    for step in (("db", "upgrade"), ("demo",)):
        done = _cli(old_env, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    settings = Settings.from_env(base)

    # uvicorn puts its working directory first on the path: the old server runs from the old code's.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(old)
        process, server = await start_server(old_env, port=free_port())
    try:
        made = await _old_meeting(server)
    finally:
        stop_server(process)
    before = await _rows(settings)
    assert before["count ballots"] == [(3,)]  # named ballots, the open poll's included
    old_secret = await _secret_choices(settings, "secret_ballots")
    assert len(old_secret) == 3

    # Production does not migrate by itself: serve names the command and stops.
    production = base | {"DATABASE_URL": database_url or f"sqlite:///{data / 'meeting.sqlite3'}"}
    refused = _cli(production, "serve", "--port", str(free_port()))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"is at revision {OLD_HEAD}" in refused.stderr, refused.stderr
    assert "run `meeting db upgrade`" in refused.stderr

    if not database_url:
        # A copy whose closed secret poll was changed since its close is refused, untouched.
        tampered = tmp_path / "tampered"
        tampered.mkdir()
        shutil.copy(data / "meeting.sqlite3", tampered / "meeting.sqlite3")
        with contextlib.closing(sqlite3.connect(tampered / "meeting.sqlite3")) as connection, connection:
            connection.execute("UPDATE secret_ballots SET choice = '[2]' WHERE choice = '[0]'")
        refused = _cli(base | {"MEETING_DATA_DIR": str(tampered)}, "db", "upgrade")
        assert refused.returncode != 0
        assert "ballots do not match the digest frozen at its close" in refused.stdout + refused.stderr
        with contextlib.closing(sqlite3.connect(tampered / "meeting.sqlite3")) as connection:
            assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(OLD_HEAD,)]

    upgraded = _cli(base, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == "database is up to date"
    after = await _rows(settings)
    # The chain gains one entry at the end, for the closed secret poll: the digest of its ballots split.
    split = after["audit_entries"][len(before["audit_entries"]) :]
    assert [(e[2], json.loads(e[3])["poll"]) for e in split] == [
        ("poll.ballots_split", made["polls"]["secret"]["id"])
    ]
    assert split[0][5] == before["audit_entries"][-1][6]  # chained to the old head
    after["audit_entries"] = after["audit_entries"][: len(before["audit_entries"])]
    after["count audit_entries"] = [(len(before["audit_entries"]),)]
    assert after == before
    # The closed secret poll's ballots moved apart: the same choices, no longer beside their receipts.
    assert await _secret_choices(settings, "secret_choices") == old_secret

    # The new server serves what the old one stored.
    process, server = await start_server(base)
    try:
        ids = {name: int(uid) for uid, name in await _fetch(settings, "SELECT id, username FROM users")}
        async with api_as(settings, server.http, ids) as api:
            url = f"/api/meetings/{made['meeting']['id']}"
            doc = made["document"]
            pdf = await api.call("GET", f"{url}/documents/{doc['id']}/download?original=true", "secretary")
            assert pdf.status_code == 200
            assert hashlib.sha256(pdf.content).hexdigest() == made["pdf"]
            listed = await api.ok(
                "GET",
                f"{url}/documents/{doc['id']}/versions/{doc['currentVersion']['id']}/annotations",
                "delegate1",
            )
            assert [a["id"] for p in listed["pages"] for a in p["annotations"]] == [made["annotation"]]
            for label in ("secret", "named"):
                poll = await api.ok("GET", f"{url}/polls/{made['polls'][label]['id']}", "chair")
                assert poll["state"] == made["polls"][label]["state"]
                assert poll["result"]["counts"] == made["polls"][label]["result"]["counts"]
            receipts = await api.ok(
                "GET", f"{url}/polls/{made['polls']['secret']['id']}/ballots", "delegate1"
            )
            assert len(receipts["receiptHashes"]) == 3
            # The poll left open closes on the new version and counts the ballot cast on the old one.
            closed = await api.ok("POST", f"{url}/polls/{made['polls']['open']['id']}/close", "chair")
            assert closed["result"]["counts"] == [0, 1, 0]
    finally:
        stop_server(process)
    audit = _cli(base, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("audit ok")


def _production(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment of a server given a database URL (SQLite here: the check is the same)."""
    path = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    env |= {"MEETING_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{path}"}
    return env, path


def test_serve_refuses_a_database_without_a_schema(tmp_path: Path) -> None:
    env, _ = _production(tmp_path)
    refused = _cli(env, "serve", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "has no schema yet: run `meeting db upgrade` first" in refused.stderr, refused.stderr


def test_serve_refuses_a_database_migrated_by_a_newer_version(tmp_path: Path) -> None:
    env, path = _production(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0099_future')")
        connection.commit()
    refused = _cli(env, "serve", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "is at revision 0099_future, which this version does not know" in refused.stderr, refused.stderr
    assert _cli(env, "db", "upgrade").returncode != 0  # nor does it migrate it anywhere


def test_serve_refuses_an_unreachable_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    env |= {"MEETING_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}
    refused = _cli(env, "serve", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "cannot read the database's schema version" in refused.stderr, refused.stderr
