"""The pure rules of the outbox, in tables: which change mails what, retry delays, reminders, refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from meeting.agenda.models import MeetingStatus
from meeting.mail import rules
from meeting.mail.models import MailKind

S = MeetingStatus


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (S.draft, S.scheduled, MailKind.invitation),
        (S.scheduled, S.draft, MailKind.cancellation),
        (S.scheduled, S.cancelled, MailKind.cancellation),
        (S.draft, S.cancelled, None),  # nothing was announced
        (S.scheduled, S.live, None),
        (S.live, S.ended, None),
        (S.ended, S.archived, None),
    ],
)
def test_status_change_mails(before: MeetingStatus, after: MeetingStatus, kind: MailKind | None) -> None:
    assert rules.mail_for_status(before, after) == kind


@pytest.mark.parametrize(
    ("status", "changed", "kind"),
    [
        (S.scheduled, True, MailKind.update),
        (S.scheduled, False, None),  # a new title or quorum is not a calendar change
        (S.draft, True, None),
        (S.live, True, None),
    ],
)
def test_edit_mails_an_update_only_for_a_scheduled_meeting(
    status: MeetingStatus, changed: bool, kind: MailKind | None
) -> None:
    assert rules.mail_for_edit(status, time_or_place_changed=changed) == kind


@pytest.mark.parametrize(
    ("status", "added", "kind"),
    [
        (S.draft, True, None),
        (S.scheduled, True, MailKind.invitation),
        (S.live, True, MailKind.invitation),
        (S.ended, True, None),
        (S.scheduled, False, MailKind.cancellation),
        (S.draft, False, None),
        (S.live, False, None),
    ],
)
def test_participant_change_mails(status: MeetingStatus, added: bool, kind: MailKind | None) -> None:
    assert rules.mail_for_participant(status, added=added) == kind


@pytest.mark.parametrize(
    ("kind", "raises"),
    [
        (MailKind.invitation, False),
        (MailKind.update, True),
        (MailKind.cancellation, True),
        (MailKind.reminder, False),
    ],
)
def test_sequence_goes_up_for_changes_and_cancellations(kind: MailKind, raises: bool) -> None:
    assert rules.raises_sequence(kind) is raises


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (20, 3600), (0, 60)],
)
def test_retry_delay_doubles_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert rules.retry_delay(attempts) == dt.timedelta(seconds=seconds)


T = dt.datetime(2027, 1, 10, 1, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "hours", "last_told", "due"),
    [
        (T - 23 * H, 24, T - 72 * H, True),
        (T - 24 * H, 24, T - 72 * H, True),  # the window opens
        (T - 25 * H, 24, T - 72 * H, False),  # too early
        (T, 24, T - 72 * H, False),  # it has started
        (T - 23 * H, 0, T - 72 * H, False),  # reminders off
        (T - 23 * H, 24, None, False),  # never told: no reminder of what they do not know
        (T - 2 * H, 24, T - 3 * H, False),  # invited inside the window: that was reminder enough
        (T - 2 * H, 2.5, T - 3 * H, True),
    ],
)
def test_reminder_due(now: dt.datetime, hours: float, last_told: dt.datetime | None, due: bool) -> None:
    assert rules.reminder_due(starts_at=T, now=now, hours=hours, last_told_at=last_told) is due


@pytest.mark.parametrize(
    ("code", "refusal"),
    [
        (550, rules.Refusal.permanent),
        (553, rules.Refusal.permanent),
        (421, rules.Refusal.temporary),
        (450, rules.Refusal.temporary),
        (None, rules.Refusal.temporary),  # no answer: the server is down
    ],
)
def test_smtp_codes(code: int | None, refusal: rules.Refusal) -> None:
    assert rules.classify_smtp_code(code) == refusal


@pytest.mark.parametrize(
    ("attempts", "refusal", "ends"),
    [
        (1, rules.Refusal.permanent, True),
        (1, rules.Refusal.temporary, False),
        (rules.MAX_ATTEMPTS - 1, rules.Refusal.temporary, False),
        (rules.MAX_ATTEMPTS, rules.Refusal.temporary, True),
    ],
)
def test_a_failure_ends_a_message_when_permanent_or_the_last(
    attempts: int, refusal: rules.Refusal, ends: bool
) -> None:
    assert rules.after_failure(attempts, refusal) is ends
