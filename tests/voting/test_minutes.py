"""Conclusions per agenda item, and the minutes as PDF and Markdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import TYPE_CHECKING

import pymupdf
import pytest
from sqlalchemy import select

from meeting.agenda import load_access
from meeting.agenda import service as agenda_service
from meeting.audit import AuditHead
from meeting.rooms import service as rooms_service
from meeting.rooms.schemas import SpeakerEnd, SpeakerGrant, SpeakerRequest, SpeakerWithdraw
from meeting.users.models import User
from tests.support.api import MEETING, upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.voting.conftest import Session


CONCLUSION = (
    "Hội đồng **thống nhất** thông qua dự toán ngân sách năm 2027.\n\n"
    "- Giao Ủy ban nhân dân tổ chức thực hiện"
)


async def test_conclusions_are_versioned_by_managers_only(session: Session) -> None:
    url = f"{session.council.url}/agenda/{session.item_id}/conclusion"
    assert (await session.api.call("PUT", url, "delegate1", json={"text": "x"})).status_code == 403
    assert (await session.api.call("GET", url, "delegate1")).status_code == 404
    first = await session.api.ok("PUT", url, "secretary", json={"text": "Bản nháp"})
    second = await session.api.ok("PUT", url, "chair", json={"text": CONCLUSION, "baseVersion": 1})
    assert (first["version"], second["version"], second["authorName"]) == (1, 2, "Chair")
    stale = await session.api.call("PUT", url, "secretary", json={"text": "cũ", "baseVersion": 1})
    assert stale.status_code == 409
    assert (await session.api.ok("GET", url, "guest"))["text"] == CONCLUSION
    history = await session.api.ok("GET", f"{url}/history", "delegate1")
    assert [(h["version"], h["authorName"], h["text"]) for h in history] == [
        (2, "Chair", CONCLUSION),
        (1, "Secretary", "Bản nháp"),
    ]
    missing = await session.api.call(
        "PUT", f"{session.council.url}/agenda/999/conclusion", "chair", json={"text": "x"}
    )
    assert missing.status_code == 404


async def test_conclusion_is_linked_to_the_item_poll_results(session: Session) -> None:
    poll = await session.opened()
    await session.vote(poll["id"], "delegate1", 0)
    await session.close(poll["id"])
    await session.publish(poll["id"])
    url = f"{session.council.url}/agenda/{session.item_id}/conclusion"
    await session.api.ok("PUT", url, "secretary", json={"text": CONCLUSION})
    read = await session.api.ok("GET", url, "delegate2")
    assert [(p["id"], p["result"]["passed"]) for p in read["polls"]] == [(poll["id"], True)]
    listed = await session.api.ok("GET", f"{session.council.url}/conclusions", "guest")
    assert [c["itemId"] for c in listed] == [session.item_id]


class Clock:
    """A settable `utcnow` for the room and the meeting lifecycle: speaking times become exact."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội: the meeting opens

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, hour: int, minute: int, second: int = 0) -> None:
        """Move to a local (UTC+7) time of the meeting day."""
        self.now = dt.datetime(2026, 12, 1, hour - 7, minute, second, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The room's and the meeting lifecycle's clock, under the test's control (ask for it before
    `session`, so the meeting opens by it)."""
    clock = Clock()
    monkeypatch.setattr(rooms_service, "utcnow", clock)
    monkeypatch.setattr(agenda_service, "utcnow", clock)
    return clock


async def _floor(app: Litestar, db: AsyncSession, session: Session, as_: str, message: object) -> None:
    """One speaker-queue action by a user, through the room's service (what the socket handler calls)."""
    user = await db.get(User, session.api.ids[as_])
    assert user is not None
    access = await load_access(db, session.council.meeting_id, user)
    broker = app.state.broker
    actions: dict[type, Callable[..., Awaitable[object]]] = {
        SpeakerRequest: rooms_service.request_to_speak,
        SpeakerWithdraw: rooms_service.withdraw_request,
        SpeakerGrant: rooms_service.grant_floor,
        SpeakerEnd: rooms_service.end_speech,
    }
    await actions[type(message)](db, broker, access, message)


async def _full_session(session: Session) -> None:
    attached = await upload(
        session.council, make_pdf(pages=1), agendaItemId=session.item_id, title="Tờ trình số 12"
    )
    assert attached.status_code == 201, attached.text
    named = await session.opened(question="Thông qua dự toán ngân sách năm 2027?")
    await session.vote(named["id"], "delegate1", 0)
    await session.vote(named["id"], "delegate2", 2)
    await session.close(named["id"])
    await session.publish(named["id"])
    await session.api.ok(
        "PUT",
        f"{session.council.url}/agenda/{session.item_id}/conclusion",
        "secretary",
        json={"text": CONCLUSION},
    )


