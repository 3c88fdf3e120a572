"""Command line: `meeting serve | demo | db upgrade | db revision | users create | audit verify |
minutes verify | backup | restore | tls init`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.exc import SQLAlchemyError

from meeting.errors import DomainError
from meeting.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession


def app_from_env() -> Litestar:
    """Uvicorn factory: each server process reads the environment once and builds its app."""
    from meeting.app import create_app

    app = create_app(Settings.from_env(os.environ))
    _tune_garbage_collector()
    return app


def _tune_garbage_collector() -> None:
    """Keep full collections from stalling a room of a thousand sockets.

    With the default thresholds, collections over the many long-lived connection objects delayed page
    turns (bench/fanout.py, 1000 clients: p99 233 ms, 77 ms after this). Everything alive after start-up
    is frozen out of collection, and young collections run less often.
    """
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
    """Run one piece of work in a database session, then release the engine."""
    from meeting.db import create_engine, create_session_factory

    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            await work(session)
    finally:
        await engine.dispose()


def _seed_demo(settings: Settings) -> Callable[[AsyncSession], Awaitable[object]]:
    async def work(session: AsyncSession) -> None:
        from meeting.demo import seed_demo

        await seed_demo(session, settings)

    return work


def _create_user(args: argparse.Namespace, password: str) -> Callable[[AsyncSession], Awaitable[object]]:
    from meeting.users.schemas import UserCreate
    from meeting.users.service import create_user

    data = msgspec.convert(
        {
            "username": args.username,
            "displayName": args.display_name,
            "password": password,
            "role": args.role,
            "email": args.email,
        },
        UserCreate,
    )

    async def work(session: AsyncSession) -> None:
        user = await create_user(session, None, data)
        print(f"created user {user.username} (id {user.id}, role {user.role})")

    return work


def _schema_problem(settings: Settings) -> str | None:
    """Why a command that reads the database cannot run here, or None: an embedded database that is not
    there yet (opening it would leave an empty file behind), or one that needs `meeting db upgrade`."""
    from meeting.migrations import needs_upgrade

    if not settings.database_url and not (settings.data_dir / "meeting.sqlite3").is_file():
        return f"no database in {settings.data_dir} (is MEETING_DATA_DIR right?)"
    try:
        return needs_upgrade(settings)
    except (OSError, SQLAlchemyError) as exc:
        return f"cannot read the database's schema version: {exc}"


def _verify_audit(settings: Settings) -> int:
    """Check every meeting's audit chain, then the stored record against it; print the first problem.

    Exit code 1 when a chain is broken or a stored fact differs from what its chain records.
    """
    from meeting.audit import describe, verify
    from meeting.docs.storage import BlobStore
    from meeting.voting.verify import check_record

    outcome: list[int] = []

    async def work(session: AsyncSession) -> None:
        verification = await verify(session)
        if verification.broken is not None:
            print(describe(verification))
            outcome.append(1)
            return
        meetings, discrepancy = await check_record(session, BlobStore(settings.data_dir))
        if discrepancy is not None:
            print(discrepancy)
            outcome.append(1)
            return
        print(f"{describe(verification)}; the stored record of {meetings} meeting(s) matches them")
        outcome.append(0)

    asyncio.run(_in_session(settings, work))
    return outcome[0]


def _quiet_pyhanko() -> None:
    # pyHanko logs a traceback for every certificate it cannot chain; the reports already say so.
    import logging

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


def _verify_bundle(settings: Settings, args: argparse.Namespace) -> int:
    """Check an archive package without the database; print the verdict. Exit code 1 on a problem."""
    from meeting.docs.signing import configured_trust_roots
    from meeting.voting.bundle import check_bundle

    _quiet_pyhanko()
    if not args.bundle.is_file():
        print(f"{args.bundle}: no such file", file=sys.stderr)
        return 2
    try:
        roots = configured_trust_roots(settings, demo=args.demo, extra=args.trust)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verdict = check_bundle(args.bundle, roots)
    print(f"bundle REFUSED: {verdict.problem}" if verdict.problem else verdict.summary)
    return 1 if verdict.problem else 0


def _verify_minutes(settings: Settings, args: argparse.Namespace) -> int:
    """Check a signed PDF; print each signature's verdicts. Exit code 1 unless all signatures are valid."""
    from meeting.docs.signing import configured_trust_roots, describe, verify_pdf

    _quiet_pyhanko()
    try:
        roots = configured_trust_roots(settings, demo=args.demo, extra=args.trust)
        pdf = args.file.read_bytes()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not roots:
        print("warning: no trust roots configured (MEETING_TRUST_ROOTS, --trust, --demo)", file=sys.stderr)
    try:
        report = verify_pdf(pdf, roots)
    except DomainError as exc:
        print(f"{args.file}: {exc.detail}")
        return 1
    print(f"{args.file}:")
    print(describe(report))
    return 0 if report.valid else 1


