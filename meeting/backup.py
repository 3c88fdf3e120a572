"""Backup and restore: one archive holding the database, the stored documents and the secret key.

An archive is a gzipped tar (docs/operations.md): `database/meeting.sqlite3` (SQLite's online backup
API, a consistent copy while the server writes) or `database/meeting.pgdump` (`pg_dump --format=custom`,
one snapshot), `documents/blobs/…` (the content-addressed PDFs), `demo-ca/…` when the demo signs,
`secret_key`, and last `manifest.json`, which lists every other member with its size and sha256. The
database is copied first: every blob it references was stored before its row committed and is never
removed afterwards, so the blobs copied after it are a superset of what it needs.

Reading an archive (restore, `--verify`) streams it once, hashing each member; a member that is not
listed, listed but missing, of another size or hash, an unsafe name, or a missing manifest (a truncated
archive) refuses the whole archive. Restoring writes only into an empty target, and only after every
member checked out. The manifest guards against damage, not against a forger, who could rewrite it:
keep archives where only operators can write, and run `meeting audit verify` after a restore.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fcntl
import gzip
import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from sqlalchemy.engine import make_url

from meeting import metrics
from meeting.docs.demo_ca import DEMO_CA_DIR
from meeting.tls import TLS_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator

    from meeting.settings import Settings

log = logging.getLogger("meeting.backup")

FORMAT = "meeting-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/meeting.sqlite3"
PGDUMP_MEMBER = "database/meeting.pgdump"
KEY_MEMBER = "secret_key"
BLOBS = "documents/blobs"
# Kept whole, file by file: the documents, the demo CA, and the local TLS CA with the server certificate
# (a box restored with a new CA would have every tablet install it again).
KEPT_DIRS = (BLOBS, DEMO_CA_DIR, TLS_DIR)
CHUNK = 1024 * 1024
# Scheduled archives are named by their UTC time, so sorting the names sorts them by age.
SCHEDULED_PREFIX = "meeting-"
SCHEDULED_SUFFIX = ".tar.gz"
PARTIAL = ".partial-"
SCRATCH = ".meeting-backup-"


class BackupError(Exception):
    """An archive cannot be written, read or restored; the message says why, and nothing was changed."""


class PartialRestore(BackupError):
    """A restore that failed while moving the checked files into place: the target is part-restored."""


@dataclasses.dataclass(frozen=True)
class Member:
    """One file of an archive, as its manifest lists it."""

    path: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What an archive holds."""

    created: str
    database: str  # "sqlite" or "postgresql"
    key_source: str  # "file" (data_dir/secret_key) or "environment" (MEETING_SECRET_KEY)
    members: tuple[Member, ...]

    def to_json(self) -> bytes:
        """The manifest's text."""
        body = {
            "format": FORMAT,
            "version": VERSION,
            "created": self.created,
            "database": self.database,
            "keySource": self.key_source,
            "files": [dataclasses.asdict(m) for m in self.members],
        }
        return json.dumps(body, indent=1, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse a manifest; BackupError when it is not one."""
        try:
            body = json.loads(data)
            if body.get("format") != FORMAT:
                raise BackupError("manifest.json is not a meeting backup manifest")
            if body.get("version") != VERSION:
                raise BackupError(f"archive format version {body.get('version')} is not supported")
            members = tuple(
                Member(path=str(f["path"]), sha256=str(f["sha256"]), size=int(f["size"]))
                for f in body["files"]
            )
            return cls(
                created=str(body["created"]),
                database=str(body["database"]),
                key_source=str(body["keySource"]),
                members=members,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"manifest.json is unreadable: {exc}") from None

    def summary(self) -> str:
        """One line for an operator."""
        documents = sum(1 for m in self.members if m.path.startswith(BLOBS + "/"))
        size = sum(m.size for m in self.members)
        return (
            f"{self.database} database, {documents} document file(s), secret key ({self.key_source}); "
            f"{len(self.members)} files, {size} bytes, taken {self.created}"
        )


# ------------------------------------------------------------------------------------------ writing


def create(settings: Settings, dest: Path) -> Manifest:
    """Write an archive of this installation to `dest` (which must not exist) while the server runs."""
    if dest.exists():
        raise BackupError(f"{dest} already exists; an archive is never overwritten")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    key, key_source = _secret_key(settings)
    database = "postgresql" if settings.database_url else "sqlite"
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    partial = dest.with_name(f"{dest.name}{PARTIAL}{secrets.token_hex(4)}")
    members: list[Member] = []
    try:
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=SCRATCH) as scratch:
            snapshot = Path(scratch) / "database"
            if database == "sqlite":
                _sqlite_snapshot(settings.data_dir / "meeting.sqlite3", snapshot)
                database_member = SQLITE_MEMBER
            else:
                _pg_dump(settings, snapshot)
                database_member = PGDUMP_MEMBER
            # Readable by its owner only, whatever the umask: it holds the key (docs/operations.md).
            with (
                open(partial, "xb", opener=_owner_only) as raw,
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
            ):
                with snapshot.open("rb") as handle:
                    members.append(_add(tar, database_member, handle))
                snapshot.unlink()  # the scratch space holds one database copy at a time
                for path, name in _data_files(settings.data_dir):
                    try:
                        handle = path.open("rb")
                    except FileNotFoundError:
                        continue  # an upload whose database write failed was just removed: not referenced
                    with handle:
                        members.append(_add(tar, name, handle))
                members.append(_add_bytes(tar, KEY_MEMBER, key.encode()))
                manifest = Manifest(created, database, key_source, tuple(members))
                _add_bytes(tar, MANIFEST, manifest.to_json())
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
        # A hard link, not a rename: an archive that appeared at `dest` meanwhile is not replaced.
        os.link(partial, dest)
    except FileExistsError:
        raise BackupError(f"{dest} already exists; an archive is never overwritten") from None
    except OSError as exc:  # a full disk, a file the server's account may not read …
        raise BackupError(f"writing {dest} failed, nothing was kept: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _owner_only(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _secret_key(settings: Settings) -> tuple[str, str]:
    if settings.secret_key:
        return settings.secret_key, "environment"
    path = settings.data_dir / "secret_key"
    if not path.is_file():
        raise BackupError(f"{path} does not exist: is MEETING_DATA_DIR the server's data directory?")
    return path.read_text().strip(), "file"


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API; the server keeps writing meanwhile."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist: is MEETING_DATA_DIR the server's data directory?")
    # mode=rw: never create an empty database where the server's should be.
    src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # One step (pages=-1): the whole copy is read in one read transaction, a single snapshot.
        src.backup(dst)
        # A single self-contained file in the archive; the restore puts it back into WAL mode.
        dst.execute("PRAGMA journal_mode=DELETE")
        problem = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the database copy fails SQLite's integrity check: {problem}")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {source} failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def pg_command(settings: Settings) -> tuple[str, dict[str, str]]:
    """The libpq connection URI for the PostgreSQL tools, and their environment (the password in it)."""
    url = make_url(settings.resolved_database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where `ps` shows it
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run_tool(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)") from None


def _pg_dump(settings: Settings, target: Path) -> None:
    """`pg_dump --format=custom`: one consistent snapshot, taken while the server writes."""
    uri, env = pg_command(settings)
    done = _run_tool(["pg_dump", "--format=custom", "--file", str(target), "--dbname", uri], env)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")


def _data_files(data_dir: Path) -> Iterator[tuple[Path, str]]:
    """The stored documents, the demo CA and the TLS files; rendered pages are a cache and uploads in
    progress are not yet anything, so neither is kept."""
    for top in (data_dir / d for d in KEPT_DIRS):
        if top.is_dir():
            for path in sorted(top.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    yield path, path.relative_to(data_dir).as_posix()


class _Hashing:
    """A file object that hashes what tarfile reads through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, handle: IO[bytes]) -> Member:
    size = os.fstat(handle.fileno()).st_size
    info = _info(name, size)
    reader = _Hashing(handle)
    tar.addfile(info, reader)  # tarfile only calls read()
    return Member(name, reader.digest.hexdigest(), size)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> Member:
    import io

    tar.addfile(_info(name, len(data)), io.BytesIO(data))
    return Member(name, hashlib.sha256(data).hexdigest(), len(data))


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(dt.datetime.now(dt.UTC).timestamp())
    return info


