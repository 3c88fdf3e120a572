"""The realtime meeting room: presence, follow-the-presenter, annotations, speaker queue, resync."""

from meeting.rooms.controller import AnnotationController
from meeting.rooms.models import (
    Annotation,
    AnnotationKind,
    RoomPresenter,
    SpeakerEntry,
    SpeakerStatus,
    Visibility,
)
from meeting.rooms.service import user_channel
from meeting.rooms.socket import room_socket

__all__ = [
    "Annotation",
    "AnnotationController",
    "AnnotationKind",
    "RoomPresenter",
    "SpeakerEntry",
    "SpeakerStatus",
    "Visibility",
    "room_socket",
    "user_channel",
]
