"""Every table of every domain, gathered so Alembic sees the whole schema."""

from meeting.agenda.models import AgendaItem, Meeting, Participant
from meeting.broker import RoomEvent, RoomSequence
from meeting.db import Base
from meeting.users.models import RevokedToken, User

metadata = Base.metadata

__all__ = ["AgendaItem", "Meeting", "Participant", "RevokedToken", "RoomEvent", "RoomSequence", "User", "metadata"]
