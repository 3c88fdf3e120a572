"""The background sender: queue due reminders, claim due messages, send each over SMTP, record the outcome.

`MailSender.tick(now)` does one round and is what tests drive, with the `now` they choose; `run()` calls
it every few seconds until the app stops. Several processes may each run a sender on one database:
claiming (`service.claim_due`) gives every message to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy import select

from meeting.agenda.models import AgendaItem, Meeting, MeetingStatus
from meeting.db import utcnow
from meeting.mail import messages, rules, service
from meeting.mail.models import MailKind, MeetingCalendar, OutboxMessage
from meeting.users.models import User

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from meeting.settings import Settings

log = logging.getLogger("meeting.mail")

# How long a claimed message is one sender's; a sender that died holding it loses it after this.
LEASE = dt.timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand messages over, from `MEETING_SMTP_URL`."""

    hostname: str
    port: int
    username: str | None
    password: str | None = dataclasses.field(repr=False)
    use_tls: bool
    start_tls: bool | None

    @classmethod
    def from_url(cls, url: str, starttls: bool | None) -> SmtpServer:
        """smtp://user:pass@host:587 (STARTTLS as offered, or as `starttls` says) or smtps://host:465."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("MEETING_SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            start_tls=False if tls else starttls,
        )


@dataclass
class Tick:
    """What one round did."""

    reminders: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0


class SendFailure(Exception):
    """An attempt that did not hand the message over: the server's reason and how to treat it."""

    def __init__(self, reason: str, refusal: rules.Refusal) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refusal = refusal


def _describe(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


class MailSender:
    """Sends the outbox; one per process, owned by meeting.mail.plugin.MailPlugin."""

    def __init__(self, settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> None:
        assert settings.smtp_url and settings.mail_from, (
            "a sender needs MEETING_SMTP_URL and MEETING_MAIL_FROM"
        )
        self.settings = settings
        self.server = SmtpServer.from_url(settings.smtp_url, settings.smtp_starttls)
        self.sender = settings.mail_from
        self.session_factory = session_factory
        # Which claims are this sender's: unique per instance, so two senders never share one.
        self.token = secrets.token_hex(16)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """A round every `mail_poll_seconds` until `stop()`; a failing round (database away) is logged and
        the next one tries again."""
        interval = self.settings.mail_poll_seconds
        while not self._stop.is_set():
            try:
                await self.tick(utcnow())
            except Exception:
                log.exception("mail round failed; trying again in %s s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    def stop(self) -> None:
        """Finish the message being sent, then end `run()`."""
        self._stop.set()

    async def tick(self, now: dt.datetime) -> Tick:
        """One round at `now`: queue due reminders, then send what is due."""
        report = Tick()
        async with self.session_factory() as session:
            report.reminders = await service.queue_reminders(session, now, self.settings.reminder_hours)
            claimed = await service.claim_due(session, now, self.token, LEASE)
        for message_id in claimed:
            if self._stop.is_set():
                break  # the rest stay claimed; their lease runs out and a sender takes them on
            await self._deliver(message_id, now, report)
        return report

    async def _deliver(self, message_id: int, now: dt.datetime, report: Tick) -> None:
        async with self.session_factory() as session:
            row = await session.get(OutboxMessage, message_id)
            if row is None:  # the meeting was deleted meanwhile
                return
            attempts = row.attempts
            letter, moot = await self._letter(session, row, now)
            if moot is not None:
                await service.mark_superseded(session, message_id, self.token, moot)
                report.superseded += 1
                return
            assert letter is not None
            try:
                await self._send(messages.build(letter), row.recipient)
            except SendFailure as failure:
                # The id, not the address: the delivery route shows whose it was to those who may know.
                log.warning("mail %s of meeting %s not sent: %s", message_id, row.meeting_id, failure.reason)
                await service.mark_failed(
                    session, message_id, self.token, now, failure.reason, failure.refusal, attempts
                )
                if rules.after_failure(attempts, failure.refusal):
                    report.failed += 1
                else:
                    report.retrying += 1
                return
            await service.mark_sent(session, message_id, self.token, now)
            report.sent += 1

    async def _letter(
        self, session: AsyncSession, row: OutboxMessage, now: dt.datetime
    ) -> tuple[messages.Letter | None, str | None]:
        """The message as the meeting stands now, or why it no longer needs sending."""
        meeting = await session.get(Meeting, row.meeting_id)
        entry = await session.get(MeetingCalendar, row.meeting_id)
        user = await session.get(User, row.user_id)
        if meeting is None or entry is None or user is None:
            return None, "the meeting or the account is gone"
        if row.kind != MailKind.cancellation and meeting.status in (
            MeetingStatus.ended,
            MeetingStatus.archived,
        ):
            return None, f"meeting {meeting.id} is {meeting.status}"
        if row.kind == MailKind.reminder and (
            meeting.status != MeetingStatus.scheduled or meeting.starts_at != row.starts_at
        ):
            return None, "the meeting changed since the reminder was queued"
        items = await session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id, AgendaItem.parent_id.is_(None))
            .order_by(AgendaItem.position, AgendaItem.id)
        )
        base = self.settings.public_url
        letter = messages.Letter(
            kind=row.kind,
            sender=self.sender,
            recipient=row.recipient,
            recipient_name=user.display_name,
            title=meeting.title,
            location=meeting.location,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            timezone=meeting.timezone,
            agenda=tuple(item.title for item in items),
            link=f"{base}/#/meetings/{meeting.id}" if base else None,
            uid=entry.uid,
            sequence=row.sequence,
            stamp=now,
        )
        return letter, None

    async def _send(self, message: EmailMessage, recipient: str) -> None:
        """Hand one message to the SMTP server; raise SendFailure saying why not."""
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(self.sender)[1],
                recipients=[recipient],
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.use_tls,
                start_tls=server.start_tls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0] if exc.recipients else None
            code = first.code if first is not None else None
            reason = _describe(first) if first is not None else "recipient refused"
            raise SendFailure(reason, rules.classify_smtp_code(code)) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The installation's credentials, not this message: retried while the operator fixes them.
            raise SendFailure(f"authentication: {_describe(exc)}", rules.Refusal.temporary) from exc
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPTimeoutError,
        ) as exc:
            raise SendFailure(f"SMTP server unreachable: {exc}", rules.Refusal.temporary) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailure(_describe(exc), rules.classify_smtp_code(exc.code)) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailure(f"SMTP: {exc}", rules.Refusal.temporary) from exc
