"""The meeting's minutes (biên bản): gathered once, rendered as Markdown for the web and as a PDF.

The PDF is laid out by PyMuPDF's Story from HTML we generate, in a document worker process like all
MuPDF work, with Noto Sans from pymupdf-fonts embedded: it covers every Vietnamese diacritic, which the
PDF base-14 fonts do not.
"""

from __future__ import annotations

import html
import json
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from meeting import audit
from meeting.agenda.models import AgendaItem, Attendance, Participant, ParticipantRole
from meeting.agenda.service import display_order, quorum_of
from meeting.docs import titles_by_item
from meeting.rooms import speeches
from meeting.voting.conclusions import latest_texts
from meeting.voting.models import Poll, PollState, PollVoter
from meeting.voting.service import result_of
from meeting.voting.tally import MajorityRule, PollKind, PollMethod

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.agenda.models import Meeting
    from meeting.agenda.schemas import Quorum
    from meeting.docs import DocsRuntime
    from meeting.voting.schemas import PollResult

MOTION_LABELS = {"yes": "Đồng ý", "no": "Không đồng ý", "abstain": "Phiếu trắng"}
RULE_LABELS = {
    MajorityRule.simple: "số phiếu đồng ý nhiều hơn số phiếu không đồng ý",
    MajorityRule.absolute: "quá nửa số phiếu đã bỏ",
    MajorityRule.members: "quá nửa tổng số đại biểu",
    MajorityRule.two_thirds: "ít nhất hai phần ba số phiếu đã bỏ",
}
KIND_LABELS = {
    PollKind.open: "Biểu quyết",
    PollKind.named: "Biểu quyết công khai",
    PollKind.secret: "Bỏ phiếu kín",
}
# The attendance sections of the minutes, in this order.
ATTENDANCE_GROUPS = [
    (Attendance.in_room, "Có mặt tại hội trường"),
    (Attendance.online, "Tham dự trực tuyến"),
    (Attendance.absent, "Vắng mặt"),
    (Attendance.left, "Đã rời cuộc họp"),
    (Attendance.expected, "Chưa điểm danh"),
]
ROLE_LABELS = {
    ParticipantRole.chair: "Chủ tọa",
    ParticipantRole.secretary: "Thư ký",
    ParticipantRole.delegate: "Đại biểu",
    ParticipantRole.guest: "Khách mời",
}


@dataclass
class PollMinutes:
    """One poll as the minutes show it: a heading and lines of detail (Markdown inline)."""

    heading: str
    details: list[str]


@dataclass
class ItemMinutes:
    """One agenda item as the minutes show it."""

    number: str
    title: str
    presenter: str
    documents: list[str]
    speeches: list[str]  # one line per speech, in the order the floor was given
    polls: list[PollMinutes]
    conclusion: str  # Markdown


@dataclass
class AttendanceGroup:
    """Participants of one attendance state, with what the minutes say of each."""

    label: str
    people: list[str]


@dataclass
class Minutes:
    """Everything the minutes say, independent of the output format."""

    title: str
    location: str
    opened: str  # "08:05 ngày 01/12/2026", or the planned time marked "(dự kiến)"
    closed: str
    attendance: list[AttendanceGroup]
    turnout: str  # voting members present against all voting members
    quorum: str
    items: list[ItemMinutes] = field(default_factory=list)
    other_speeches: list[str] = field(default_factory=list)  # requested while no item was active
    closing: str = ""  # "Cuộc họp kết thúc lúc …", once it has
    chain: str = ""  # the audit chain head, so a signed copy binds the poll record
    chair: str = ""
    secretary: str = ""


