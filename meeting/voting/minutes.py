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

from meeting.agenda.models import AgendaItem, Attendance, Participant, ParticipantRole
from meeting.agenda.service import display_order, quorum_of
from meeting.docs import titles_by_item
from meeting.voting.conclusions import latest_texts
from meeting.voting.models import Poll, PollState
from meeting.voting.service import result_of
from meeting.voting.tally import MajorityRule, PollKind, PollMethod

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
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
ATTENDANCE_LABELS = {
    Attendance.in_room: "Có mặt",
    Attendance.online: "Trực tuyến",
    Attendance.absent: "Vắng",
    Attendance.expected: "Chưa điểm danh",
    Attendance.left: "Đã rời",
}
ROLE_LABELS = {
    ParticipantRole.chair: "Chủ tọa",
    ParticipantRole.secretary: "Thư ký",
    ParticipantRole.delegate: "Đại biểu",
    ParticipantRole.guest: "Khách mời",
}


@dataclass
class ItemMinutes:
    """One agenda item as the minutes show it."""

    number: str
    title: str
    presenter: str
    documents: list[str]
    polls: list[str]  # one Markdown line per poll: question and result
    conclusion: str  # Markdown


@dataclass
class Minutes:
    """Everything the minutes say, independent of the output format."""

    title: str
    location: str
    time: str
    attendance: list[str]
    quorum: str
    items: list[ItemMinutes] = field(default_factory=list)
    chair: str = ""
    secretary: str = ""