# ------------------------------------------------------------------------------------------ reading


def verify(archive: Path) -> Manifest:
    """Check an archive without restoring it: every member against the manifest, the database copy
    opened by its own tool (SQLite's integrity check, `pg_restore --list`)."""
    with tempfile.TemporaryDirectory(prefix="meeting-verify-") as scratch:
        # Only the database copy is written out, to be opened; the other members are hashed in passing.
        manifest = _extract(archive, Path(scratch), keep=(SQLITE_MEMBER, PGDUMP_MEMBER))
        _check_database(manifest, Path(scratch))
    return manifest


def _extract(archive: Path, into: Path, keep: tuple[str, ...] | None = None) -> Manifest:
    """Stream the archive into `into` (only the members in `keep`, when given), hashing each member;
    the manifest, once every member matched."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    seen: dict[str, Member] = {}
    manifest: Manifest | None = None
    try:
        with gzip.open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
            for info in tar:
                if manifest is not None:
                    raise BackupError(f"{info.name} follows the manifest, which must come last")
                name = _safe_name(info)
                if name in seen:
                    raise BackupError(f"{name} appears twice")
                source = tar.extractfile(info)
                assert source is not None  # a regular file, checked by _safe_name
                if name == MANIFEST:
                    manifest = Manifest.from_json(source.read())
                    continue
                seen[name] = _write(source, into / name if keep is None or name in keep else None, name)
            # To the end of the gzip stream, whose trailer holds the length and CRC-32 of all of it: an
            # archive cut anywhere, even after its manifest, is refused.
            while raw.read(CHUNK):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{archive} is damaged or truncated ({exc})") from None
    if manifest is None:
        raise BackupError(f"{archive} has no manifest: it is truncated or not a meeting backup")
    listed = {m.path: m for m in manifest.members}
    for name, member in listed.items():
        found = seen.get(name)
        if found is None:
            raise BackupError(f"{name} is listed in the manifest but missing from the archive")
        if found != member:
            raise BackupError(
                f"{name} was altered: sha256 {found.sha256} ({found.size} bytes), "
                f"the manifest says {member.sha256} ({member.size} bytes)"
            )
    unlisted = sorted(set(seen) - set(listed))
    if unlisted:
        raise BackupError(f"{unlisted[0]} is in the archive but not in its manifest")
    expected = SQLITE_MEMBER if manifest.database == "sqlite" else PGDUMP_MEMBER
    if manifest.database not in ("sqlite", "postgresql") or expected not in listed:
        raise BackupError(f"the archive holds no {manifest.database} database copy")
    if KEY_MEMBER not in listed:
        raise BackupError("the archive holds no secret key")
    return manifest


def _safe_name(info: tarfile.TarInfo) -> str:
    """The member's name, if it is a regular file where an archive may put one."""
    path = PurePosixPath(info.name)
    name = path.as_posix()
    allowed = (
        name in (MANIFEST, KEY_MEMBER, SQLITE_MEMBER, PGDUMP_MEMBER)
        or (path.parts[:2] == tuple(BLOBS.split("/")) and len(path.parts) > 2)
        or (path.parts[:1] in ((DEMO_CA_DIR,), (TLS_DIR,)) and len(path.parts) > 1)
    )
    if not info.isfile() or path.is_absolute() or ".." in path.parts or not allowed:
        raise BackupError(f"{info.name!r} is not something a meeting backup holds")
    return name


