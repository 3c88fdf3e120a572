"""Conclusions per agenda item, and the minutes as PDF and Markdown."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pymupdf

from tests.support.api import upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
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


async def test_minutes_pdf_round_trips_vietnamese_text(session: Session) -> None:
    await _full_session(session)
    response = await session.api.call("GET", f"{session.council.url}/minutes/pdf", "secretary")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    with pymupdf.open("pdf", response.content) as doc:
        text = " ".join(" ".join(page.get_text().split()) for page in doc)
        # (xref, extension, type, base name, ...): an extension other than n/a means embedded.
        fonts = {(font[3], font[1]) for page in doc for font in page.get_fonts()}
        pixmap = doc[0].get_pixmap(dpi=60)
    for expected in (
        "BIÊN BẢN CUỘC HỌP",
        "Kỳ họp thứ 12 — HĐND huyện",
        "Hội trường tầng 3",
        "08:00 ngày 01/12/2026",
        "Delegate1 (Đại biểu): Có mặt",
        "Delegate2 (Đại biểu): Trực tuyến",
        "Có mặt 2/2 đại biểu — đủ túc số",
        "1. Dự thảo nghị quyết về ngân sách",
        "Biểu quyết công khai: Thông qua dự toán ngân sách năm 2027?",
        "Đồng ý: 1; Không đồng ý: 0; Phiếu trắng: 1",
        "Thông qua.",
        "Tài liệu:",
        "Tờ trình số 12",
        "Hội đồng thống nhất thông qua dự toán ngân sách năm 2027.",
        "Giao Ủy ban nhân dân tổ chức thực hiện",
        "THƯ KÝ",
        "CHỦ TỌA",
    ):
        assert expected in text, expected
    assert any("Noto Sans" in name and ext != "n/a" for name, ext in fonts), fonts
    # The rendered page has ink: text was drawn, not just a blank page with hidden text.
    samples = pixmap.samples
    dark = sum(1 for i in range(0, len(samples), pixmap.n) if samples[i] < 128)
    assert dark > 500


async def test_minutes_markdown_matches_and_hides_unpublished_results(session: Session) -> None:
    await _full_session(session)
    hidden = await session.opened(question="Bầu trưởng ban?", kind="secret")
    await session.vote(hidden["id"], "delegate1", 0)
    await session.close(hidden["id"])
    response = await session.api.call("GET", f"{session.council.url}/minutes/markdown", "delegate1")
    assert response.status_code == 200
    text = response.text
    assert text.startswith("# BIÊN BẢN CUỘC HỌP")
    assert "**Thông qua.**" in text
    assert "Bỏ phiếu kín: Bầu trưởng ban? — chưa công bố kết quả." in text
    assert CONCLUSION.splitlines()[0] in text
    assert (
        await session.api.call("GET", f"{session.council.url}/minutes/markdown", "outsider")
    ).status_code == 404


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
