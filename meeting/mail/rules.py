"""Pure rules of the mail outbox: which change causes which message, retry times, reminders, refusals.

Values in, values out: no session, no clock, no socket (tests/mail/test_rules.py tables them).
"""

from __future__ import annotations

import datetime as dt
import enum

from meeting.agenda.models import MeetingStatus
from meeting.mail.models import MailKind

# Retries of a message the server could not take now: one minute, doubling, at most an hour apart,
# eight attempts in all (about two hours of a server that is down), then it is failed.
RETRY_BASE_SECONDS = 60.0
RETRY_CAP_SECONDS = 3600.0
MAX_ATTEMPTS = 8


def mail_for_status(before: MeetingStatus, after: MeetingStatus) -> MailKind | None:
    """The message a status change sends to every participant, if any."""
    if before == MeetingStatus.draft and after == MeetingStatus.scheduled:
        return MailKind.invitation
    # Taken back to draft, or called off: calendars drop it (scheduling it again invites anew).
    if before == MeetingStatus.scheduled and after in (MeetingStatus.draft, MeetingStatus.cancelled):
        return MailKind.cancellation
    return None


def mail_for_edit(status: MeetingStatus, *, time_or_place_changed: bool) -> MailKind | None:
    """The message an edit of a meeting's details sends: an update, when calendars hold a changed time
    or place. A draft has sent nothing; a live meeting is under way in its room."""
    if status == MeetingStatus.scheduled and time_or_place_changed:
        return MailKind.update
    return None


def mail_for_participant(status: MeetingStatus, *, added: bool) -> MailKind | None:
    """The message to one participant added to (or removed from) a meeting that was already announced."""
    if added:
        # Live too: someone invited during the session still needs the link and the place.
        return MailKind.invitation if status in (MeetingStatus.scheduled, MeetingStatus.live) else None
    return MailKind.cancellation if status == MeetingStatus.scheduled else None


def raises_sequence(kind: MailKind) -> bool:
    """Whether the meeting's calendar SEQUENCE goes up for this message to everyone (RFC 5546: every
    change attendees must apply over the last version)."""
    return kind in (MailKind.update, MailKind.cancellation)


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait before the next attempt after `attempts` failed ones (1, 2, 4 … minutes, capped)."""
    seconds = RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(RETRY_CAP_SECONDS, seconds))


def reminder_due(
    *,
    starts_at: dt.datetime,
    now: dt.datetime,
    hours: float,
    last_told_at: dt.datetime | None,
) -> bool:
    """Whether a participant gets their reminder now.

    Within `hours` of the start, and only for someone told of this meeting (invitation or update)
    before that window opened: an invitation sent an hour before the start is reminder enough.
    """
    if hours <= 0 or last_told_at is None:
        return False
    window_opens = starts_at - dt.timedelta(hours=hours)
    return window_opens <= now < starts_at and last_told_at < window_opens


class Refusal(enum.StrEnum):
    """How a sending failure is handled."""

    permanent = "permanent"  # fail the message now, with the server's reason
    temporary = "temporary"  # retry later (until MAX_ATTEMPTS)


def classify_smtp_code(code: int | None) -> Refusal:
    """5xx is a refusal for good; 4xx, or no answer at all (a server that is down), is tried again."""
    if code is not None and 500 <= code < 600:
        return Refusal.permanent
    return Refusal.temporary


def after_failure(attempts: int, refusal: Refusal) -> bool:
    """Whether a failed attempt (the `attempts`-th) ends the message: refused for good, or the last one."""
    return refusal == Refusal.permanent or attempts >= MAX_ATTEMPTS