def _local_time(value: dt.datetime, timezone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%H:%M ngày %d/%m/%Y")


def _clock(value: dt.datetime, timezone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%H:%M")


def duration(started_at: dt.datetime, ended_at: dt.datetime) -> str:
    """Speaking time as mm:ss (minutes keep counting past the hour: 75:03)."""
    return _mmss(round((ended_at - started_at).total_seconds()))


def _mmss(seconds: int) -> str:
    seconds = max(0, seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _share(part: int, whole: int) -> str:
    """ "4/6 đại biểu (66,67%)": the Vietnamese decimal comma, as councils print it."""
    percent = f" ({part / whole:.2%})".replace(".", ",") if whole else ""
    return f"{part}/{whole} đại biểu{percent}"


def _option_labels(poll: Poll) -> list[str]:
    labels: list[str] = json.loads(poll.options)
    if poll.method == PollMethod.motion:
        return [MOTION_LABELS.get(label, label) for label in labels]
    return labels


def poll_minutes(poll: Poll, result: PollResult | None, not_voted: list[str]) -> PollMinutes:
    """One poll in words: question, kind, rule, quorum, totals against the members, verdict, named votes.

    `not_voted` names the eligible voters of a named poll who cast no ballot.
    """
    heading = f"{KIND_LABELS[poll.kind]}: {poll.question}"
    rule = f"Điều kiện thông qua: {RULE_LABELS[poll.rule]}."
    if poll.state == PollState.open:
        return PollMinutes(heading, [rule, "Đang biểu quyết."])
    if poll.state != PollState.published or result is None:
        return PollMinutes(heading, [rule, "Đã kết thúc biểu quyết, chưa công bố kết quả."])
    labels = _option_labels(poll)
    members = result.members
    if result.quorum_required:
        met = "đủ" if result.quorum_met else "không đủ"
        quorum = f"Yêu cầu túc số: cần {result.quorum_needed} phiếu, có {result.ballots} — {met} túc số."
    else:
        quorum = "Không yêu cầu túc số."
    details = [
        rule,
        quorum,
        f"Số đại biểu bỏ phiếu: {_share(result.ballots, members)}; "
        f"không bỏ phiếu: {_share(members - result.ballots, members)}.",
        *(f"{label}: {_share(n, members)}." for label, n in zip(labels, result.counts, strict=True)),
    ]
    if poll.method == PollMethod.motion:
        verdict = "Thông qua" if result.passed else "Không thông qua"
    elif result.chosen:
        verdict = "Kết quả: " + ", ".join(labels[i] for i in result.chosen)
    else:
        verdict = "Không có phương án đạt" + (" (hòa phiếu)" if result.tie else "")
    details.append(f"**{verdict}.**")
    if result.voters is not None:
        # Grouped by choice: each member's vote is there, and a council of fifty still reads it.
        groups = [
            (label, [v.display_name for v in result.voters if index in v.choice])
            for index, label in enumerate(labels)
        ]
        groups.append(("Không chọn phương án nào", [v.display_name for v in result.voters if not v.choice]))
        groups.append(("Có mặt, không bỏ phiếu", not_voted))
        named = [f"{label} ({len(names)}): {', '.join(names)}" for label, names in groups if names]
        absent = members - result.eligible
        if absent > 0:
            named.append(f"Vắng mặt khi biểu quyết: {absent} đại biểu")
        details.append("Biểu quyết của từng đại biểu — " + "; ".join(named) + ".")
    return PollMinutes(heading, details)


def _quorum_text(quorum: Quorum) -> str:
    state = "đủ túc số" if quorum.met else "không đủ túc số"
    return f"Có mặt {quorum.present}/{quorum.voting_members} đại biểu — {state} (cần {quorum.required})."


def _person(participant: Participant) -> str:
    return f"{participant.user.display_name} ({ROLE_LABELS[participant.role]})"


def _attendance(participants: list[Participant], timezone: str) -> tuple[list[AttendanceGroup], str]:
    """Everyone by attendance state, and the voting members present against all of them."""
    groups: list[AttendanceGroup] = []
    for state, label in ATTENDANCE_GROUPS:
        people = []
        for p in participants:
            if p.attendance != state:
                continue
            line = _person(p)
            if state == Attendance.absent:
                line += f" — lý do: {p.absence_reason}" if p.absence_reason else " — không có lý do"
            elif state == Attendance.left and p.attendance_at is not None:
                line += f" — rời lúc {_clock(p.attendance_at, timezone)}"
            people.append(line)
        if people:
            groups.append(AttendanceGroup(f"{label} ({len(people)})", people))
    members = [p for p in participants if p.voting]
    count = {state: sum(1 for p in members if p.attendance == state) for state in Attendance}
    present = count[Attendance.in_room] + count[Attendance.online]
    parts = [
        f"Có mặt {present}/{len(members)} đại biểu (tại hội trường {count[Attendance.in_room]}, "
        f"trực tuyến {count[Attendance.online]})"
    ]
    for state, words in (
        (Attendance.absent, "vắng"),
        (Attendance.left, "đã rời cuộc họp"),
        (Attendance.expected, "chưa điểm danh"),
    ):
        if count[state]:
            parts.append(f"{words} {count[state]}/{len(members)}")
    return groups, "; ".join(parts) + "."


def _times(meeting: Meeting) -> tuple[str, str]:
    """The actual opening and closing times; the planned ones, marked, for what has not happened."""
    zone = meeting.timezone
    planned_end = f"{_local_time(meeting.ends_at, zone)} (dự kiến)"
    if meeting.opened_at is None:
        return f"{_local_time(meeting.starts_at, zone)} (dự kiến)", planned_end
    opened = _local_time(meeting.opened_at, zone)
    if meeting.closed_at is None:
        return opened, f"chưa kết thúc — {planned_end}"
    return opened, _local_time(meeting.closed_at, zone)


# How the minutes print the chain head they bind; the archive check reads it back from the signed PDF.
CHAIN_HEAD = re.compile(r"nhật ký hồ sơ, mục (\d+)\): ([0-9a-f]{64})")


def _chain_line(head: tuple[int, str] | None) -> str:
    if head is None:
        return "Mã kiểm chứng: chưa có (cuộc họp chưa có nhật ký hồ sơ)."
    seq, digest = head
    return f"Mã kiểm chứng (nhật ký hồ sơ, mục {seq}): {digest}"


async def gather(session: AsyncSession, access: MeetingAccess) -> Minutes:
    """Collect the minutes' content from the meeting's tables."""
    meeting = access.meeting
    participants = list(
        await session.scalars(
            select(Participant).where(Participant.meeting_id == meeting.id).order_by(Participant.id)
        )
    )
    items = display_order(
        list(await session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)))
    )
    polls = list(
        await session.scalars(
            select(Poll).where(Poll.meeting_id == meeting.id, Poll.state != PollState.draft).order_by(Poll.id)
        )
    )
    conclusions = await latest_texts(session, meeting.id)
    documents = await titles_by_item(session, meeting.id)
    roles = {p.user_id: p.role for p in participants}
    spoken: dict[int | None, list[str]] = {}
    for speech in await speeches(session, meeting.id):
        role = roles.get(speech.user_id)
        who = speech.display_name + (f" ({ROLE_LABELS[role]})" if role else "")
        took = (
            f"thời lượng {duration(speech.started_at, speech.ended_at)}"
            if speech.ended_at is not None
            else "đang phát biểu"
        )
        if speech.limit_seconds is not None:
            # The time the speaker was given (with the chair's extensions), and how far past it they went.
            over = round(speech.overrun_seconds)
            took += f" (giới hạn {_mmss(speech.limit_seconds)}" + (f", vượt {_mmss(over)})" if over else ")")
        line = f"{who} — từ {_clock(speech.started_at, meeting.timezone)}, {took}"
        spoken.setdefault(speech.item_id, []).append(line)
    by_name = {p.id: p.user.display_name for p in participants}

    async def not_voted(poll: Poll, result: PollResult | None) -> list[str]:
        if poll.kind != PollKind.named or result is None or result.voters is None:
            return []
        voted = {v.participant_id for v in result.voters}
        eligible = await session.scalars(
            select(PollVoter.participant_id)
            .where(PollVoter.poll_id == poll.id)
            .order_by(PollVoter.participant_id)
        )
        return [by_name.get(pid, f"#{pid}") for pid in eligible if pid not in voted]

    def first(role: ParticipantRole) -> str:
        return next((p.user.display_name for p in participants if p.role == role), "")

    opened, closed = _times(meeting)
    groups, turnout = _attendance(participants, meeting.timezone)
    minutes = Minutes(
        title=meeting.title,
        location=meeting.location,
        opened=opened,
        closed=closed,
        attendance=groups,
        turnout=turnout,
        quorum=_quorum_text(quorum_of(meeting, participants)),
        other_speeches=spoken.get(None, []),
        closing=(
            f"Cuộc họp kết thúc lúc {_local_time(meeting.closed_at, meeting.timezone)}."
            if meeting.closed_at is not None
            else ""
        ),
        chain=_chain_line(await audit.head(session, meeting.id)),
        chair=first(ParticipantRole.chair),
        secretary=first(ParticipantRole.secretary),
    )
    numbers: dict[int, str] = {}
    top = 0
    children: dict[int, int] = {}
    for item in items:
        if item.parent_id is None:
            top += 1
            numbers[item.id] = str(top)
        else:
            children[item.parent_id] = children.get(item.parent_id, 0) + 1
            numbers[item.id] = f"{numbers[item.parent_id]}.{children[item.parent_id]}"
        conclusion = conclusions.get(item.id)
        item_polls = []
        for poll in polls:
            if poll.item_id == item.id:
                result = result_of(poll)
                item_polls.append(poll_minutes(poll, result, await not_voted(poll, result)))
        minutes.items.append(
            ItemMinutes(
                number=numbers[item.id],
                title=item.title,
                presenter=item.presenter,
                documents=documents.get(item.id, []),
                speeches=spoken.get(item.id, []),
                polls=item_polls,
                conclusion=conclusion.text if conclusion else "",
            )
        )
    return minutes


def to_markdown(minutes: Minutes) -> str:
    """The minutes as Markdown."""
    lines = [
        "# BIÊN BẢN CUỘC HỌP",
        f"## {minutes.title}",
        "",
        f"- **Địa điểm:** {minutes.location or '—'}",
        f"- **Bắt đầu:** {minutes.opened}",
        f"- **Kết thúc:** {minutes.closed}",
        "",
        "## Thành phần tham dự",
    ]
    for group in minutes.attendance:
        lines += ["", f"**{group.label}:**", "", *[f"- {person}" for person in group.people]]
    lines += ["", f"**Đại biểu:** {minutes.turnout}", "", f"**Túc số:** {minutes.quorum}", "", "## Nội dung"]
    for item in minutes.items:
        lines += ["", f"### {item.number}. {item.title}"]
        if item.presenter:
            lines.append(f"*Trình bày: {item.presenter}*")
        if item.documents:
            lines += ["", "**Tài liệu:**", *[f"- {title}" for title in item.documents]]
        if item.speeches:
            lines += ["", "**Ý kiến thảo luận:**", "", *[f"{n}. {s}" for n, s in enumerate(item.speeches, 1)]]
        if item.polls:
            lines += ["", "**Biểu quyết:**"]
            for poll in item.polls:
                lines += ["", f"- {poll.heading}", *[f"  - {detail}" for detail in poll.details]]
        lines += ["", "**Kết luận:**", "", item.conclusion or "_Chưa có kết luận._"]
    if minutes.other_speeches:
        lines += ["", "### Ý kiến ngoài các nội dung", ""]
        lines += [f"{n}. {s}" for n, s in enumerate(minutes.other_speeches, 1)]
    lines += ["", "---", ""]
    if minutes.closing:
        lines += [minutes.closing, ""]
    lines += [
        minutes.chain,
        "",
        f"| THƯ KÝ | CHỦ TỌA |\n|---|---|\n| {minutes.secretary} | {minutes.chair} |",
        "",
    ]
    return "\n".join(lines)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"(?<![*\w])[*_](.+?)[*_](?![*\w])", r"<i>\1</i>", escaped)


