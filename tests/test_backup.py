"""`meeting backup` and `meeting restore` against real server processes, and the archives they refuse."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import logging
import os
import secrets
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from meeting import backup
from meeting.app import create_app
from meeting.db import create_engine, create_session_factory
from meeting.settings import Settings
from tests.support.api import Api, add_document, api_as, api_for, build_council
from tests.support.backends import TEST_DATABASE_URL, create_database, drop_database, empty_tables
from tests.support.servers import deployment, migrate, serve_in_process, start_server, stop_server
from tests.support.sockets import join, shared_highlight

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.api import Council, DocumentRef
    from tests.support.servers import Server

WAIT = 15.0
MEETING = [sys.executable, "-m", "meeting.cli"]


def meeting_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `meeting` command line as an operator would, with this environment."""
    return subprocess.run(
        [*MEETING, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(params=["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else []))
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, str | None]]:
    """(source, target) DATABASE_URLs: none for the embedded SQLite; two fresh PostgreSQL databases."""
    if request.param == "sqlite":
        yield None, None
        return
    source, target = create_database(), create_database()
    try:
        yield source, target
    finally:
        drop_database(source)
        drop_database(target)


def _tree(root: Path) -> dict[str, str]:
    """Every file under a directory, by its path, with its sha256."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------------- mid-meeting, restored


async def _live_meeting(api: Api, server: Server) -> tuple[Council, list[DocumentRef], dict[str, Any]]:
    """A live meeting: two documents, a closed named poll, an open secret poll with one sealed ballot."""
    council = await build_council(api)
    docs = [
        await add_document(api, council.meeting_id, pages=3, title=t) for t in ("Tờ trình 1", "Tờ trình 2")
    ]
    item = await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Ngân sách 2027"})
    for status in ("scheduled", "live"):
        await api.ok("POST", f"{council.url}/status", "secretary", json={"status": status})
    for name in ("chair", "delegate1", "delegate2"):
        await api.ok("PUT", f"{council.url}/attendance/me", name, json={"attendance": "in_room"})
    chair, _ = await join(server, api, council.meeting_id, "chair")
    await chair.acked({"type": "agenda.item", "itemId": item["id"], "status": "active"}, WAIT)
    await chair.close()
    named = await api.ok(
        "POST", f"{council.url}/polls", "secretary", json={"itemId": item["id"], "question": "Chương trình?"}
    )
    await api.ok("POST", f"{council.url}/polls/{named['id']}/open", "chair")
    for name, choice in (("delegate1", 0), ("delegate2", 1)):
        await api.ok("POST", f"{council.url}/polls/{named['id']}/ballots", name, json={"choice": [choice]})
    await api.ok("POST", f"{council.url}/polls/{named['id']}/close", "chair")
    secret = await api.ok(
        "POST",
        f"{council.url}/polls",
        "secretary",
        json={"itemId": item["id"], "question": "Thông qua dự toán?", "kind": "secret"},
    )
    await api.ok("POST", f"{council.url}/polls/{secret['id']}/open", "chair")
    await api.ok("POST", f"{council.url}/polls/{secret['id']}/ballots", "delegate1", json={"choice": [0]})
    return council, docs, secret


async def _traffic(server: Server, api: Api, council: Council, doc: DocumentRef, stop: asyncio.Event) -> int:
    """Page turns and annotations, ten a second, each acknowledged, until told to stop."""
    chair, _ = await join(server, api, council.meeting_id, "chair")
    delegate, _ = await join(server, api, council.meeting_id, "delegate2")
    sent = 0
    try:
        while not stop.is_set():
            page = sent % doc.page_count + 1
            turn = {
                "type": "page.turn",
                "documentId": doc.document_id,
                "versionId": doc.version_id,
                "page": page,
            }
            await chair.acked(turn, WAIT)
            await delegate.acked(shared_highlight(doc, page), WAIT)
            sent += 1
            await asyncio.sleep(0.1)  # under the room's 20 messages a second per socket, which drops more
    finally:
        await chair.close()
        await delegate.close()
    return sent


async def _record(api: Api, council: Council, docs: list[DocumentRef]) -> dict[str, Any]:
    """What an operator checks after a restore: the meeting, its people, documents, polls, annotations."""
    url = council.url
    record: dict[str, Any] = {
        "meeting": await api.ok("GET", url, "secretary"),
        "participants": await api.ok("GET", f"{url}/participants", "secretary"),
        "documents": await api.ok("GET", f"{url}/documents", "secretary"),
        "polls": await api.ok("GET", f"{url}/polls", "chair"),
    }
    for doc in docs:
        pdf = await api.call("GET", f"{url}/documents/{doc.document_id}/download?original=true", "secretary")
        assert pdf.status_code == 200, pdf.text
        record[f"pdf {doc.document_id}"] = hashlib.sha256(pdf.content).hexdigest()
        listed = await api.ok("GET", doc.annotations_url, "delegate1")
        record[f"annotations {doc.document_id}"] = sorted(
            a["id"] for page in listed["pages"] for a in page["annotations"]
        )
    return record


@pytest.mark.slow
async def test_backup_mid_meeting_restores_the_same_meeting_on_a_new_server(
    tmp_path: Path, database: tuple[str | None, str | None]
) -> None:
    source_url, target_url = database
    extra = {"DATABASE_URL": source_url} if source_url else {}
    here = deployment(tmp_path / "data", **extra)
    await migrate(here.settings)
    archive = tmp_path / "backups" / "mid-meeting.tar.gz"
    archive.parent.mkdir()
    process, server = await start_server(here.env)
    try:
        async with api_for(here.settings, server.http) as api:
            council, docs, secret = await _live_meeting(api, server)
            before = await _record(api, council, docs)
            # A tablet that drops out now will resume from this seq on the restored server.
            tablet, first = await join(server, api, council.meeting_id, "guest")
            last_seq = first["seq"]
            await tablet.close()
            reference, _ = await join(server, api, council.meeting_id, "secretary")

            stop = asyncio.Event()
            traffic = asyncio.create_task(_traffic(server, api, council, docs[0], stop))
            await asyncio.sleep(0.3)
            # A second sealed ballot races the backup: it is in the archive or not, never half.
            ballot = asyncio.create_task(
                api.call(
                    "POST", f"{council.url}/polls/{secret['id']}/ballots", "delegate2", json={"choice": [1]}
                )
            )
            done = await asyncio.to_thread(meeting_cli, here.env, "backup", str(archive))
            stop.set()
            sent = await traffic
            assert (await ballot).status_code == 200
            assert done.returncode == 0, done.stderr
            assert f"backup written: {archive}" in done.stdout
            assert sent > 0
            await reference.quiet(0.5)
            source_log = {m["seq"]: m for m in reference.seen if m.get("seq", 0) > 0}
            await reference.close()
    finally:
        stop_server(process)

    verified = meeting_cli(here.env, "backup", "--verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"archive ok: {archive}: {'postgresql' if source_url else 'sqlite'}")

    # A new installation: another data directory (and database), no key in its environment.
    restored_env = {k: v for k, v in here.env.items() if k not in ("MEETING_SECRET_KEY", "DATABASE_URL")}
    restored_env["MEETING_DATA_DIR"] = str(tmp_path / "restored")
    if target_url:
        restored_env["DATABASE_URL"] = target_url
    restored = meeting_cli(restored_env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    audit = meeting_cli(restored_env, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("audit ok")
    # The stored documents, byte for byte.
    source_blobs = _tree(tmp_path / "data" / "documents" / "blobs")
    restored_blobs = _tree(tmp_path / "restored" / "documents" / "blobs")
    assert restored_blobs == source_blobs
    assert (tmp_path / "restored" / "secret_key").read_text() == here.env["MEETING_SECRET_KEY"]

    settings = Settings.from_env(restored_env)
    process, server = await start_server(restored_env)
    try:
        async with api_as(settings, server.http, api.ids) as again:
            after = await _record(again, council, docs)
            # Everything acknowledged before the backup is there, unchanged; the racing ballot and the
            # traffic are in as far as the snapshot reached.
            cast = next(p for p in after["polls"] if p["id"] == secret["id"])["cast"]
            assert cast in (1, 2)
            for key in before:
                if key == "polls" or key.startswith("annotations"):
                    continue
                assert after[key] == before[key], key
            assert set(before[f"annotations {docs[0].document_id}"]) <= set(
                after[f"annotations {docs[0].document_id}"]
            )
            assert [p for p in after["polls"] if p["id"] != secret["id"]] == [
                p for p in before["polls"] if p["id"] != secret["id"]
            ]

            # The tablet resumes by seq: the restored log is the source's, as far as the snapshot went.
            tablet, replay = await join(server, again, council.meeting_id, "guest", last_seq=last_seq)
            replayed = [replay]
            while replayed[-1]["type"] != "room.replayed":
                replayed.append(await tablet.recv(WAIT))
            await tablet.close()
            head = replayed[-1]["seq"]
            assert [m["seq"] for m in replayed[:-1]] == list(range(last_seq + 1, head + 1))
            for message in replayed[:-1]:
                if message["type"] != "presence.changed" and message["seq"] in source_log:
                    assert message == source_log[message["seq"]]

            # The sealed ballots of the poll that was open count with the archived key.
            closed = await again.ok("POST", f"{council.url}/polls/{secret['id']}/close", "chair")
            assert closed["result"]["ballots"] == cast
            assert closed["result"]["counts"][:2] == ([1, 1] if cast == 2 else [1, 0])
    finally:
        stop_server(process)
    audit = meeting_cli(restored_env, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


# ---------------------------------------------------------------------------------- refused archives


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A real archive of a small installation (SQLite, a document, the secret key), and its environment."""
    data = tmp_path / "source"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "MEETING_SECRET_KEY")
        },
        "MEETING_DATA_DIR": str(data),
    }
    settings = Settings.from_env(env)
    settings.resolved_secret_key()

    async def fill() -> None:
        await migrate(settings)
        async with serve_in_process(create_app(settings)) as client:
            engine = create_engine(settings)
            async with create_session_factory(engine)() as session:
                api = Api(client=client, db=session, settings=settings)
                council = await build_council(api)
                await add_document(api, council.meeting_id, pages=2)
            await engine.dispose()

    asyncio.run(fill())
    path = tmp_path / "source.tar.gz"
    backup.create(settings, path)
    return path, env


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(info, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]


