"""The messages themselves: a bilingual text (Vietnamese first, English second) and an .ics attachment.

Built from values (`Letter`), so what a message says is tested without a database or a server. The
calendar part follows RFC 5546 (iTIP): one UID per meeting, a SEQUENCE raised by each change,
METHOD:REQUEST to invite or update and METHOD:CANCEL to call off.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import icalendar

from meeting.mail.models import MailKind

PRODID = "-//Phong hop khong giay//meeting//VI"

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

SUBJECTS: dict[MailKind, tuple[str, str]] = {
    MailKind.invitation: ("Giấy mời họp", "Invitation"),
    MailKind.update: ("Thay đổi thời gian, địa điểm họp", "Meeting changed"),
    MailKind.cancellation: ("Hủy lịch họp", "Meeting cancelled"),
    MailKind.reminder: ("Nhắc lịch họp", "Reminder"),
}

OPENINGS: dict[MailKind, tuple[str, str]] = {
    MailKind.invitation: ("Trân trọng kính mời {name} tham dự cuộc họp:", "{name}, you are invited to:"),
    MailKind.update: (
        "Cuộc họp dưới đây đã thay đổi thời gian hoặc địa điểm; lịch của {name} được cập nhật:",
        "{name}, the time or place of this meeting changed; your calendar is updated:",
    ),
    MailKind.cancellation: (
        "Kính gửi {name}: cuộc họp dưới đây không còn trong lịch của quý vị.",
        "{name}, this meeting is no longer on your calendar.",
    ),
    MailKind.reminder: ("Kính nhắc {name}: cuộc họp sắp diễn ra.", "{name}, this meeting starts soon."),
}


@dataclass(frozen=True, kw_only=True)
class Letter:
    """Everything one message says, to one recipient."""

    kind: MailKind
    sender: str  # "Phòng họp <no-reply@example.org>" or a bare address
    recipient: str
    recipient_name: str
    title: str
    location: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    agenda: tuple[str, ...]
    link: str | None
    uid: str
    sequence: int
    stamp: dt.datetime  # DTSTAMP and the Date header: when the message was made


def _local(moment: dt.datetime, timezone: str) -> dt.datetime:
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(dt.UTC)


def when_vi(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """ "08:00–17:00, Thứ Ba, ngày 01/12/2026 (giờ Asia/Ho_Chi_Minh)"."""
    start, end = _local(starts_at, timezone), _local(ends_at, timezone)
    day = f"{WEEKDAYS_VI[start.weekday()]}, ngày {start:%d/%m/%Y}"
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%H:%M} ngày {end:%d/%m/%Y}"
    return f"{start:%H:%M}–{until}, {day} (giờ {timezone})"


def when_en(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """ "Tuesday 1 December 2026, 08:00–17:00 (Asia/Ho_Chi_Minh time)"."""
    start, end = _local(starts_at, timezone), _local(ends_at, timezone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%d %B %Y} {end:%H:%M}"
    return f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{until} ({timezone} time)"


def body(letter: Letter) -> str:
    """The text: Vietnamese first, then the same in English."""
    opening_vi, opening_en = OPENINGS[letter.kind]
    vi = [
        opening_vi.format(name=letter.recipient_name),
        "",
        f"    {letter.title}",
        f"    Thời gian: {when_vi(letter.starts_at, letter.ends_at, letter.timezone)}",
        f"    Địa điểm: {letter.location or '(chưa có)'}",
    ]
    en = [
        opening_en.format(name=letter.recipient_name),
        "",
        f"    {letter.title}",
        f"    When: {when_en(letter.starts_at, letter.ends_at, letter.timezone)}",
        f"    Where: {letter.location or '(not set)'}",
    ]
    if letter.kind != MailKind.cancellation:
        if letter.agenda:
            vi += ["", "Chương trình họp:", *(f"  {n}. {t}" for n, t in enumerate(letter.agenda, 1))]
            en += ["", "Agenda:", *(f"  {n}. {t}" for n, t in enumerate(letter.agenda, 1))]
        if letter.link:
            vi += ["", f"Tài liệu họp và phòng họp trực tuyến: {letter.link}"]
            en += ["", f"Meeting materials and the online room: {letter.link}"]
        vi += ["", "Tệp lịch (.ics) kèm theo thư này thêm cuộc họp vào lịch của quý vị."]
        en += ["", "The attached calendar file (.ics) adds the meeting to your calendar."]
    rule = "—" * 40
    return "\n".join([*vi, "", rule, "", *en, ""])


def subject(letter: Letter) -> str:
    """ "Giấy mời họp: <title> / Invitation: <title>"."""
    vi, en = SUBJECTS[letter.kind]
    return f"{vi}: {letter.title} / {en}: {letter.title}"


def _method(kind: MailKind) -> str:
    return "CANCEL" if kind == MailKind.cancellation else "REQUEST"


def calendar(letter: Letter) -> bytes:
    """The .ics of the meeting as this message announces it."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", _method(letter.kind))
    event = icalendar.Event()
    event.add("uid", letter.uid)
    event.add("sequence", letter.sequence)
    event.add("dtstamp", letter.stamp.astimezone(dt.UTC))
    # In UTC: every calendar reads it the same, with no VTIMEZONE to get wrong.
    event.add("dtstart", letter.starts_at.astimezone(dt.UTC))
    event.add("dtend", letter.ends_at.astimezone(dt.UTC))
    event.add("summary", letter.title)
    if letter.location:
        event.add("location", letter.location)
    description = "\n".join(f"{n}. {t}" for n, t in enumerate(letter.agenda, 1))
    if letter.link:
        event.add("url", letter.link)
        description = f"{description}\n\n{letter.link}".strip()
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if letter.kind == MailKind.cancellation else "CONFIRMED")
    name, address = parseaddr(letter.sender)
    organizer = icalendar.vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = name
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{letter.recipient}")
    attendee.params["cn"] = letter.recipient_name
    attendee.params["role"] = "REQ-PARTICIPANT"
    attendee.params["rsvp"] = "FALSE"
    event.add("attendee", attendee)
    cal.add_component(event)
    ics: bytes = cal.to_ical()
    return ics


def build(letter: Letter) -> EmailMessage:
    """The MIME message: headers (non-ASCII encoded by the email package), the text, the .ics."""
    message = EmailMessage()
    message["Subject"] = subject(letter)
    message["From"] = letter.sender
    message["To"] = Address(display_name=letter.recipient_name, addr_spec=letter.recipient)
    message["Date"] = format_datetime(letter.stamp.astimezone(dt.UTC))
    _, sender_address = parseaddr(letter.sender)
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(body(letter))
    method = _method(letter.kind)
    message.add_attachment(
        calendar(letter),
        maintype="text",
        subtype="calendar",
        filename="cancel.ics" if method == "CANCEL" else "invite.ics",
        params={"method": method, "charset": "utf-8"},
    )
    return message