def markdown_html(text: str) -> str:
    """A small, safe Markdown subset (paragraphs, bullets, bold, italics) as HTML; the rest stays text."""
    out: list[str] = []
    in_list = False
    for block in re.split(r"\n\s*\n", text.strip()):
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith(("- ", "* ")):
                if not in_list:
                    out.append("<ul>")
                    in_list = True
                out.append(f"<li>{_inline(stripped[2:])}</li>")
            else:
                if in_list:
                    out.append("</ul>")
                    in_list = False
                heading = re.match(r"^#{1,6}\s+(.*)$", stripped)
                out.append(
                    f"<p><b>{_inline(heading.group(1))}</b></p>" if heading else f"<p>{_inline(stripped)}</p>"
                )
        if in_list:
            out.append("</ul>")
            in_list = False
    return "\n".join(out)


def to_html(minutes: Minutes) -> str:
    """The minutes' body as the HTML the PDF is laid out from (the signatures are `signature_columns`)."""
    e = html.escape
    parts = [
        "<p class='nation'><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b></p>",
        "<p class='motto'><b>Độc lập - Tự do - Hạnh phúc</b></p>",
        "<p class='rule'>―――――――――――――――</p>",
        "<h1>BIÊN BẢN CUỘC HỌP</h1>",
        f"<h2>{e(minutes.title)}</h2>",
        f"<p><b>Địa điểm:</b> {e(minutes.location or '—')}<br/>"
        f"<b>Bắt đầu:</b> {e(minutes.opened)}<br/><b>Kết thúc:</b> {e(minutes.closed)}</p>",
        "<h3>Thành phần tham dự</h3>",
    ]
    for group in minutes.attendance:
        parts.append(f"<p class='group'><b>{e(group.label)}:</b></p>")
        parts.append("<ul>" + "".join(f"<li>{e(person)}</li>" for person in group.people) + "</ul>")
    parts.append(f"<p><b>Đại biểu:</b> {e(minutes.turnout)}<br/><b>Túc số:</b> {e(minutes.quorum)}</p>")
    parts.append("<h3>Nội dung</h3>")
    for item in minutes.items:
        parts.append(f"<h4>{e(item.number)}. {e(item.title)}</h4>")
        if item.presenter:
            parts.append(f"<p><i>Trình bày: {e(item.presenter)}</i></p>")
        if item.documents:
            parts.append(
                "<p><b>Tài liệu:</b></p><ul>" + "".join(f"<li>{e(t)}</li>" for t in item.documents) + "</ul>"
            )
        if item.speeches:
            parts.append(
                "<p><b>Ý kiến thảo luận:</b></p><ol>"
                + "".join(f"<li>{e(s)}</li>" for s in item.speeches)
                + "</ol>"
            )
        if item.polls:
            parts.append("<p><b>Biểu quyết:</b></p>")
            for poll in item.polls:
                parts.append(f"<p class='poll'><b>{e(poll.heading)}</b></p>")
                parts.append("<ul>" + "".join(f"<li>{_inline(d)}</li>" for d in poll.details) + "</ul>")
        parts.append("<p><b>Kết luận:</b></p>")
        parts.append(markdown_html(item.conclusion) if item.conclusion else "<p><i>Chưa có kết luận.</i></p>")
    if minutes.other_speeches:
        parts.append("<h4>Ý kiến ngoài các nội dung</h4>")
        parts.append("<ol>" + "".join(f"<li>{e(s)}</li>" for s in minutes.other_speeches) + "</ol>")
    if minutes.closing:
        parts.append(f"<p class='closing'>{e(minutes.closing)}</p>")
    parts.append(f"<p class='chain'>{e(minutes.chain)}</p>")
    return "\n".join(parts)