def _local_time(value: dt.datetime, timezone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%H:%M ngày %d/%m/%Y")


def _option_labels(poll: Poll) -> list[str]:
    labels: list[str] = json.loads(poll.options)
    if poll.method == PollMethod.motion:
        return [MOTION_LABELS.get(label, label) for label in labels]
    return labels


def poll_line(poll: Poll, result: PollResult | None) -> str:
    """One poll in words: question, kind, and its published result (or why it has none)."""
    head = f"{KIND_LABELS[poll.kind]}: {poll.question}"
    if poll.state != PollState.published or result is None:
        return f"{head} — chưa công bố kết quả."
    labels = _option_labels(poll)
    counts = "; ".join(f"{label}: {n}" for label, n in zip(labels, result.counts, strict=True))
    turnout = f"{result.ballots}/{result.eligible} đại biểu bỏ phiếu ({result.turnout:.0%})"
    quorum = "đủ túc số" if result.quorum_met else "không đủ túc số"
    if poll.method == PollMethod.motion:
        verdict = "Thông qua" if result.passed else "Không thông qua"
    elif result.chosen:
        verdict = "Kết quả: " + ", ".join(labels[i] for i in result.chosen)
    else:
        verdict = "Không có phương án đạt" + (" (hòa phiếu)" if result.tie else "")
    rule = RULE_LABELS[poll.rule]
    line = f"{head} — {counts}. {turnout}, {quorum}. Điều kiện: {rule}. **{verdict}.**"
    if result.voters:
        names = "; ".join(
            f"{v.display_name}: {', '.join(labels[i] for i in v.choice) or 'không chọn'}"
            for v in result.voters
        )
        line += f" Chi tiết: {names}."
    return line


def _quorum_text(quorum: Quorum) -> str:
    state = "đủ túc số" if quorum.met else "không đủ túc số"
    return f"Có mặt {quorum.present}/{quorum.voting_members} đại biểu — {state} (cần {quorum.required})."


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

    def first(role: ParticipantRole) -> str:
        return next((p.user.display_name for p in participants if p.role == role), "")

    minutes = Minutes(
        title=meeting.title,
        location=meeting.location,
        time=" — ".join(_local_time(t, meeting.timezone) for t in (meeting.starts_at, meeting.ends_at)),
        attendance=[
            f"{p.user.display_name} ({ROLE_LABELS[p.role]}): {ATTENDANCE_LABELS[p.attendance]}"
            + (f" — {p.absence_reason}" if p.absence_reason else "")
            for p in participants
        ],
        quorum=_quorum_text(quorum_of(meeting, participants)),
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
        minutes.items.append(
            ItemMinutes(
                number=numbers[item.id],
                title=item.title,
                presenter=item.presenter,
                documents=documents.get(item.id, []),
                polls=[poll_line(p, result_of(p)) for p in polls if p.item_id == item.id],
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
        f"- **Thời gian:** {minutes.time}",
        "",
        "## Thành phần tham dự",
        "",
        *[f"- {line}" for line in minutes.attendance],
        "",
        f"**Túc số:** {minutes.quorum}",
        "",
        "## Nội dung",
    ]
    for item in minutes.items:
        lines += ["", f"### {item.number}. {item.title}"]
        if item.presenter:
            lines.append(f"*Trình bày: {item.presenter}*")
        if item.documents:
            lines += ["", "**Tài liệu:**", *[f"- {title}" for title in item.documents]]
        if item.polls:
            lines += ["", "**Biểu quyết:**", *[f"- {line}" for line in item.polls]]
        lines += ["", "**Kết luận:**", "", item.conclusion or "_Chưa có kết luận._"]
    lines += [
        "",
        "---",
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
    """The minutes as the HTML the PDF is laid out from."""
    e = html.escape
    parts = [
        "<p class='nation'><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br/>Độc lập - Tự do - Hạnh phúc</p>",
        "<h1>BIÊN BẢN CUỘC HỌP</h1>",
        f"<h2>{e(minutes.title)}</h2>",
        f"<p><b>Địa điểm:</b> {e(minutes.location or '—')}<br/><b>Thời gian:</b> {e(minutes.time)}</p>",
        "<h3>Thành phần tham dự</h3>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in minutes.attendance) + "</ul>",
        f"<p><b>Túc số:</b> {e(minutes.quorum)}</p>",
        "<h3>Nội dung</h3>",
    ]
    for item in minutes.items:
        parts.append(f"<h4>{e(item.number)}. {e(item.title)}</h4>")
        if item.presenter:
            parts.append(f"<p><i>Trình bày: {e(item.presenter)}</i></p>")
        if item.documents:
            parts.append(
                "<p><b>Tài liệu:</b></p><ul>" + "".join(f"<li>{e(t)}</li>" for t in item.documents) + "</ul>"
            )
        if item.polls:
            parts.append(
                "<p><b>Biểu quyết:</b></p><ul>"
                + "".join(f"<li>{_inline(p)}</li>" for p in item.polls)
                + "</ul>"
            )
        parts.append("<p><b>Kết luận:</b></p>")
        parts.append(markdown_html(item.conclusion) if item.conclusion else "<p><i>Chưa có kết luận.</i></p>")
    parts.append(
        "<table class='sign'><tr><td><b>THƯ KÝ</b><br/><i>(Ký, ghi rõ họ tên)</i><br/><br/><br/><br/>"
        f"{e(minutes.secretary)}</td><td><b>CHỦ TỌA</b><br/><i>(Ký, ghi rõ họ tên)</i><br/><br/><br/><br/>"
        f"{e(minutes.chair)}</td></tr></table>"
    )
    return "\n".join(parts)


CSS = """
* { font-family: noto; }
body { font-size: 11pt; line-height: 1.35; }
h1 { font-size: 16pt; text-align: center; margin: 6pt 0; }
h2 { font-size: 13pt; text-align: center; margin: 0 0 10pt 0; }
h3 { font-size: 12pt; margin: 10pt 0 4pt 0; }
h4 { font-size: 11pt; margin: 8pt 0 2pt 0; }
p.nation { text-align: center; }
table.sign { width: 100%; margin-top: 24pt; }
table.sign td { width: 50%; text-align: center; vertical-align: top; }
"""


async def minutes_markdown(session: AsyncSession, access: MeetingAccess) -> str:
    """The minutes as Markdown for the web client."""
    return to_markdown(await gather(session, access))


async def minutes_pdf(session: AsyncSession, access: MeetingAccess, docs: DocsRuntime) -> bytes:
    """The minutes as a PDF, laid out by PyMuPDF in a document worker process (never in the server)."""
    minutes = await gather(session, access)
    return await docs.html_to_pdf(to_html(minutes), CSS, f"Biên bản — {minutes.title}")
