"""Invitations, updates, cancellations and reminders, through the outbox to a real SMTP server.

The sender is driven round by round (`tick(now)`) with the `now` each test chooses; nothing sleeps. The
messages are checked as the server received them: headers, both languages, and the .ics parsed back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import icalendar
from sqlalchemy import select

from meeting.app import create_app
from meeting.db import create_engine, create_session_factory, utcnow
from meeting.mail.models import MailState, OutboxMessage
from meeting.mail.sender import MailSender
from meeting.users.models import GlobalRole
from tests.mail.conftest import PUBLIC_URL, SENDER
from tests.support.api import Api, build_council
from tests.support.servers import serve_in_process

if TYPE_CHECKING:
    from email.message import EmailMessage

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.mail.conftest import Inbox
    from tests.support.api import Council

TITLE = "Kỳ họp thứ 12 — HĐND huyện"
# Everyone of the council with an address; the guest has none.
ADDRESSED = ("secretary", "chair", "delegate1", "delegate2")


def address(name: str) -> str:
    """The test address of a council member."""
    return f"{name}@example.org"


async def arrange(council: Council, starts_at: dt.datetime | None = None) -> dt.datetime:
    """Give the council addresses (through the user API), an agenda, and a start `starts_at` (default:
    ten days ahead); returns the start."""
    api = council.api
    for name in ADDRESSED:
        await api.ok("PATCH", f"/api/users/{api.ids[name]}", "admin", json={"email": address(name)})
    for title in ("Khai mạc", "Báo cáo kinh tế – xã hội năm 2026"):
        await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": title})
    start = starts_at or (utcnow() + dt.timedelta(days=10)).replace(microsecond=0)
    await api.ok(
        "PATCH",
        council.url,
        "secretary",
        json={"startsAt": start.isoformat(), "endsAt": (start + dt.timedelta(hours=8)).isoformat()},
    )
    return start


async def schedule(council: Council) -> None:
    """Move the meeting from draft to scheduled."""
    await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": "scheduled"})


def sender_of(app: Litestar) -> MailSender:
    """The app's sender (mail is configured; it runs no loop of its own in these tests)."""
    sender = app.state.mail_sender
    assert isinstance(sender, MailSender)
    return sender


def ics_of(message: EmailMessage) -> icalendar.Calendar:
    """The message's calendar attachment, parsed back (its MIME method checked against its METHOD)."""
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.iter_attachments()]
    calendar = icalendar.Calendar.from_ical(parts[0].get_content())
    assert parts[0].get_param("method") == calendar["METHOD"]
    assert parts[0].get_filename() in ("invite.ics", "cancel.ics")
    return calendar