def _write(source: IO[bytes], target: Path | None, name: str) -> Member:
    """Copy a member to `target` (or nowhere), hashing it."""
    digest, size = hashlib.sha256(), 0
    with contextlib.ExitStack() as stack:
        out = None
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(target.open("xb"))
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    return Member(name, digest.hexdigest(), size)


def _check_database(manifest: Manifest, root: Path) -> None:
    if manifest.database == "sqlite":
        try:
            connection = sqlite3.connect(f"file:{root / SQLITE_MEMBER}?mode=ro", uri=True)
            try:
                problem = connection.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise BackupError(f"the SQLite copy does not open: {exc}") from None
        if problem != "ok":
            raise BackupError(f"the SQLite copy fails its integrity check: {problem}")
    else:
        done = _run_tool(["pg_restore", "--list", str(root / PGDUMP_MEMBER)], dict(os.environ))
        if done.returncode != 0:
            raise BackupError(f"pg_restore cannot read the dump: {done.stderr.strip()}")


# ------------------------------------------------------------------------------------------ restoring


def restore(settings: Settings, archive: Path) -> tuple[Manifest, list[str]]:
    """Bring an empty data directory (and, with DATABASE_URL, an empty database) to the archive's state.

    Returns the manifest and warnings for the operator. Raises BackupError, having changed nothing,
    when the target is not empty or the archive does not check out.
    """
    target = "postgresql" if settings.database_url else "sqlite"
    _require_empty(settings, target)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    # Inside the data directory, so the files move into place by rename, on one file system.
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restore-"))
    try:
        manifest = _extract(archive, staging)
        if manifest.database != target:
            configured = "PostgreSQL (DATABASE_URL)" if target == "postgresql" else "embedded SQLite"
            raise BackupError(
                f"the archive holds a {manifest.database} database; this server uses {configured}"
            )
        _check_database(manifest, staging)
        _require_empty(settings, target)  # nothing started meanwhile
        if target == "sqlite":
            _wal(staging / SQLITE_MEMBER)
        else:
            _pg_restore(settings, staging / PGDUMP_MEMBER)
        _put_in_place(staging, data_dir, target)
    except OSError as exc:
        raise BackupError(f"restoring into {data_dir} failed: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    warnings = []
    key = (data_dir / "secret_key").read_text().strip()
    if settings.secret_key and settings.secret_key != key:
        warnings.append(
            "MEETING_SECRET_KEY differs from the archived key (now in secret_key): polls that were open "
            "at the backup cannot be closed and counted until the server runs with the archived key"
        )
    return manifest, warnings


def _put_in_place(staging: Path, data_dir: Path, target: str) -> None:
    """Move the checked files into the data directory: renames on one file system."""
    try:
        # Files first, the database file last: a restore cut short has no database, so it is redone.
        for top in KEPT_DIRS:
            if (staging / top).is_dir():
                (data_dir / top).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / top, data_dir / top)
        os.replace(staging / KEY_MEMBER, data_dir / "secret_key")
        if target == "sqlite":
            os.replace(staging / SQLITE_MEMBER, data_dir / "meeting.sqlite3")
    except OSError as exc:
        raise PartialRestore(
            f"restoring into {data_dir} failed part-way ({exc}): empty it (and the database), "
            "then restore again"
        ) from None


