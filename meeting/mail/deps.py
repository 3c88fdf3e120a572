"""Request dependencies of the mail domain: the outbox the services write to (MailPlugin provides it)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from meeting.mail.service import Outbox

# How handlers ask for the outbox: whether mail is on, handed to the services that cause mail.
MailOutbox: TypeAlias = NamedDependency[Outbox]