async def _recorded_session(app: Litestar, db: AsyncSession, session: Session, clock: Clock) -> None:
    """A meeting as it happens: an absent member, speeches under the item and before it, a named vote,
    an unpublished secret one, and the meeting ended at 11:42."""
    api, url = session.api, session.council.url
    absent = await session.add_delegate("delegate3")
    await api.ok(
        "PUT",
        f"{url}/participants/{absent}/attendance",
        "secretary",
        json={"attendance": "absent", "reason": "Đi công tác tỉnh"},
    )
    # Before any item is active: the record keeps it apart.
    clock.at(8, 40)
    await _floor(app, db, session, "delegate2", SpeakerRequest())
    await _floor(app, db, session, "chair", SpeakerGrant())
    clock.at(8, 41, 5)
    await _floor(app, db, session, "chair", SpeakerEnd())
    await api.ok("POST", f"{url}/agenda/{session.item_id}/status", "chair", json={"status": "active"})
    clock.at(9, 0)
    await _floor(app, db, session, "delegate2", SpeakerRequest())
    await _floor(app, db, session, "delegate1", SpeakerRequest())
    await _floor(app, db, session, "chair", SpeakerRequest())
    await _floor(app, db, session, "chair", SpeakerWithdraw())  # never spoke: not in the minutes
    # delegate1 asked second but is given the floor first: the minutes follow the speaking order.
    clock.at(9, 12)
    # Three minutes for delegate1, who takes 3:25: the minutes show the limit and the overrun.
    await _floor(app, db, session, "chair", SpeakerGrant(user_id=api.ids["delegate1"], limit_seconds=180))
    clock.at(9, 15, 25)
    await _floor(app, db, session, "chair", SpeakerGrant(user_id=api.ids["delegate2"]))
    clock.at(9, 17, 5)
    await _floor(app, db, session, "delegate2", SpeakerEnd())
    await _full_session(session)
    hidden = await session.opened(question="Bầu trưởng ban?", kind="secret")
    await session.vote(hidden["id"], "delegate1", 0)
    await session.close(hidden["id"])
    clock.at(11, 42)
    await api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})


async def _minutes_text(session: Session, fmt: str) -> str:
    """The minutes in one format as plain words: PDF text extracted, Markdown without its marks."""
    response = await session.api.call("GET", f"{session.council.url}/minutes/{fmt}", "secretary")
    assert response.status_code == 200, response.text
    if fmt == "pdf":
        with pymupdf.open("pdf", response.content) as doc:
            lines = [line for page in doc for line in page.get_text().splitlines()]
    else:
        lines = response.text.replace("**", "").replace("*", "").splitlines()
    # List marks differ ("- " in Markdown, "•" drawn in the PDF); the words must not.
    return " ".join(" ".join(re.sub(r"^\s*[-•]\s*", "", line) for line in lines).split())