def _print_banner(host: str, port: int, demo: bool, tls: bool = False) -> None:
    from meeting.demo import DEMO_PASSWORD, DEMO_USERS
    from meeting.docs.demo_ca import DEMO_SIGNING_PASSWORD
    from meeting.tls import local_addresses

    scheme = "https" if tls else "http"
    # Listening on every interface: tablets on the room's network use the box's own addresses.
    shown = ["127.0.0.1", *local_addresses()] if host in ("0.0.0.0", "::") else [host]
    urls = ", ".join(f"{scheme}://{address}:{port}" for address in shown)
    print(f"\n  Phòng họp không giấy is serving on {urls}\n", flush=True)
    if demo:
        names = ", ".join(username for username, *_ in DEMO_USERS)
        print(f"  Demo logins (password '{DEMO_PASSWORD}'): {names}", flush=True)
        print(
            f"  Demo signatures: chair and secretary, certificate password '{DEMO_SIGNING_PASSWORD}'\n",
            flush=True,
        )


def _enable_demo_signing(settings: Settings) -> None:
    """Demo certificates for the chair and secretary, and server processes that trust their CA."""
    from meeting.demo import DEMO_USERS
    from meeting.docs.demo_ca import DEMO_CA_DIR, ensure_demo_ca

    signers = [(username, name) for username, name, *_ in DEMO_USERS if username in ("chair", "secretary")]
    ensure_demo_ca(settings.data_dir / DEMO_CA_DIR, signers)
    os.environ["MEETING_DEMO_SIGNING"] = "1"  # read by each process's Settings.from_env


