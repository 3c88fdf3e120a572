"""What a message says, built from values: times in the meeting's zone, both languages, the .ics; and
how the mail settings are read."""

from __future__ import annotations

import dataclasses
import datetime as dt

import icalendar
import pytest

from meeting.mail import messages
from meeting.mail.models import MailKind
from meeting.mail.sender import SmtpServer
from meeting.settings import Settings

START = dt.datetime(2027, 3, 2, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội, a Tuesday

LETTER = messages.Letter(
    kind=MailKind.invitation,
    sender="Văn phòng HĐND <vanphong@example.org>",
    recipient="dai.bieu@example.org",
    recipient_name="Nguyễn Văn An",
    title="Kỳ họp thứ 5",
    location="Hội trường A",
    starts_at=START,
    ends_at=START + dt.timedelta(hours=3),
    timezone="Asia/Ho_Chi_Minh",
    agenda=("Khai mạc", "Dự toán ngân sách"),
    link="https://hop.example.org/#/meetings/5",
    uid="abc@phong-hop",
    sequence=3,
    stamp=START - dt.timedelta(days=7),
)


@pytest.mark.parametrize(
    ("timezone", "vi", "en"),
    [
        (
            "Asia/Ho_Chi_Minh",
            "08:30–11:30, Thứ Ba, ngày 02/03/2027 (giờ Asia/Ho_Chi_Minh)",
            "Tuesday 2 March 2027, 08:30–11:30 (Asia/Ho_Chi_Minh time)",
        ),
        (
            "UTC",
            "01:30–04:30, Thứ Ba, ngày 02/03/2027 (giờ UTC)",
            "Tuesday 2 March 2027, 01:30–04:30 (UTC time)",
        ),
    ],
)
def test_times_are_written_in_the_meetings_zone(timezone: str, vi: str, en: str) -> None:
    end = START + dt.timedelta(hours=3)
    assert messages.when_vi(START, end, timezone) == vi
    assert messages.when_en(START, end, timezone) == en


def test_the_ics_carries_uid_sequence_attendee_and_organizer() -> None:
    event = icalendar.Calendar.from_ical(messages.calendar(LETTER)).walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == ("abc@phong-hop", 3)
    assert event.decoded("DTSTART") == START
    assert str(event["ORGANIZER"]) == "mailto:vanphong@example.org"
    assert event["ORGANIZER"].params["CN"] == "Văn phòng HĐND"
    assert str(event["ATTENDEE"]) == "mailto:dai.bieu@example.org"
    assert "2. Dự toán ngân sách" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == LETTER.link


def test_without_a_public_url_the_message_has_no_link() -> None:
    letter = dataclasses.replace(LETTER, link=None)
    assert "http" not in messages.body(letter)
    assert "URL" not in icalendar.Calendar.from_ical(messages.calendar(letter)).walk("VEVENT")[0]


def test_a_cancellation_lists_no_agenda() -> None:
    text = messages.body(dataclasses.replace(LETTER, kind=MailKind.cancellation))
    assert "Dự toán ngân sách" not in text
    assert "không còn trong lịch" in text and "no longer on your calendar" in text


@pytest.mark.parametrize(
    ("url", "starttls", "expected"),
    [
        ("smtp://relay.example.org", None, ("relay.example.org", 25, None, None, False, None)),
        ("smtp://u%40x:p%3Ass@relay:587", True, ("relay", 587, "u@x", "p:ss", False, True)),
        ("smtps://u:p@relay", None, ("relay", 465, "u", "p", True, False)),
    ],
)
def test_smtp_urls(url: str, starttls: bool | None, expected: tuple[object, ...]) -> None:
    server = SmtpServer.from_url(url, starttls)
    got = (server.hostname, server.port, server.username, server.password, server.use_tls, server.start_tls)
    assert got == expected


def test_an_smtp_url_of_another_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpServer.from_url("http://relay", None)


def test_mail_settings_from_the_environment() -> None:
    assert Settings.from_env({}).mail_enabled is False
    settings = Settings.from_env(
        {
            "MEETING_SMTP_URL": "smtp://relay:25",
            "MEETING_SMTP_STARTTLS": "0",
            "MEETING_MAIL_FROM": "no-reply@example.org",
            "MEETING_REMINDER_HOURS": "0",
            "MEETING_PUBLIC_URL": "https://hop.example.org/",
        }
    )
    assert settings.mail_enabled is True
    assert (settings.smtp_starttls, settings.reminder_hours) == (False, 0.0)
    assert settings.public_url == "https://hop.example.org"
    assert "relay" not in repr(settings)  # the URL may hold the password
    # A server without a sender's address sends nothing.
    assert Settings.from_env({"MEETING_SMTP_URL": "smtp://relay:25"}).mail_enabled is False