def _require_empty(settings: Settings, target: str) -> None:
    data_dir = settings.data_dir
    for name in ("meeting.sqlite3", "meeting.sqlite3-wal", "secret_key", *KEPT_DIRS):
        path = data_dir / name
        if path.exists() and not (path.is_dir() and not any(path.iterdir())):
            raise BackupError(f"{path} exists: restore only into a fresh data directory")
    if target == "postgresql":
        tables = _pg_tables(settings)
        if tables:
            raise BackupError(
                f"the database already has {tables} table(s): restore only into an empty database"
            )


def _pg_tables(settings: Settings) -> int:
    uri, env = pg_command(settings)
    query = (
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
    )
    done = _run_tool(["psql", "--no-psqlrc", "--tuples-only", "--no-align", "-d", uri, "-c", query], env)
    if done.returncode != 0:
        raise BackupError(f"cannot inspect the database: {done.stderr.strip()}")
    return int(done.stdout.strip())


def _pg_restore(settings: Settings, dump: Path) -> None:
    """`pg_restore` in one transaction: the database gets all of it or, on any error, none."""
    uri, env = pg_command(settings)
    done = _run_tool(
        [
            *("pg_restore", "--single-transaction", "--exit-on-error"),
            # Objects belong to whoever restores; the source's roles need not exist here.
            *("--no-owner", "--no-acl", "--dbname", uri, str(dump)),
        ],
        env,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed, the database is unchanged: {done.stderr.strip()}")


def _wal(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------ schedule


def scheduled_name(now: dt.datetime) -> str:
    """The file name of a scheduled archive taken at `now`."""
    return f"{SCHEDULED_PREFIX}{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}{SCHEDULED_SUFFIX}"


def scheduled_archives(directory: Path) -> list[Path]:
    """The scheduled archives in a directory, oldest first (only names this schedule writes)."""
    return sorted(
        p
        for p in directory.glob(f"{SCHEDULED_PREFIX}*{SCHEDULED_SUFFIX}")
        if PARTIAL not in p.name and p.is_file()
    )


def seconds_until_due(directory: Path, interval_hours: float, now: dt.datetime) -> float:
    """How long until the next scheduled archive is due: the newest one's age against the interval."""
    archives = scheduled_archives(directory) if directory.is_dir() else []
    if not archives:
        return 0.0
    newest = dt.datetime.fromtimestamp(archives[-1].stat().st_mtime, dt.UTC)
    return max(0.0, interval_hours * 3600 - (now - newest).total_seconds())


def run_scheduled(settings: Settings, now: dt.datetime) -> Path | None:
    """Take the scheduled archive if it is due and no other server process is taking it; keep the newest
    `backup_keep`. Returns the archive written, None when there was nothing to do."""
    directory = settings.backup_dir
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory / ".lock") as mine:
        # The other processes of this installation (--workers) share the directory: one takes it.
        if not mine or seconds_until_due(directory, settings.backup_interval_hours, now) > 0:
            return None
        # Left by a process killed while writing.
        for stale in directory.glob(f"{SCHEDULED_PREFIX}*{PARTIAL}*"):
            stale.unlink(missing_ok=True)
        for scratch in directory.glob(f"{SCRATCH}*"):
            shutil.rmtree(scratch, ignore_errors=True)
        dest = directory / scheduled_name(now)
        create(settings, dest)
        for old in scheduled_archives(directory)[: -settings.backup_keep]:
            old.unlink(missing_ok=True)
        return dest


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Between checks when nothing is due yet: an archive taken by another process moves the next one on.
CHECK_SECONDS = 300.0


async def schedule(settings: Settings) -> None:
    """Take scheduled archives until cancelled, each in a thread so the event loop keeps serving."""
    assert settings.backup_dir is not None
    problem = schedule_problem(settings)
    if problem is not None:  # `meeting serve` refuses to start; an app built otherwise does not back up
        log.error("scheduled backups are off: %s", problem)
        return
    while True:
        now = dt.datetime.now(dt.UTC)
        wait = seconds_until_due(settings.backup_dir, settings.backup_interval_hours, now)
        if wait > 0:
            await asyncio.sleep(min(wait, CHECK_SECONDS))
            continue
        try:
            written = await asyncio.to_thread(run_scheduled, settings, now)
        except Exception as exc:  # logged, and tried again after an interval: the server keeps serving
            metrics.BACKUPS.labels("failed").inc()
            log.error("backup failed: %s", exc)
            await asyncio.sleep(min(settings.backup_interval_hours * 3600, CHECK_SECONDS))
            continue
        if written is not None:
            metrics.BACKUPS.labels("done").inc()
            log.info("backup done: %s (%d bytes)", written, written.stat().st_size)
        else:
            await asyncio.sleep(min(settings.backup_interval_hours * 3600, CHECK_SECONDS, 60.0))


def schedule_problem(settings: Settings) -> str | None:
    """What is wrong with the scheduled backup's settings, if anything."""
    if settings.backup_dir is None:
        return None
    if not settings.backup_interval_hours > 0:
        return f"MEETING_BACKUP_INTERVAL_HOURS must be above 0 (it is {settings.backup_interval_hours})"
    if settings.backup_keep < 1:
        return f"MEETING_BACKUP_KEEP must be at least 1 (it is {settings.backup_keep})"
    return None
