"""Every table of every domain, gathered so Alembic sees the whole schema."""

from meeting.agenda.models import AgendaItem, Meeting, Participant
from meeting.audit import AuditEntry, AuditHead  # noqa: F401 - registered for Alembic
from meeting.broker import RoomEvent, RoomSequence
from meeting.db import Base
from meeting.docs.models import (  # noqa: F401 - registered for Alembic and metadata
    Document,
    DocumentDownload,
    DocumentPage,
    DocumentVersion,
)
from meeting.mail.models import MeetingCalendar, OutboxMessage  # noqa: F401 - registered for Alembic
from meeting.rooms.models import Annotation, RoomPresenter, SpeakerEntry  # noqa: F401 - registered for Alembic
from meeting.users.models import RevokedToken, User
from meeting.voting.models import (  # noqa: F401 - registered for Alembic and metadata
    Ballot,
    Conclusion,
    MinutesCopy,
    Poll,
    PollVoted,
    PollVoter,
    SealedBallot,
    SecretChoice,
    SecretReceipt,
)

metadata = Base.metadata

__all__ = [
    "AgendaItem",
    "Meeting",
    "Participant",
    "RevokedToken",
    "RoomEvent",
    "RoomSequence",
    "User",
    "metadata",
]