def signature_columns(minutes: Minutes) -> list[str]:
    """THƯ KÝ and CHỦ TỌA, each a centred column: title, a hint, room for the signature, the name."""
    return [
        f"<p class='sign'><b>{title}</b></p><p class='sign'><i>(Ký, ghi rõ họ tên)</i></p>"
        f"<p class='sign name'><b>{html.escape(name) or '&nbsp;'}</b></p>"
        for title, name in (("THƯ KÝ", minutes.secretary), ("CHỦ TỌA", minutes.chair))
    ]


CSS = """
* { font-family: noto; }
body { font-size: 11pt; line-height: 1.35; }
h1 { font-size: 16pt; text-align: center; margin: 14pt 0 4pt 0; }
h2 { font-size: 13pt; text-align: center; margin: 0 0 12pt 0; }
h3 { font-size: 12pt; margin: 12pt 0 4pt 0; }
h4 { font-size: 11pt; margin: 10pt 0 2pt 0; }
p { margin: 3pt 0; }
ul, ol { margin: 0 0 4pt 0; }
p.nation, p.motto, p.rule { text-align: center; margin: 0; }
p.nation { font-size: 12pt; }
p.rule { font-size: 8pt; line-height: 1; }
p.group, p.poll { margin: 4pt 0 0 0; }
p.closing { margin-top: 10pt; }
p.chain { font-size: 9pt; color: #444; margin-top: 8pt; }
p.sign { text-align: center; margin: 0; }
p.name { margin-top: 64pt; }
"""


async def minutes_markdown(session: AsyncSession, access: MeetingAccess) -> str:
    """The minutes as Markdown for the web client."""
    return to_markdown(await gather(session, access))


async def minutes_pdf(session: AsyncSession, access: MeetingAccess, docs: DocsRuntime) -> bytes:
    """The minutes as a PDF, laid out by PyMuPDF in a document worker process (never in the server)."""
    minutes = await gather(session, access)
    return await docs.html_to_pdf(
        to_html(minutes), CSS, f"Biên bản — {minutes.title}", columns=signature_columns(minutes)
    )