def event_of(message: EmailMessage) -> icalendar.Event:
    """The VEVENT of the message's .ics."""
    events = ics_of(message).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def text_of(message: EmailMessage) -> str:
    """The message's text."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def invitations(council: Council) -> dict[str, Any]:
    """GET the delivery state, keyed by display name."""
    read = await council.api.ok("GET", f"{council.url}/invitations", "secretary")
    return {p["displayName"]: p for p in read["participants"]} | {"_": read}


async def test_scheduling_invites_each_participant_in_both_languages_with_an_ics(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    start = await arrange(council)
    await schedule(council)
    assert inbox.received == []  # the request does not send: the sender does
    report = await sender_of(app).tick(utcnow())
    assert report.sent == len(ADDRESSED)

    message = inbox.to(address("delegate1"))[0]
    assert message["Subject"] == f"Giấy mời họp: {TITLE} / Invitation: {TITLE}"
    raw = message.as_bytes().decode("ascii")  # all of it ASCII: the subject travels RFC 2047-encoded
    assert "=?utf-8?" in raw.split("\n\n", 1)[0].lower()
    assert message["From"] == SENDER
    assert message["To"].addresses[0].addr_spec == address("delegate1")
    text = text_of(message)
    assert text.index("Trân trọng kính mời Delegate1") < text.index("Delegate1, you are invited")
    assert "Thời gian: " in text and "When: " in text
    assert "Hội trường tầng 3" in text
    assert "Báo cáo kinh tế – xã hội năm 2026" in text
    assert f"{PUBLIC_URL}/#/meetings/{council.meeting_id}" in text

    calendar = ics_of(message)
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(message)
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + dt.timedelta(hours=8)
    assert str(event["LOCATION"]) == "Hội trường tầng 3"
    assert str(event["SUMMARY"]) == TITLE
    assert int(event["SEQUENCE"]) == 0
    uids = {str(event_of(inbox.to(address(n))[0])["UID"]) for n in ADDRESSED}
    assert len(uids) == 1  # one UID for the meeting, in every participant's invitation

    state = await invitations(council)
    assert state["_"]["mailEnabled"] is True
    for name in ADDRESSED:
        [sent] = state[name.title()]["messages"]
        assert (sent["kind"], sent["state"], sent["recipient"]) == ("invitation", "sent", address(name))
        assert sent["nextAttemptAt"] is None
    assert state["Guest"]["email"] is None
    assert state["Guest"]["messages"] == []
    # A second round finds nothing to send.
    assert (await sender_of(app).tick(utcnow())).sent == 0
    assert len(inbox.received) == len(ADDRESSED)


async def test_a_refused_recipient_fails_with_the_servers_reason_and_the_others_are_sent(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    inbox.refuse[address("delegate2")] = "550 5.1.1 <delegate2@example.org>: no such user here"
    await arrange(council)
    await schedule(council)
    now = utcnow()
    report = await sender_of(app).tick(now)
    assert (report.sent, report.failed) == (3, 1)
    state = await invitations(council)
    [refused] = state["Delegate2"]["messages"]
    assert refused["state"] == "failed"
    assert refused["lastError"].startswith("550")
    assert "no such user here" in refused["lastError"]
    assert refused["attempts"] == 1
    assert state["Delegate1"]["messages"][0]["state"] == "sent"
    # Refused for good: never tried again.
    later = await sender_of(app).tick(now + dt.timedelta(days=1))
    assert (later.sent, later.failed, later.retrying) == (0, 0, 0)
    assert inbox.to(address("delegate2")) == []


async def test_a_temporary_refusal_is_retried(app: Litestar, council: Council, inbox: Inbox) -> None:
    inbox.refuse[address("chair")] = "451 4.3.0 try again later"
    await arrange(council)
    await schedule(council)
    now = utcnow()
    assert (await sender_of(app).tick(now)).retrying == 1
    [waiting] = (await invitations(council))["Chair"]["messages"]
    assert (waiting["state"], waiting["lastError"]) == ("queued", "451 4.3.0 try again later")
    del inbox.refuse[address("chair")]
    assert (await sender_of(app).tick(now + dt.timedelta(minutes=2))).sent == 1
    assert len(inbox.to(address("chair"))) == 1


async def test_while_the_server_is_down_messages_wait_and_are_sent_once_when_it_is_up(
    app: Litestar, council: Council, down_inbox: Inbox, db: AsyncSession
) -> None:
    await arrange(council)
    await schedule(council)
    now = utcnow()
    report = await sender_of(app).tick(now)
    assert (report.sent, report.retrying, report.failed) == (0, len(ADDRESSED), 0)
    state = await invitations(council)
    for name in ADDRESSED:
        [waiting] = state[name.title()]["messages"]
        assert waiting["state"] == "queued"
        assert waiting["attempts"] == 1
        assert "unreachable" in waiting["lastError"]
        assert dt.datetime.fromisoformat(waiting["nextAttemptAt"]) == now + dt.timedelta(minutes=1)

    down_inbox.start()
    assert (await sender_of(app).tick(now + dt.timedelta(seconds=30))).sent == 0  # not due yet
    assert (await sender_of(app).tick(now + dt.timedelta(seconds=61))).sent == len(ADDRESSED)
    assert (await sender_of(app).tick(now + dt.timedelta(hours=3))).sent == 0
    assert sorted(r for _, rcpts in down_inbox.envelopes for r in rcpts) == sorted(map(address, ADDRESSED))
    states = set(await db.scalars(select(OutboxMessage.state)))
    assert states == {MailState.sent}


async def test_a_server_down_for_good_fails_the_message_after_the_last_attempt(
    app: Litestar, council: Council, down_inbox: Inbox
) -> None:
    await arrange(council)
    await schedule(council)
    now = utcnow()
    for _ in range(8):
        now += dt.timedelta(hours=2)
        await sender_of(app).tick(now)
    [gone] = (await invitations(council))["Chair"]["messages"]
    assert gone["state"] == "failed"
    assert gone["attempts"] == 8
    assert gone["lastError"].startswith("gave up after 8 attempts")


async def test_a_new_time_sends_an_update_with_the_same_uid_and_a_higher_sequence(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    start = await arrange(council)
    await schedule(council)
    await sender_of(app).tick(utcnow())
    # A new title is not a calendar change: no mail.
    await council.api.ok("PATCH", council.url, "secretary", json={"description": "Phiên thứ nhất"})
    assert (await sender_of(app).tick(utcnow())).sent == 0

    later = start + dt.timedelta(days=1, hours=1)
    await council.api.ok(
        "PATCH",
        council.url,
        "secretary",
        json={"startsAt": later.isoformat(), "endsAt": (later + dt.timedelta(hours=4)).isoformat()},
    )
    assert (await sender_of(app).tick(utcnow())).sent == len(ADDRESSED)
    invitation, update = inbox.to(address("chair"))
    assert update["Subject"].startswith("Thay đổi thời gian, địa điểm họp: ")
    assert ics_of(update)["METHOD"] == "REQUEST"
    before, after = event_of(invitation), event_of(update)
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == later

    await council.api.ok("PATCH", council.url, "secretary", json={"location": "Phòng họp số 2"})
    await sender_of(app).tick(utcnow())
    moved = inbox.to(address("chair"))[-1]
    assert str(event_of(moved)["LOCATION"]) == "Phòng họp số 2"
    assert int(event_of(moved)["SEQUENCE"]) == 2


async def test_changes_made_before_the_invitation_went_are_sent_once(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    await arrange(council)
    await schedule(council)
    await council.api.ok("PATCH", council.url, "secretary", json={"location": "Phòng họp số 2"})
    await sender_of(app).tick(utcnow())
    [only] = inbox.to(address("delegate1"))  # the queued invitation was superseded by the update
    assert str(event_of(only)["LOCATION"]) == "Phòng họp số 2"
    kinds = [(m["kind"], m["state"]) for m in (await invitations(council))["Delegate1"]["messages"]]
    assert kinds == [("invitation", "superseded"), ("update", "sent")]


async def test_cancelling_sends_a_cancellation(app: Litestar, council: Council, inbox: Inbox) -> None:
    await arrange(council)
    await schedule(council)
    await sender_of(app).tick(utcnow())
    await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": "cancelled"})
    assert (await sender_of(app).tick(utcnow())).sent == len(ADDRESSED)
    invitation, cancellation = inbox.to(address("delegate1"))
    assert cancellation["Subject"].startswith("Hủy lịch họp: ")
    assert ics_of(cancellation)["METHOD"] == "CANCEL"
    event = event_of(cancellation)
    assert event["UID"] == event_of(invitation)["UID"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1


async def test_a_meeting_called_off_before_its_invitations_went_sends_nothing(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    await arrange(council)
    await schedule(council)
    await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": "cancelled"})
    report = await sender_of(app).tick(utcnow())
    assert (report.sent, report.failed) == (0, 0)
    assert inbox.received == []
    [dropped] = (await invitations(council))["Chair"]["messages"]
    assert (dropped["kind"], dropped["state"]) == ("invitation", "superseded")


async def test_someone_added_after_scheduling_gets_their_invitation_and_someone_removed_a_cancellation(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    api = council.api
    await arrange(council)
    await schedule(council)
    await sender_of(app).tick(utcnow())
    await api.ok("PATCH", f"/api/users/{api.ids['outsider']}", "admin", json={"email": address("outsider")})
    await api.ok(
        "POST",
        f"{council.url}/participants",
        "secretary",
        json={"userId": api.ids["outsider"], "role": "guest"},
    )
    await api.ok("DELETE", f"{council.url}/participants/{council.participant_ids['delegate2']}", "secretary")
    assert (await sender_of(app).tick(utcnow())).sent == 2
    [invited] = inbox.to(address("outsider"))
    assert invited["Subject"].startswith("Giấy mời họp: ")
    assert "Outsider" in text_of(invited)
    removed = inbox.to(address("delegate2"))[-1]
    assert ics_of(removed)["METHOD"] == "CANCEL"
    assert len(inbox.to(address("delegate1"))) == 1  # the others get nothing new
    # Delegate2 is no longer a participant; their messages are still listed.
    read = await api.ok("GET", f"{council.url}/invitations", "secretary")
    [gone] = [p for p in read["participants"] if p["participantId"] is None]
    assert gone["displayName"] == "Delegate2"
    assert [m["kind"] for m in gone["messages"]] == ["invitation", "cancellation"]


async def test_a_reminder_goes_out_hours_before_the_start_once(
    app: Litestar, council: Council, inbox: Inbox
) -> None:
    start = await arrange(council)
    await schedule(council)
    sender = sender_of(app)
    await sender.tick(utcnow())
    assert sender.settings.reminder_hours == 24
    assert (await sender.tick(start - dt.timedelta(hours=25))).reminders == 0
    report = await sender.tick(start - dt.timedelta(hours=23))
    assert (report.reminders, report.sent) == (len(ADDRESSED), len(ADDRESSED))
    assert (await sender.tick(start - dt.timedelta(hours=22))).reminders == 0
    invitation, reminder = inbox.to(address("delegate2"))
    assert reminder["Subject"] == f"Nhắc lịch họp: {TITLE} / Reminder: {TITLE}"
    assert "sắp diễn ra" in text_of(reminder) and "starts soon" in text_of(reminder)
    assert event_of(reminder)["UID"] == event_of(invitation)["UID"]
    assert [m["kind"] for m in (await invitations(council))["Delegate2"]["messages"]] == [
        "invitation",
        "reminder",
    ]


async def test_two_senders_send_each_message_once(
    app: Litestar, council: Council, inbox: Inbox, settings: Settings
) -> None:
    await arrange(council)
    await schedule(council)
    mail = app.state.settings
    engines = [create_engine(mail), create_engine(mail)]
    try:
        senders = [MailSender(mail, create_session_factory(engine)) for engine in engines]
        now = utcnow()
        reports = await asyncio.gather(*(s.tick(now) for s in senders))
        assert sum(r.sent for r in reports) == len(ADDRESSED)
        again = await asyncio.gather(*(s.tick(now + dt.timedelta(hours=1)) for s in senders))
        assert sum(r.sent for r in again) == 0
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(r for _, rcpts in inbox.envelopes for r in rcpts) == sorted(map(address, ADDRESSED))


async def test_queued_messages_survive_a_restart(settings: Settings, inbox: Inbox) -> None:
    from tests.mail.conftest import mail_settings

    configured = mail_settings(settings, inbox.port)
    first = create_app(configured)
    engine = create_engine(configured)
    try:
        async with serve_in_process(first) as http, create_session_factory(engine)() as session:
            api = Api(client=http, db=session, settings=configured)
            await api.user("admin", GlobalRole.admin)
            council = await build_council(api)
            await arrange(council)
            await schedule(council)
        # The first app is gone, nothing sent; a new one (a restarted server) sends what was queued.
        assert inbox.received == []
        second = create_app(configured)
        async with serve_in_process(second):
            assert (await sender_of(second).tick(utcnow())).sent == len(ADDRESSED)
    finally:
        await engine.dispose()
    assert len(inbox.received) == len(ADDRESSED)


async def test_without_mail_nothing_is_queued_and_the_secretary_is_told(
    settings: Settings, db: AsyncSession
) -> None:
    plain = create_app(settings)  # no MEETING_SMTP_URL
    assert plain.state.mail_sender is None
    async with serve_in_process(plain) as http:
        api = Api(client=http, db=db, settings=settings)
        await api.user("admin", GlobalRole.admin)
        council = await build_council(api)
        await arrange(council)
        await schedule(council)
        read = await api.ok("GET", f"{council.url}/invitations", "secretary")
    assert read["mailEnabled"] is False
    assert all(p["messages"] == [] for p in read["participants"])
    assert list(await db.scalars(select(OutboxMessage))) == []