def _prepare_schema(settings: Settings) -> int:
    """The embedded SQLite database migrates itself; a production database is migrated by its operator
    (`meeting db upgrade`, after a backup), not silently by a starting server. Exit code 1 if it needs one."""
    from meeting.migrations import upgrade

    if not settings.database_url:
        upgrade(settings)
        return 0
    problem = _schema_problem(settings)
    if problem is not None:
        print(f"not serving: {problem}", file=sys.stderr)
        return 1
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from meeting.backup import schedule_problem
    from meeting.tls import server_files, serving_problem, tls_enabled

    tls = tls_enabled(settings, args.tls)
    problem = schedule_problem(settings) or serving_problem(settings, tls)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if _prepare_schema(settings) != 0:
        return 1
    if args.demo:
        asyncio.run(_in_session(settings, _seed_demo(settings)))
        _enable_demo_signing(settings)
    # Generate the signing key before workers start, so they all read the same one.
    settings.resolved_secret_key()
    _print_banner(args.host, args.port, args.demo, tls)
    cert, key = server_files(settings) if tls else (None, None)
    if args.workers > 1:
        from meeting.observability import prepare_multiprocess

        # Each worker writes its figures here and /metrics sums them (docs/operations.md, "Metrics").
        prepare_multiprocess(settings.data_dir / "metrics")
    uvicorn.run(
        "meeting.cli:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # our own access log leaves out query strings and tokens
        log_level="info",
        log_config=None,  # each app sets up JSON lines (meeting/observability.py), uvicorn's own too
        # Above the room's own frame limit (64 KiB): the app answers oversize frames with an error, open.
        ws_max_size=max(1024 * 1024, 4 * settings.socket_frame_limit),
        timeout_graceful_shutdown=10,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    return 0


def _db_copy(settings: Settings, args: argparse.Namespace) -> int:
    """`meeting db copy FROM_URL TO_URL`; the documents stay where they are, in the data directory."""
    from meeting.dbcopy import CopyError, copy, shown

    try:
        copied = copy(args.from_url, args.to_url, settings.data_dir)
    except CopyError as exc:
        print(f"copy REFUSED: {exc}", file=sys.stderr)
        return 1
    print(f"copied {copied.summary()} into {shown(args.to_url)}")
    print("next: set DATABASE_URL to that URL, then run `meeting audit verify`")
    return 0


def _tls_init(settings: Settings, args: argparse.Namespace) -> int:
    """`meeting tls init`: the local CA and the server certificate, printed with what tablets must do."""
    from meeting.tls import TlsError, init

    try:
        issued = init(settings, args.name, args.ip, force=args.force, keep_ca=args.keep_ca)
    except TlsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    what = "server certificate (CA kept)" if issued.kept_ca else "local CA and server certificate"
    print(f"wrote the {what} in {issued.directory}")
    print(f"  names:     {', '.join(issued.names)}")
    print(f"  addresses: {', '.join(issued.addresses)}")
    print(f"  CA SHA-256 fingerprint: {issued.ca_fingerprint}")
    print("next: `meeting serve --tls --host 0.0.0.0`; tablets install the CA from the login screen")
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    """`meeting backup DEST` writes an archive; `meeting backup --verify ARCHIVE` checks one."""
    from meeting.backup import BackupError, create, verify

    try:
        if args.verify:
            manifest = verify(args.archive)
            print(f"archive ok: {args.archive}: {manifest.summary()}")
        else:
            manifest = create(settings, args.archive)
            print(f"backup written: {args.archive}: {manifest.summary()}")
    except BackupError as exc:
        print(f"{'archive REFUSED' if args.verify else 'backup failed'}: {exc}", file=sys.stderr)
        return 1
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    """`meeting restore ARCHIVE` into an empty data directory (and empty database)."""
    from meeting.backup import BackupError, PartialRestore, restore

    try:
        manifest, warnings = restore(settings, args.archive)
    except PartialRestore as exc:
        print(f"restore FAILED: {exc}", file=sys.stderr)
        return 1
    except BackupError as exc:
        print(f"restore REFUSED, nothing was changed: {exc}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"restored {args.archive}: {manifest.summary()}")
    if settings.database_url:
        print("next: `meeting db upgrade` if this version is newer than the archive's, then `meeting serve`")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meeting", description="Phòng họp không giấy — paperless meeting room"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations and serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes (needs REDIS_URL when > 1)")
    serve.add_argument("--demo", action="store_true", help="seed the demo council session and users first")
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS/WSS with the certificate of `meeting tls init` (or MEETING_TLS_CERT/KEY)",
    )

    commands.add_parser("demo", help="seed the demo data only")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    db_copy = db_commands.add_parser(
        "copy", help="copy every row into a new, empty database (e.g. SQLite to PostgreSQL); stop the server"
    )
    db_copy.add_argument("from_url", metavar="FROM_URL", help="e.g. sqlite:///var/meeting.sqlite3")
    db_copy.add_argument("to_url", metavar="TO_URL", help="e.g. postgresql://meeting@127.0.0.1/meeting")
    revision = db_commands.add_parser("revision", help="autogenerate a migration (developers)")
    revision.add_argument("-m", "--message", required=True)

    backup = commands.add_parser(
        "backup", help="write a consistent archive of the database, documents and secret key (server may run)"
    )
    backup.add_argument("archive", type=Path, metavar="FILE", help="the archive to write (must not exist)")
    backup.add_argument(
        "--verify", action="store_true", help="check the archive FILE, write nothing (exit code 1: bad)"
    )
    restore = commands.add_parser(
        "restore", help="restore an archive into an empty data directory (and empty database)"
    )
    restore.add_argument("archive", type=Path, metavar="FILE")

    tls = commands.add_parser("tls", help="HTTPS on the room's network")
    tls_commands = tls.add_subparsers(dest="tls_command", required=True)
    tls_init = tls_commands.add_parser(
        "init", help="create a local CA and a server certificate for this box's names and addresses"
    )
    tls_init.add_argument(
        "--name", action="append", default=[], help="another DNS name tablets use (may be repeated)"
    )
    tls_init.add_argument(
        "--ip", action="append", default=[], help="another IP address tablets use (may be repeated)"
    )
    tls_init.add_argument("--force", action="store_true", help="replace the existing certificates")
    tls_init.add_argument(
        "--keep-ca",
        action="store_true",
        help="with --force: new server certificate, same CA (tablets keep it)",
    )

    users = commands.add_parser("users", help="accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser("create", help="create an account")
    create.add_argument("username")
    create.add_argument("--display-name", required=True)
    create.add_argument("--role", choices=["admin", "secretary", "user"], default="user")
    create.add_argument("--password", help="prompted for when omitted")
    create.add_argument("--email", help="where invitations and reminders go (optional)")

    audit = commands.add_parser("audit", help="the tamper-evident record of the meetings")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_commands.add_parser(
        "verify", help="check the hash chains and the stored record against them (exit code 1 on a problem)"
    )
    audit_verify.add_argument(
        "--bundle", type=Path, metavar="FILE.zip", help="check a meeting's archive package instead, offline"
    )
    _trust_arguments(audit_verify)

    minutes = commands.add_parser("minutes", help="the signed minutes and resolutions")
    minutes_commands = minutes.add_subparsers(dest="minutes_command", required=True)
    verify = minutes_commands.add_parser(
        "verify", help="check a PDF's digital signatures (exit code 1 unless all are valid)"
    )
    verify.add_argument("file", type=Path, metavar="FILE.pdf")
    _trust_arguments(verify)
    return parser


def _trust_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also trust the root certificates (PEM or DER) in DIR; may be repeated",
    )
    command.add_argument("--demo", action="store_true", help="also trust the demo CA of the data directory")


