"""The realtime meeting room: presence, follow-the-presenter, annotations, speaker queue, resync."""

from meeting.rooms.models import (
    Annotation,
    AnnotationKind,
    RoomPresenter,
    SpeakerEntry,
    SpeakerStatus,
    Visibility,
)
from meeting.rooms.plugin import RoomsPlugin
from meeting.rooms.service import Speech, speeches, user_channel

__all__ = [
    "Annotation",
    "AnnotationKind",
    "RoomPresenter",
    "RoomsPlugin",
    "SpeakerEntry",
    "SpeakerStatus",
    "Speech",
    "Visibility",
    "speeches",
    "user_channel",
]