@pytest.mark.parametrize("fmt", ["markdown", "pdf"])
async def test_minutes_record_times_speakers_attendance_votes_and_chain_head(
    clock: Clock, app: Litestar, db: AsyncSession, session: Session, fmt: str
) -> None:
    await _recorded_session(app, db, session, clock)
    meeting = await session.api.ok("GET", session.council.url, "secretary")
    assert (meeting["openedAt"], meeting["closedAt"]) == ("2026-12-01T01:30:00Z", "2026-12-01T04:42:00Z")
    head = await db.scalar(select(AuditHead).where(AuditHead.meeting_id == session.council.meeting_id))
    assert head is not None
    text = await _minutes_text(session, fmt)
    for expected in (
        # the actual times, not the planned 08:00 — 17:00
        "Bắt đầu: 08:30 ngày 01/12/2026",
        "Kết thúc: 11:42 ngày 01/12/2026",
        "Cuộc họp kết thúc lúc 11:42 ngày 01/12/2026.",
        # attendance with reasons, counted against the three voting members
        "Có mặt tại hội trường (1): Delegate1 (Đại biểu)",
        "Tham dự trực tuyến (1): Delegate2 (Đại biểu)",
        "Vắng mặt (1): Delegate3 (Đại biểu) — lý do: Đi công tác tỉnh",
        "Có mặt 2/3 đại biểu (tại hội trường 1, trực tuyến 1); vắng 1/3",
        # speeches per item, in speaking order, with their durations
        "Ý kiến thảo luận: 1. Delegate1 (Đại biểu) — từ 09:12, thời lượng 03:25 (giới hạn 03:00, vượt 00:25) "
        "2. Delegate2 (Đại biểu) — từ 09:15, thời lượng 01:40",
        "Ý kiến ngoài các nội dung 1. Delegate2 (Đại biểu) — từ 08:40, thời lượng 01:05",
        # the named poll in full, against the members frozen at open (3), not those present (2)
        "Biểu quyết công khai: Thông qua dự toán ngân sách năm 2027?",
        "Điều kiện thông qua: số phiếu đồng ý nhiều hơn số phiếu không đồng ý.",
        "Yêu cầu túc số: cần 2 phiếu, có 2 — đủ túc số.",
        "Số đại biểu bỏ phiếu: 2/3 đại biểu (66,67%); không bỏ phiếu: 1/3 đại biểu (33,33%).",
        "Đồng ý: 1/3 đại biểu (33,33%).",
        "Không đồng ý: 0/3 đại biểu (0,00%).",
        "Phiếu trắng: 1/3 đại biểu (33,33%).",
        "Thông qua.",
        "Biểu quyết của từng đại biểu — Đồng ý (1): Delegate1; Phiếu trắng (1): Delegate2; "
        "Vắng mặt khi biểu quyết: 1 đại biểu.",
        "Bỏ phiếu kín: Bầu trưởng ban?",
        "Đã kết thúc biểu quyết, chưa công bố kết quả.",
        "Tờ trình số 12",
        "Hội đồng thống nhất thông qua dự toán ngân sách năm 2027.",
        # the chain head binds the signed record to the poll log
        f"Mã kiểm chứng (nhật ký hồ sơ, mục {head.seq}): {head.hash}",
        "THƯ KÝ",
        "CHỦ TỌA",
    ):
        assert expected in text, f"{expected!r} not in the {fmt} minutes:\n{text}"
    assert "Chair (Chủ tọa) — từ" not in text  # withdrew before speaking
    assert "4/4" not in text and "2/2 đại biểu bỏ phiếu" not in text


async def test_minutes_of_a_meeting_never_opened_show_the_planned_times_marked(session: Session) -> None:
    draft = await session.api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    response = await session.api.call("GET", f"/api/meetings/{draft['id']}/minutes/markdown", "secretary")
    assert "- **Bắt đầu:** 08:00 ngày 01/12/2026 (dự kiến)" in response.text
    assert "- **Kết thúc:** 17:00 ngày 01/12/2026 (dự kiến)" in response.text
    live = (await session.api.call("GET", f"{session.council.url}/minutes/markdown", "secretary")).text
    assert "(dự kiến)" in live.split("Kết thúc:")[1].splitlines()[0]  # not ended yet: planned end
    assert "(dự kiến)" not in live.split("Bắt đầu:")[1].splitlines()[0]


async def test_minutes_pdf_signatures_sit_side_by_side_across_the_page(session: Session) -> None:
    await _full_session(session)
    response = await session.api.call("GET", f"{session.council.url}/minutes/pdf", "secretary")
    with pymupdf.open("pdf", response.content) as doc:
        page = doc[-1]
        (secretary,) = page.search_for("THƯ KÝ")
        (chair,) = page.search_for("CHỦ TỌA")
        width = page.rect.width
        names = [page.search_for(name)[-1] for name in ("Secretary", "Chair")]
    middle = width / 2
    assert secretary.y1 == pytest.approx(chair.y1, abs=0.5)  # one baseline
    assert secretary.x1 < middle < chair.x0
    # Each title centred in its half (within a few points), each name under its title, room to sign.
    for title, (left, right), name in (
        (secretary, (56, middle), names[0]),
        (chair, (middle, width - 56), names[1]),
    ):
        assert abs((title.x0 + title.x1) / 2 - (left + right) / 2) < 3
        assert abs((name.x0 + name.x1) / 2 - (left + right) / 2) < 3
        assert name.y0 - title.y1 > 50


async def test_simultaneous_conclusion_saves_never_share_a_version(session: Session) -> None:
    url = f"{session.council.url}/agenda/{session.item_id}/conclusion"
    saves = [
        session.api.call("PUT", url, ("chair", "secretary")[i % 2], json={"text": f"v{i}"}) for i in range(6)
    ]
    answers = await asyncio.gather(*saves)
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    saved = sorted(a.json()["version"] for a in answers if a.status_code == 200)
    assert saved == list(range(1, len(saved) + 1))
    history = await session.api.ok("GET", f"{url}/history", "chair")
    assert [h["version"] for h in history] == saved[::-1]