def _keep_data_private(settings: Settings) -> None:
    """The data directory holds ballots, documents and the signing key: only this account may read it.

    The umask covers every file this process and its children (server workers, PDF workers) create; the
    directory's own mode covers what an older version left readable inside it.
    """
    os.umask(0o077)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `meeting` console script."""
    args = _parser().parse_args(argv)
    settings = Settings.from_env(os.environ)
    _keep_data_private(settings)
    if args.command == "serve":
        if args.workers > 1 and not settings.redis_url:
            print("--workers > 1 needs REDIS_URL: processes share events through Redis", file=sys.stderr)
            return 2
        return _serve(settings, args)
    elif args.command == "tls":
        return _tls_init(settings, args)
    elif args.command == "backup":
        return _backup(settings, args)
    elif args.command == "restore":
        return _restore(settings, args)
    elif args.command == "demo":
        from meeting.migrations import upgrade

        upgrade(settings)
        asyncio.run(_in_session(settings, _seed_demo(settings)))
        print("demo data ready")
    elif args.command == "db":
        from meeting.migrations import make_revision, upgrade

        if args.db_command == "upgrade":
            upgrade(settings)
            print("database is up to date")
        elif args.db_command == "copy":
            return _db_copy(settings, args)
        else:
            make_revision(settings, args.message)
    elif args.command == "audit":
        if args.bundle:
            return _verify_bundle(settings, args)
        if (problem := _schema_problem(settings)) is not None:
            print(f"cannot verify: {problem}", file=sys.stderr)
            return 2
        return _verify_audit(settings)
    elif args.command == "minutes":
        return _verify_minutes(settings, args)
    elif args.command == "users":
        password = args.password or getpass.getpass("password: ")
        try:
            asyncio.run(_in_session(settings, _create_user(args, password)))
        except (msgspec.ValidationError, DomainError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
