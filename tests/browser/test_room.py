"""A live meeting in three real browsers: the chair presents; delegates follow, annotate, speak and vote."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, needs_chromium, screenshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext, Page, WebSocketRoute

pytestmark = [pytest.mark.browser, needs_chromium]


def enter(page: Page, meeting_id: int) -> None:
    """Open the meeting room from the meetings list and check in as present."""
    page.locator(f".meeting-card[data-id='{meeting_id}'] .meeting-open").click()
    page.locator(".live-screen").wait_for()
    page.locator(".checkin").get_by_role("button", name="Có mặt").click()
    expect(page.locator(".checkin")).to_have_count(0)


def test_chair_presents_delegates_follow_annotate_take_the_floor_and_vote(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any]
) -> None:
    mid = council_meeting["id"]
    chair, d1, d2 = (new_context().new_page() for _ in range(3))
    for page, username in ((chair, "chair"), (d1, "delegate1"), (d2, "delegate2")):
        login(page, username)
        enter(page, mid)
    expect(chair.locator(".side-room .quorum strong")).to_have_text("Có mặt 3/3 — đủ túc số")
    screenshot(d1, "10-live-delegate-waiting")

    # The chair starts the meeting and opens the first item; every tablet highlights it.
    chair.get_by_role("button", name="Bắt đầu họp").click()
    first_item = council_meeting["items"][0]["id"]
    chair.locator(f".agenda-live li[data-id='{first_item}'] .activate").click()
    for page in (d1, d2):
        expect(page.locator(f".agenda-live li[data-id='{first_item}']")).to_have_attribute(
            "data-status", "active"
        )
        expect(page.locator(".live-state")).to_have_text("Trực tiếp")

    # The chair presents the document and turns to page 3; both delegates follow.
    chair.locator(".docs-live .doc-open", has_text="Dự toán ngân sách 2027").click()
    chair.get_by_role("button", name="Trình bày tài liệu này").click()
    expect(chair.locator(".follow-state")).to_have_text("Bạn đang trình bày")
    chair.get_by_role("button", name="Trang sau").click()
    expect(chair.locator(".viewer")).to_have_attribute("data-page", "2")
    chair.keyboard.press("ArrowRight")
    expect(chair.locator(".viewer")).to_have_attribute("data-page", "3")
    for page in (d1, d2):
        expect(page.locator(".viewer")).to_have_attribute("data-page", "3")
        expect(page.locator(".page-label")).to_have_text("3 / 5")
        expect(page.locator(".follow-state")).to_have_text("Đang theo người trình bày")
    # The sharp page image (not only the thumbnail) is what delegates end up seeing.
    expect(d1.locator(".page-img")).to_have_attribute(
        "src", f"{council_meeting['document']['currentVersion']['pagesUrl']}/3?width=1280"
    )
    screenshot(chair, "11-live-chair-presenting")

    # The presenter's laser pointer appears on the delegates' pages, at the same place on the page.
    chair.get_by_role("button", name="Con trỏ").click()
    chair_page = chair.locator(".page-wrap").bounding_box()
    assert chair_page is not None
    chair.mouse.move(chair_page["x"] + chair_page["width"] * 0.5, chair_page["y"] + 250)
    chair.mouse.move(chair_page["x"] + chair_page["width"] * 0.52, chair_page["y"] + 260, steps=3)
    expect(d2.locator(".laser")).to_be_visible()
    left = d2.locator(".laser").evaluate("el => parseFloat(el.style.left)")
    assert 45 < left < 57
    chair.get_by_role("button", name="Con trỏ").click()
    expect(d2.locator(".laser")).to_be_hidden()

    # delegate1 draws a shared stroke: delegate2 sees it.
    d1.get_by_role("button", name="Riêng tư").click()  # private by default; switch to shared
    expect(d1.locator(".visibility")).to_have_attribute("data-visibility", "shared")
    d1.get_by_role("button", name="Bút").click()
    box = d1.locator(".page-wrap").bounding_box()
    assert box is not None
    d1.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 300)
    d1.mouse.down()
    for step in range(1, 13):
        d1.mouse.move(box["x"] + box["width"] * (0.3 + step * 0.03), box["y"] + 300 + step * 6)
    d1.mouse.up()
    expect(d2.locator(".ink-layer polyline.ink.shared")).to_have_count(1)
    expect(d1.locator(".ink-layer polyline.ink.shared")).to_have_count(1)

    # The overlay stays on the same words at every zoom: the stroke's place as a fraction of the page holds.
    def stroke_place() -> list[float]:
        return d2.evaluate(
            """() => {
                const page = document.querySelector('.page-wrap').getBoundingClientRect();
                const line = document.querySelector('.ink-layer polyline.shared').getBoundingClientRect();
                return [(line.left - page.left) / page.width, (line.top - page.top) / page.height,
                        line.width / page.width, line.height / page.height];
            }"""
        )

    before = stroke_place()
    d2.get_by_role("button", name="Phóng to").click()
    d2.get_by_role("button", name="Phóng to").click()
    expect(d2.locator(".viewer")).to_have_attribute("data-zoom", "1.5")
    after = stroke_place()
    assert all(abs(a - b) < 0.01 for a, b in zip(before, after, strict=True)), (before, after)
    d2.get_by_role("button", name="Thu nhỏ").click()
    d2.get_by_role("button", name="Thu nhỏ").click()

    # delegate1's private note is seen by delegate1 only, now and after delegate2 reloads.
    d1.get_by_role("button", name="Chung").click()  # back to private
    expect(d1.locator(".visibility")).to_have_attribute("data-visibility", "private")
    d1.get_by_role("button", name="Ghi chú").click()
    d1.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + 200)
    d1.get_by_label("Nội dung ghi chú").fill("Hỏi lại khoản chi đầu tư trường học")
    d1.get_by_role("button", name="Thêm ghi chú").click()
    expect(d1.locator(".note.private")).to_have_text("•Hỏi lại khoản chi đầu tư trường học")
    d1.get_by_role("button", name="Ghi chú").click()  # tool off
    screenshot(d1, "12-live-delegate-annotations")
    d2.wait_for_timeout(500)
    expect(d2.locator(".note")).to_have_count(0)
    d2.reload()
    expect(d2.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(d2.locator(".ink-layer polyline.ink.shared")).to_have_count(1)
    expect(d2.locator(".note")).to_have_count(0)

    # delegate1 browses on their own (the room does not move), then returns to the presenter.
    d1.keyboard.press("ArrowRight")
    expect(d1.locator(".viewer")).to_have_attribute("data-page", "4")
    expect(d1.locator(".follow-state")).to_have_text("Xem tự do")
    d1.get_by_role("button", name="Tìm").click()
    d1.locator("input[name=q]").fill("TRANG 5")
    d1.locator(".search-form").get_by_role("button", name="Tìm").click()
    d1.locator(".search-results .hit", has_text="Trang 5").first.click()
    expect(d1.locator(".viewer")).to_have_attribute("data-page", "5")
    screenshot(d1, "13-live-delegate-browsing-search")
    d1.locator(".search-panel").get_by_role("button", name="Đóng").click()
    expect(d2.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(chair.locator(".viewer")).to_have_attribute("data-page", "3")
    d1.get_by_role("button", name="Quay lại người trình bày").click()
    expect(d1.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(d1.locator(".follow-state")).to_have_text("Đang theo người trình bày")

    # delegate2 requests the floor; the chair grants it; everyone sees who speaks.
    d2.get_by_role("button", name="Đăng ký phát biểu").click()
    expect(d2.locator(".floor")).to_contain_text("Rút đăng ký")
    expect(chair.locator(".speaker-chip .queue-count")).to_have_text("1 chờ")
    chair.locator(".chair-strip").get_by_role("button", name="Phát biểu").click()
    screenshot(chair, "13-live-chair-speakers-queue")
    chair.locator(".speakers-panel").get_by_role("button", name="Cho phát biểu").click()
    for page in (chair, d1, d2):
        expect(page.locator(".speaker-chip .speaker-name")).to_have_text("Phạm Thị Hồng Nhung")
    expect(d2.locator(".floor")).to_contain_text("Kết thúc phát biểu")
    chair.locator(".speakers-panel").get_by_role("button", name="Đóng").click()

    # The chair opens a secret poll; both delegates vote; the chair closes and publishes.
    chair.locator(".chair-strip").get_by_role("button", name="Biểu quyết").click()
    panel = chair.locator(".polls-panel")
    panel.locator("select[name=pollKind]").select_option("secret")
    panel.get_by_role("button", name="Tạo biểu quyết").click()
    panel.get_by_role("button", name="Mở biểu quyết").click()
    for page, option in ((d1, "yes"), (d2, "no")):
        vote = page.locator(".vote-panel")
        expect(vote.locator(".kind-mark")).to_have_text("Bỏ phiếu kín")
        expect(vote.locator(".question")).to_have_text("Thông qua: Dự toán ngân sách năm 2027?")
        if page is d1:
            screenshot(d1, "14-vote-panel")
        vote.locator(f"button.vote-option[data-option={option}]").click()
        vote.get_by_role("button", name="Gửi phiếu").click()
        expect(vote.locator(".voted-mark")).to_have_text("Đã bỏ phiếu")
        expect(vote.locator(".receipt-code")).to_have_text(re.compile(r"\S{6,}"))
    expect(d1.locator(".vote-panel .progress-text")).to_have_text("2 / 3 đã bỏ phiếu")
    screenshot(d1, "15-vote-receipt")
    panel.get_by_role("button", name="Kết thúc biểu quyết").click()
    panel.get_by_role("button", name="Công bố kết quả").click()
    results = []
    for page in (d1, d2):
        result = page.locator(".vote-panel .result")
        expect(result.locator(".verdict")).to_have_text("Không thông qua")
        results.append(result.inner_text())
    assert results[0] == results[1]
    assert "Đồng ý\n1" in results[0].replace("\t", "\n") or "Đồng ý" in results[0]
    # With the receipt, a voter confirms their secret ballot was counted (never which choice it holds).
    d1.locator(".vote-panel").get_by_role("button", name="Kiểm tra phiếu của tôi").click()
    expect(d1.locator(".receipt-verdict")).to_have_text("Phiếu của bạn đã được kiểm.")
    screenshot(d2, "16-vote-result")
    screenshot(chair, "17-chair-polls")


def test_secretary_writes_a_conclusion_delegates_read_it_and_minutes_download(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any]
) -> None:
    mid = council_meeting["id"]
    item = council_meeting["items"][0]
    secretary, delegate = new_context().new_page(), new_context().new_page()
    login(secretary, "secretary")
    secretary.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    secretary.locator(f".agenda-live li[data-id='{item['id']}'] .item-open").click()
    sheet = secretary.locator(".item-panel")
    conclusion = "Hội đồng thống nhất dự toán; giao Phòng Tài chính hoàn thiện."
    sheet.locator("textarea[name=conclusion]").fill(conclusion)
    sheet.get_by_role("button", name="Lưu kết luận").click()
    expect(secretary.locator(".toast", has_text="Đã lưu")).to_be_visible()
    screenshot(secretary, "18-secretary-conclusion")

    login(delegate, "delegate1")
    delegate.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    delegate.locator(f".agenda-live li[data-id='{item['id']}'] .item-open").click()
    expect(delegate.locator(".item-panel .conclusion")).to_have_text(conclusion)
    expect(delegate.locator(".item-panel textarea")).to_have_count(0)

    # The minutes link downloads a PDF with the session cookie alone (no token in the URL).
    link = secretary.locator(".chair-strip a", has_text="Xuất biên bản")
    href = link.get_attribute("href")
    assert href == f"/api/meetings/{mid}/minutes/pdf"
    response = secretary.request.get(href)
    assert response.ok
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")


def test_secretary_starts_the_meeting_moves_through_the_agenda_and_ends_it(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any]
) -> None:
    # The server lets the meeting's secretary run its course (meeting and item status); so does the strip.
    mid = council_meeting["id"]
    first, second = (item["id"] for item in council_meeting["items"])
    secretary, delegate = new_context().new_page(), new_context().new_page()
    login(secretary, "secretary")
    secretary.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    login(delegate, "delegate1")
    enter(delegate, mid)
    strip = secretary.locator(".chair-strip")
    expect(secretary.locator(".stage-card")).to_contain_text("Bấm “Bắt đầu họp” khi sẵn sàng.")
    strip.get_by_role("button", name="Bắt đầu họp").click()
    expect(delegate.locator(".live-state")).to_have_text("Trực tiếp")

    strip.get_by_role("button", name=re.compile("Chuyển mục")).click()
    expect(delegate.locator(f".agenda-live li[data-id='{first}']")).to_have_attribute("data-status", "active")
    # Or straight from the agenda, as the chair does.
    secretary.locator(f".agenda-live li[data-id='{second}'] .activate").click()
    expect(delegate.locator(f".agenda-live li[data-id='{second}']")).to_have_attribute(
        "data-status", "active"
    )
    expect(delegate.locator(f".agenda-live li[data-id='{first}']")).to_have_attribute("data-status", "done")
    screenshot(secretary, "20-secretary-runs-the-meeting")
    strip.get_by_role("button", name="Kết thúc nội dung").click()
    expect(delegate.locator(f".agenda-live li[data-id='{second}']")).to_have_attribute("data-status", "done")
    # Presenting stays the chair's (the server's rule too).
    expect(strip.get_by_role("button", name="Trình bày tài liệu này")).to_have_count(0)

    strip.get_by_role("button", name="Kết thúc họp").click()
    secretary.locator("dialog.dialog").get_by_role("button", name="Kết thúc họp").click()
    expect(delegate.locator(".stage-card")).to_contain_text("Đã kết thúc")


def test_dropped_connection_shows_reconnecting_then_catches_up_on_missed_page_turns(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any]
) -> None:
    mid = council_meeting["id"]
    chair, delegate = new_context().new_page(), new_context().new_page()
    # The delegate's socket goes through a switch the test can open and close, like flaky Wi-Fi.
    sockets: list[WebSocketRoute] = []
    wifi = {"up": True}

    def route(ws: WebSocketRoute) -> None:
        if not wifi["up"]:
            ws.close(code=4000, reason="no network")
            return
        ws.connect_to_server()
        sockets.append(ws)

    delegate.route_web_socket(re.compile(r".*/socket$"), route)
    for page, username in ((chair, "chair"), (delegate, "delegate1")):
        login(page, username)
        enter(page, mid)
    chair.get_by_role("button", name="Bắt đầu họp").click()
    chair.locator(".docs-live .doc-open").first.click()
    chair.get_by_role("button", name="Trình bày tài liệu này").click()
    expect(delegate.locator(".viewer")).to_have_attribute("data-page", "1")

    wifi["up"] = False
    sockets[-1].close(code=4000, reason="no network")
    expect(delegate.locator(".conn")).to_have_text("Mất kết nối — đang kết nối lại…")
    screenshot(delegate, "19-reconnecting")
    chair.get_by_role("button", name="Trang sau").click()
    chair.get_by_role("button", name="Trang sau").click()
    expect(chair.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(delegate.locator(".viewer")).to_have_attribute("data-page", "1")

    wifi["up"] = True
    expect(delegate.locator(".conn")).to_have_text("Đã kết nối", timeout=15_000)
    expect(delegate.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(delegate.locator(".follow-state")).to_have_text("Đang theo người trình bày")
