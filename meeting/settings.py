"""Settings: read once from the environment by the CLI, then passed down explicitly."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server can be told; every field has an embedded default."""

    data_dir: Path = Path("var")
    # None means "the SQLite file under data_dir": the embedded default.
    database_url: str | None = None
    # None means in-process pub/sub: one server process, no services needed.
    redis_url: str | None = None
    # Prefix of pub/sub channel names, so several installations (or test runs) can share one Redis.
    channel_namespace: str = "meeting"
    # None means "generated once and kept in data_dir/secret_key".
    secret_key: str | None = None
    token_lifetime_seconds: int = 12 * 3600
    upload_limit_bytes: int = 200 * 1024 * 1024
    # Browser origins allowed to open WebSockets and call the API cross-origin; same-origin always works.
    allowed_origins: tuple[str, ...] = ()
    login_attempts_per_minute: int = 10
    # Meeting room sockets: frame size, sockets per user, outgoing queue, inbound rate, kept events.
    socket_frame_limit: int = 64 * 1024
    sockets_per_user: int = 5
    socket_queue_limit: int = 256
    socket_messages_per_second: float = 20.0
    room_event_retention: int = 10_000
    # Meeting materials: limits checked in the PDF worker processes, and how pages are served.
    max_pages: int = 2000
    max_page_points: float = 10_000.0
    pdf_workers: int = 0  # 0: one per CPU core
    worker_memory_bytes: int = 1024 * 1024 * 1024
    worker_timeout_seconds: float = 60.0
    page_image_format: str = "jpeg"
    # Office files: the LibreOffice program (a name looked up on PATH, or a path), conversions at once,
    # and each one's time and address-space limits.
    office_program: str = "soffice"
    office_conversions: int = 1
    office_timeout_seconds: float = 120.0
    office_memory_bytes: int = 2 * 1024 * 1024 * 1024
    # Digital signatures: a directory of PEM/DER root certificates signatures must chain to (e.g. the
    # Vietnamese public CAs'), and the PKCS#11 token holding server-side signing keys (module path,
    # token label, user PIN; keys and certificates on it are labelled with the signer's username).
    trust_roots_dir: Path | None = None
    pkcs11_module: Path | None = None
    pkcs11_token: str | None = None
    pkcs11_pin: str | None = dataclasses.field(default=None, repr=False)
    # Set by `meeting serve --demo` only: the demo CA is trusted and its demo certificates sign.
    demo_signing: bool = False
    # Scheduled backups (docs/operations.md): None is off; otherwise an archive every so many hours into
    # this directory, keeping the newest `backup_keep`.
    backup_dir: Path | None = None
    backup_interval_hours: float = 24.0
    backup_keep: int = 7
    # Invitations by e-mail (meeting/mail/): None is off (no mail at all; the secretary is told). The URL
    # is smtp://user:pass@host:port (STARTTLS when the server offers it) or smtps://… (TLS from the
    # start); `smtp_starttls` None is "when offered", True requires it, False never tries. The sender's
    # address is needed too: without it mail stays off.
    smtp_url: str | None = dataclasses.field(default=None, repr=False)
    smtp_starttls: bool | None = None
    mail_from: str | None = None
    # A reminder goes out this many hours before a meeting starts; 0 is no reminder.
    reminder_hours: float = 24.0
    # How often this process's sender looks at the outbox; 0 runs no sender here (another process
    # sends: every process writes to the outbox, any one of them may deliver).
    mail_poll_seconds: float = 5.0
    # The address participants open the web client at (https://hop.example.gov.vn): mails link to the
    # meeting there. None: mails carry no link (a guessed localhost link would be wrong for everyone).
    public_url: str | None = None

    @property
    def mail_enabled(self) -> bool:
        """Whether invitations and reminders are sent: an SMTP server and a sender are configured."""
        return bool(self.smtp_url and self.mail_from)

    # HTTPS (docs/operations.md, "TLS"): a certificate chain and its key, PEM. Unset, `meeting serve --tls`
    # uses the ones `meeting tls init` wrote under data_dir/tls. tls_ca is the certificate tablets download
    # at /tls/ca.crt (default: the local CA of `meeting tls init`).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    # /metrics answers loopback callers, and others that send this bearer token (None: loopback only).
    metrics_token: str | None = dataclasses.field(default=None, repr=False)
    # Logs: JSON lines on stderr, or in this file, rotated at log_max_bytes keeping log_backups old files.
    log_file: Path | None = None
    log_max_bytes: int = 50 * 1024 * 1024
    log_backups: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from environment variables, falling back to the embedded defaults."""
        defaults = cls()
        origins = environ.get("MEETING_ALLOWED_ORIGINS", "")
        return cls(
            data_dir=Path(environ.get("MEETING_DATA_DIR", str(defaults.data_dir))),
            database_url=environ.get("DATABASE_URL") or None,
            redis_url=environ.get("REDIS_URL") or None,
            channel_namespace=environ.get("MEETING_CHANNEL_NAMESPACE", defaults.channel_namespace),
            secret_key=environ.get("MEETING_SECRET_KEY") or None,
            token_lifetime_seconds=int(
                environ.get("MEETING_TOKEN_LIFETIME_SECONDS", defaults.token_lifetime_seconds)
            ),
            upload_limit_bytes=int(environ.get("MEETING_UPLOAD_LIMIT_BYTES", defaults.upload_limit_bytes)),
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            login_attempts_per_minute=int(
                environ.get("MEETING_LOGIN_ATTEMPTS_PER_MINUTE", defaults.login_attempts_per_minute)
            ),
            socket_frame_limit=int(environ.get("MEETING_SOCKET_FRAME_LIMIT", defaults.socket_frame_limit)),
            sockets_per_user=int(environ.get("MEETING_SOCKETS_PER_USER", defaults.sockets_per_user)),
            socket_queue_limit=int(environ.get("MEETING_SOCKET_QUEUE_LIMIT", defaults.socket_queue_limit)),
            socket_messages_per_second=float(
                environ.get("MEETING_SOCKET_MESSAGES_PER_SECOND", defaults.socket_messages_per_second)
            ),
            room_event_retention=int(
                environ.get("MEETING_ROOM_EVENT_RETENTION", defaults.room_event_retention)
            ),
            max_pages=int(environ.get("MEETING_MAX_PAGES", defaults.max_pages)),
            max_page_points=float(environ.get("MEETING_MAX_PAGE_POINTS", defaults.max_page_points)),
            pdf_workers=int(environ.get("MEETING_PDF_WORKERS", defaults.pdf_workers)),
            worker_memory_bytes=int(environ.get("MEETING_WORKER_MEMORY_BYTES", defaults.worker_memory_bytes)),
            worker_timeout_seconds=float(
                environ.get("MEETING_WORKER_TIMEOUT_SECONDS", defaults.worker_timeout_seconds)
            ),
            page_image_format=environ.get("MEETING_PAGE_IMAGE_FORMAT", defaults.page_image_format),
            office_program=environ.get("MEETING_OFFICE_PROGRAM", defaults.office_program),
            office_conversions=int(environ.get("MEETING_OFFICE_CONVERSIONS", defaults.office_conversions)),
            office_timeout_seconds=float(
                environ.get("MEETING_OFFICE_TIMEOUT_SECONDS", defaults.office_timeout_seconds)
            ),
            office_memory_bytes=int(environ.get("MEETING_OFFICE_MEMORY_BYTES", defaults.office_memory_bytes)),
            trust_roots_dir=_path_or_none(environ.get("MEETING_TRUST_ROOTS")),
            pkcs11_module=_path_or_none(environ.get("MEETING_PKCS11_MODULE")),
            pkcs11_token=environ.get("MEETING_PKCS11_TOKEN") or None,
            pkcs11_pin=environ.get("MEETING_PKCS11_PIN") or None,
            demo_signing=environ.get("MEETING_DEMO_SIGNING") == "1",
            backup_dir=_path_or_none(environ.get("MEETING_BACKUP_DIR")),
            backup_interval_hours=float(
                environ.get("MEETING_BACKUP_INTERVAL_HOURS", defaults.backup_interval_hours)
            ),
            backup_keep=int(environ.get("MEETING_BACKUP_KEEP", defaults.backup_keep)),
            smtp_url=environ.get("MEETING_SMTP_URL") or None,
            smtp_starttls=_flag_or_none(environ.get("MEETING_SMTP_STARTTLS")),
            mail_from=environ.get("MEETING_MAIL_FROM") or None,
            reminder_hours=float(environ.get("MEETING_REMINDER_HOURS", defaults.reminder_hours)),
            mail_poll_seconds=float(environ.get("MEETING_MAIL_POLL_SECONDS", defaults.mail_poll_seconds)),
            public_url=(environ.get("MEETING_PUBLIC_URL") or "").rstrip("/") or None,
            tls_cert=_path_or_none(environ.get("MEETING_TLS_CERT")),
            tls_key=_path_or_none(environ.get("MEETING_TLS_KEY")),
            tls_ca=_path_or_none(environ.get("MEETING_TLS_CA")),
            metrics_token=environ.get("MEETING_METRICS_TOKEN") or None,
            log_file=_path_or_none(environ.get("MEETING_LOG_FILE")),
            log_max_bytes=int(environ.get("MEETING_LOG_MAX_BYTES", defaults.log_max_bytes)),
            log_backups=int(environ.get("MEETING_LOG_BACKUPS", defaults.log_backups)),
        )

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL to connect to."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meeting.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, or generated once and stored under data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Exclusive create: two processes starting at once must agree on one key.
        try:
            with path.open("x") as handle:
                handle.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return key


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


def _flag_or_none(value: str | None) -> bool | None:
    """ "1"/"true"/"yes" is True, "0"/"false"/"no" is False, unset or empty is None."""
    if not value:
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def normalize_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` spellings and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
