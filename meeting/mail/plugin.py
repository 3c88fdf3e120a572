"""Wires mail into an app: the outbox handle the services write to, and the sender, run with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar.di import Provide
from litestar.plugins import InitPluginProtocol

from meeting.mail.sender import MailSender
from meeting.mail.service import Outbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig

log = logging.getLogger("meeting.mail")

# A message being handed over when the app stops gets this long to finish; past it the sender is
# cancelled and the message's lease lets another sender (or this one, after a restart) send it.
STOP_SECONDS = 10.0


class MailPlugin(InitPluginProtocol):
    """Puts an `Outbox` at `app.state.outbox` (and as the `outbox` dependency) and, when mail is
    configured, a running `MailSender` at `app.state.mail_sender`; needs `settings` and `session_factory`."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Create the outbox and the sender from the app's state and tie the sender to the lifespan."""
        state = app_config.state
        settings = state["settings"]
        outbox = Outbox.from_settings(settings)
        state["outbox"] = outbox

        def provide_outbox() -> Outbox:
            return outbox

        app_config.dependencies["outbox"] = Provide(provide_outbox, sync_to_thread=False)
        if settings.smtp_url and not settings.mail_from:
            log.warning("MEETING_SMTP_URL is set but MEETING_MAIL_FROM is not: no mail is sent")
        if not outbox.enabled:
            state["mail_sender"] = None
            return app_config
        sender = MailSender(settings, state["session_factory"])
        state["mail_sender"] = sender
        if not settings.public_url:
            log.warning("MEETING_PUBLIC_URL is not set: invitations carry no link to the meeting")
        if settings.mail_poll_seconds <= 0:
            return app_config  # another process sends; `sender.tick` still works (tests drive it)

        @asynccontextmanager
        async def lifespan(_: Litestar) -> AsyncIterator[None]:
            task = asyncio.create_task(sender.run())
            try:
                yield
            finally:
                # Before the app's own lifespan disposes the engine: the sender records its last outcome.
                sender.stop()
                try:
                    await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
                except TimeoutError:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

        app_config.lifespan.append(lifespan)
        return app_config
