"""A real SMTP server in-process (aiosmtpd), and an app whose mail goes to it."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller

from meeting.app import create_app
from tests.support.servers import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import EmailMessage

    from litestar import Litestar

    from meeting.settings import Settings

SENDER = "Phòng họp không giấy <no-reply@example.org>"
PUBLIC_URL = "https://hop.example.org"


@dataclass
class Inbox:
    """What the SMTP server received, and the addresses it refuses (with the reply it gives)."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    controller: Controller | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Refuse the addresses in `refuse`, take the others."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message as a parsed EmailMessage."""
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen on `port` (again, after `stop`)."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: the server is down."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address, in order."""
        return [m for m, (_, rcpts) in zip(self.received, self.envelopes, strict=True) if address in rcpts]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A running SMTP server on a free port; stopped at the end."""
    box = Inbox(port=free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def down_inbox() -> Iterator[Inbox]:
    """An SMTP server's port with nothing listening yet (`start()` brings it up)."""
    box = Inbox(port=free_port())
    yield box
    box.stop()


def mail_settings(settings: Settings, port: int, **changes: Any) -> Settings:
    """The test's settings with mail to 127.0.0.1:port; no background sender (tests drive `tick`)."""
    return dataclasses.replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{port}",
        smtp_starttls=False,
        mail_from=SENDER,
        public_url=PUBLIC_URL,
        mail_poll_seconds=0,
        **changes,
    )


@pytest.fixture
def app(settings: Settings, request: pytest.FixtureRequest) -> Litestar:
    """The app with mail configured to the test's SMTP server (`inbox`, or `down_inbox`)."""
    box: Inbox = request.getfixturevalue("down_inbox" if "down_inbox" in request.fixturenames else "inbox")
    return create_app(mail_settings(settings, box.port))