def _rewrite(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _truncated(source: Path, target: Path) -> str:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    return "damaged or truncated"


def _trailer_cut(source: Path, target: Path) -> str:
    target.write_bytes(source.read_bytes()[:-8])  # everything but gzip's length and CRC-32
    return "damaged or truncated"


def _without_manifest(source: Path, target: Path) -> str:
    _rewrite(target, [m for m in _members(source) if m[0].name != "manifest.json"])
    return "has no manifest"


def _altered_document(source: Path, target: Path) -> str:
    members = _members(source)
    for index, (info, data) in enumerate(members):
        if info.name.startswith("documents/blobs/"):
            members[index] = (info, data.replace(b"%%EOF", b"%%EOG"))
            _rewrite(target, members)
            return f"{info.name} was altered"
    raise AssertionError("no document in the archive")


def _altered_database(source: Path, target: Path) -> str:
    members = _members(source)
    for index, (info, data) in enumerate(members):
        if info.name == "database/meeting.sqlite3":
            members[index] = (info, data[:-1] + bytes([data[-1] ^ 1]))
    _rewrite(target, members)
    return "database/meeting.sqlite3 was altered"


def _flipped_byte(source: Path, target: Path) -> str:
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return ""  # the inflater fails, or the inflated bytes fail their hash: either way, refused


def _unlisted_member(source: Path, target: Path) -> str:
    members = _members(source)
    extra = tarfile.TarInfo("documents/blobs/00/extra.pdf")
    _rewrite(target, [(extra, b"%PDF-1.4"), *members])
    return "documents/blobs/00/extra.pdf is in the archive but not in its manifest"


def _escaping_member(source: Path, target: Path) -> str:
    members = _members(source)
    _rewrite(target, [(tarfile.TarInfo("../secret_key"), b"stolen"), *members])
    return "is not something a meeting backup holds"


def _manifest_lies(source: Path, target: Path) -> str:
    members = _members(source)
    for index, (info, data) in enumerate(members):
        if info.name == "manifest.json":
            body = json.loads(data)
            body["files"] = [f for f in body["files"] if f["path"] != "secret_key"]
            members[index] = (info, json.dumps(body).encode())
    members = [m for m in members if m[0].name != "secret_key"]
    _rewrite(target, members)
    return "the archive holds no secret key"


def _not_gzip(source: Path, target: Path) -> str:
    target.write_bytes(gzip.decompress(source.read_bytes()))
    return "damaged or truncated"


@pytest.mark.parametrize(
    "damage",
    [
        _truncated,
        _trailer_cut,
        _without_manifest,
        _altered_document,
        _altered_database,
        _flipped_byte,
        _unlisted_member,
        _escaping_member,
        _manifest_lies,
        _not_gzip,
    ],
)
def test_a_damaged_archive_is_refused_and_nothing_is_touched(
    tmp_path: Path, archive: tuple[Path, dict[str, str]], damage: Any
) -> None:
    source, env = archive
    damaged = tmp_path / "damaged.tar.gz"
    expected = damage(source, damaged)
    target = tmp_path / "target"
    target.mkdir()
    (target / "notes.txt").write_text("an operator's file")
    env = {**env, "MEETING_DATA_DIR": str(target)}

    checked = meeting_cli(env, "backup", "--verify", str(damaged))
    assert checked.returncode == 1
    assert "archive REFUSED" in checked.stderr and expected in checked.stderr, checked.stderr

    restored = meeting_cli(env, "restore", str(damaged))
    assert restored.returncode == 1
    assert "restore REFUSED, nothing was changed" in restored.stderr, restored.stderr
    assert expected in restored.stderr, restored.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_restore_refuses_a_data_directory_in_use(
    tmp_path: Path, archive: tuple[Path, dict[str, str]]
) -> None:
    source, env = archive
    before = _tree(Path(env["MEETING_DATA_DIR"]))
    restored = meeting_cli(env, "restore", str(source))
    assert restored.returncode == 1
    assert "meeting.sqlite3 exists: restore only into a fresh data directory" in restored.stderr
    assert _tree(Path(env["MEETING_DATA_DIR"])) == before


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
def test_restore_refuses_a_database_that_has_tables(
    tmp_path: Path, archive: tuple[Path, dict[str, str]], postgres_url: str
) -> None:
    source, env = archive
    asyncio.run(empty_tables(postgres_url))
    env = {**env, "MEETING_DATA_DIR": str(tmp_path / "fresh"), "DATABASE_URL": postgres_url}
    restored = meeting_cli(env, "restore", str(source))
    assert restored.returncode == 1
    assert "table(s): restore only into an empty database" in restored.stderr, restored.stderr
    assert not (tmp_path / "fresh" / "secret_key").exists()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
def test_restore_refuses_an_archive_of_the_other_database(
    tmp_path: Path, archive: tuple[Path, dict[str, str]]
) -> None:
    source, env = archive
    url = create_database()
    try:
        env = {**env, "MEETING_DATA_DIR": str(tmp_path / "fresh"), "DATABASE_URL": url}
        restored = meeting_cli(env, "restore", str(source))
    finally:
        drop_database(url)
    assert restored.returncode == 1
    assert "the archive holds a sqlite database; this server uses PostgreSQL" in restored.stderr
    assert not (tmp_path / "fresh" / "secret_key").exists()


def test_backup_refuses_to_overwrite_and_bad_arguments(
    tmp_path: Path, archive: tuple[Path, dict[str, str]]
) -> None:
    source, env = archive
    size = source.stat().st_size
    again = meeting_cli(env, "backup", str(source))
    assert again.returncode == 1
    assert "already exists; an archive is never overwritten" in again.stderr
    assert source.stat().st_size == size
    nowhere = meeting_cli(env, "backup", str(tmp_path / "missing" / "a.tar.gz"))
    assert nowhere.returncode == 1 and "is not a directory" in nowhere.stderr
    empty = {**env, "MEETING_DATA_DIR": str(tmp_path / "empty")}
    unset = meeting_cli(empty, "backup", str(tmp_path / "b.tar.gz"))
    assert unset.returncode == 1 and "is MEETING_DATA_DIR the server's data directory?" in unset.stderr
    assert not (tmp_path / "b.tar.gz").exists()
    assert meeting_cli(env, "restore", str(tmp_path / "none.tar.gz")).returncode == 1


# ---------------------------------------------------------------------------------------- schedule


class _Messages(logging.Handler):
    """The messages of one logger (the app's logging configuration replaces pytest's capture)."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self.logger = logging.getLogger(name)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> _Messages:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self)


async def test_scheduled_backups_run_in_the_server_and_keep_the_newest(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key=secrets.token_urlsafe(48),
        backup_dir=tmp_path / "backups",
        backup_interval_hours=1.2 / 3600,
        backup_keep=2,
    )
    await migrate(settings)
    app = create_app(settings)
    with _Messages("meeting.backup") as log:
        async with serve_in_process(app) as client:
            deadline = asyncio.get_running_loop().time() + 30
            while sum("backup done" in m for m in log.messages) < 3:
                assert asyncio.get_running_loop().time() < deadline, log.messages
                # The server answers while it backs up: the archive is written in a thread.
                assert (await client.get("/health")).status_code == 200
                await asyncio.sleep(0.1)
    kept = backup.scheduled_archives(tmp_path / "backups")
    assert len(kept) == 2
    for path in kept:
        assert backup.verify(path).database == "sqlite"
        assert path.stat().st_mode & 0o777 == 0o600  # it holds the key, whatever the umask
    assert not [p for p in (tmp_path / "backups").iterdir() if ".partial-" in p.name]


async def test_a_failing_scheduled_backup_is_logged_and_the_server_keeps_serving(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url="postgresql://postgres@127.0.0.1:1/none",  # nothing listens: pg_dump fails
        secret_key=secrets.token_urlsafe(48),
        backup_dir=tmp_path / "backups",
    )
    app = create_app(settings)
    with _Messages("meeting.backup") as log:
        async with serve_in_process(app) as client:
            deadline = asyncio.get_running_loop().time() + 30
            while not any("backup failed: pg_dump failed" in m for m in log.messages):
                assert asyncio.get_running_loop().time() < deadline, log.messages
                await asyncio.sleep(0.1)
            assert (await client.get("/health")).status_code == 503  # answering: the database is away
    assert backup.scheduled_archives(tmp_path / "backups") == []


def test_the_schedule_waits_for_the_interval_since_the_newest_archive(tmp_path: Path) -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    assert backup.seconds_until_due(tmp_path, 24, now) == 0
    newest = tmp_path / backup.scheduled_name(now)
    newest.write_bytes(b"")
    two_hours_ago = (now - dt.timedelta(hours=2)).timestamp()
    os.utime(newest, (two_hours_ago, two_hours_ago))
    assert backup.seconds_until_due(tmp_path, 24, now) == 22 * 3600
    assert backup.seconds_until_due(tmp_path, 1, now) == 0
    (tmp_path / "meeting-notes.txt").write_bytes(b"")  # not ours: never counted, never pruned
    assert backup.scheduled_archives(tmp_path) == [newest]


def test_serve_refuses_bad_backup_settings(tmp_path: Path) -> None:
    env = {**os.environ, "MEETING_DATA_DIR": str(tmp_path), "MEETING_BACKUP_DIR": str(tmp_path / "b")}
    env.pop("DATABASE_URL", None)
    refused = meeting_cli({**env, "MEETING_BACKUP_KEEP": "0"}, "serve")
    assert refused.returncode == 2
    assert "MEETING_BACKUP_KEEP must be at least 1" in refused.stderr
