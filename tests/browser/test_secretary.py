"""The secretary prepares a meeting in a real browser: create it, write the agenda, reorder it by dragging."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from meeting.docs import office
from tests.browser.conftest import Api, login, needs_chromium, screenshot
from tests.support.files import make_docx, numbered_pdf

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from playwright.sync_api import BrowserContext, Locator, Page

pytestmark = [pytest.mark.browser, needs_chromium]


def agenda_titles(page: Page) -> list[str]:
    """Top-level agenda titles in the order shown."""
    return page.locator("ol.agenda-edit > li.agenda-row > .agenda-line .agenda-title").all_inner_texts()


def drag(page: Page, handle: Locator, target: Locator, above: bool = True) -> None:
    """Drag a row by its handle with the mouse (pointer events) onto the upper or lower part of a row."""
    start = handle.bounding_box()
    end = target.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    y = end["y"] + (end["height"] * 0.2 if above else end["height"] * 0.8)
    page.mouse.move(start["x"] + start["width"] / 2, y, steps=12)
    page.mouse.up()


def test_secretary_creates_meeting_adds_three_items_and_reorders_them_by_drag(
    new_context: Callable[[], BrowserContext],
) -> None:
    page = new_context().new_page()
    login(page, "secretary")
    page.locator(".meeting-card").first.wait_for()
    screenshot(page, "01-meetings-secretary")

    page.get_by_role("button", name="+ Tạo cuộc họp").click()
    page.get_by_label("Tên cuộc họp").fill("Phiên họp thường kỳ tháng 12 — Ban Kinh tế")
    page.get_by_label("Địa điểm").fill("Phòng họp số 2")
    screenshot(page, "02-meeting-new")
    page.get_by_role("button", name="Tạo và soạn chương trình").click()

    page.locator(".agenda-editor").wait_for()
    titles = ["Khai mạc", "Báo cáo quyết toán ngân sách", "Biểu quyết nghị quyết"]
    for title in titles:
        page.locator("input[name=itemTitle]").fill(title)
        page.locator("input[name=itemPresenter]").fill("Trưởng ban")
        page.locator("input[name=itemMinutes]").fill("15")
        page.locator("form.agenda-add button[type=submit]").click()
        page.locator("ol.agenda-edit .agenda-title", has_text=title).wait_for()
    assert agenda_titles(page) == titles

    rows = page.locator("ol.agenda-edit > li.agenda-row")
    # Drag the third item to the top, then the (now) third item above the second.
    with page.expect_response(
        lambda r: r.url.endswith("/agenda/order") and r.request.method == "PUT"
    ) as first:
        drag(page, rows.nth(2).locator(".handle").first, rows.nth(0))
    assert first.value.ok
    page.wait_for_function("document.querySelectorAll('ol.agenda-edit > li.agenda-row').length === 3")
    assert agenda_titles(page) == ["Biểu quyết nghị quyết", "Khai mạc", "Báo cáo quyết toán ngân sách"]
    with page.expect_response(
        lambda r: r.url.endswith("/agenda/order") and r.request.method == "PUT"
    ) as second:
        drag(page, rows.nth(2).locator(".handle").first, rows.nth(1))
    assert second.value.ok
    expected = ["Biểu quyết nghị quyết", "Báo cáo quyết toán ngân sách", "Khai mạc"]
    assert agenda_titles(page) == expected
    numbers = page.locator("ol.agenda-edit > li.agenda-row > .agenda-line .num").all_inner_texts()
    assert numbers == ["1.", "2.", "3."]

    # A sub-item under the first item.
    rows.nth(0).get_by_role("button", name="+ Mục con").click()
    rows.nth(0).locator(".inline-form input").first.fill("Lấy ý kiến đại biểu")
    rows.nth(0).locator(".inline-form button[type=submit]").click()
    page.locator(".agenda-children .agenda-title", has_text="Lấy ý kiến đại biểu").wait_for()
    screenshot(page, "03-agenda-editor")

    # The order survived: a fresh load shows it.
    page.reload()
    page.locator("ol.agenda-edit > li.agenda-row").first.wait_for()
    assert agenda_titles(page) == expected
    assert page.locator(".agenda-children .num").inner_text() == "1.1"

    # Participants: invite delegates from the user picker with a role.
    page.get_by_role("tab", name="Thành phần").click()
    picker = page.locator(".user-picker")
    picker.locator("li[data-user=delegate1] button").click()
    page.locator("tr[data-user=delegate1]").wait_for()
    page.locator("select[name=newRole]").select_option("chair")
    picker.locator("li[data-user=chair] button").click()
    page.locator("tr[data-user=chair]").wait_for()
    assert page.locator("tr[data-user=chair] select").input_value() == "chair"
    screenshot(page, "04-participants")

    # Materials: upload a PDF for an item, watch the progress, then see its pages.
    page.get_by_role("tab", name="Tài liệu họp").click()
    page.locator("input[name=file]").set_input_files(
        {
            "name": "Tờ trình quyết toán.pdf",
            "mimeType": "application/pdf",
            "buffer": numbered_pdf(4, "To trinh quyet toan"),
        }
    )
    page.locator("select[name=docItem]").select_option(label="Báo cáo quyết toán ngân sách")
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator(".upload-status")).to_have_text("Sẵn sàng: 4 trang", timeout=30_000)
    expect(page.locator(".doc-list li")).to_have_count(1)
    expect(page.locator(".doc-list li")).to_contain_text("Tờ trình quyết toán")
    expect(page.locator(".doc-list li")).to_contain_text("Báo cáo quyết toán ngân sách")
    tiles = page.locator(".page-grid img")
    expect(tiles).to_have_count(4)
    for index in range(4):
        tiles.nth(index).scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=tiles.nth(index).element_handle()
        )
    screenshot(page, "06-documents")

    # A corrected file becomes version 2 of the same document.
    page.locator(".doc-list input[type=file]").set_input_files(
        {"name": "Tờ trình (sửa).pdf", "mimeType": "application/pdf", "buffer": numbered_pdf(2, "Ban sua")}
    )
    expect(page.locator(".toast", has_text="Đã lưu bản 2")).to_be_visible()
    expect(page.locator(".upload-status")).to_have_text("Sẵn sàng: 2 trang", timeout=30_000)
    expect(page.locator(".page-grid img")).to_have_count(2)
    expect(page.locator(".doc-list li")).to_have_count(1)
    # A file the server refuses is told under the bar; the document keeps its version.
    page.locator(".doc-list input[type=file]").set_input_files(
        {"name": "ghi chú.txt", "mimeType": "text/plain", "buffer": b"not a PDF"}
    )
    expect(page.locator(".upload-progress.failed .upload-status")).to_have_text(
        "Loại tệp không được hỗ trợ (nhận PDF, JPEG, PNG, Word, Excel, PowerPoint, OpenDocument)."
    )
    expect(page.locator(".doc-list li")).to_contain_text("2 trang")

    # Ordinary by default; one tap marks it confidential (its downloads are stamped "Tài liệu mật").
    expect(page.locator(".doc-list .badge.confidential")).to_have_count(0)
    page.get_by_role("button", name="Đánh dấu mật").click()
    expect(page.locator(".doc-list .badge.confidential")).to_have_text("Mật")
    expect(page.get_by_role("button", name="Bỏ đánh dấu mật")).to_be_visible()
    screenshot(page, "06b-documents-confidential")

    # A Word file is offered by the picker and becomes a document of PDF pages (LibreOffice).
    if shutil.which("soffice") is None:  # (tests/docs/test_office.py skips, or fails in CI, for it)
        return
    assert ".docx" in (page.locator("input[name=file]").get_attribute("accept") or "")
    word = make_docx()
    page.locator("input[name=file]").set_input_files(
        {"name": "Báo cáo năm 2026.docx", "mimeType": office.MEDIA_TYPES["docx"], "buffer": word}
    )
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator(".upload-status")).to_have_text("Sẵn sàng: 1 trang", timeout=60_000)
    expect(page.locator(".doc-list li")).to_have_count(2)
    expect(page.locator(".doc-list li").nth(1)).to_contain_text("Báo cáo năm 2026")
    # The secretary keeps the Word file itself: a link under the pages downloads it as it was sent.
    link = page.locator(".doc-original a")
    expect(link).to_have_text("Tải tệp gốc: Báo cáo năm 2026.docx")
    kept = page.request.get(link.get_attribute("href") or "")
    assert kept.status == 200
    assert kept.body() == word
    screenshot(page, "06c-documents-word")


def test_secretary_takes_roll_call_and_sees_quorum(new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    login(page, "secretary")
    page.locator(".meeting-card", has_text="Kỳ họp thứ Mười hai").get_by_role("link", name="Chuẩn bị").click()
    page.get_by_role("tab", name="Điểm danh").click()
    quorum = page.locator(".quorum")
    quorum.wait_for()
    expect(quorum.locator("strong")).to_have_text("Có mặt 0/6 — chưa đủ túc số")
    for username in ("chair", "delegate1", "delegate2", "delegate3"):
        row = page.locator(f".rollcall li[data-user={username}]")
        row.locator("button[data-value=in_room]").click()
        page.locator(f".rollcall li[data-user={username}][data-attendance=in_room]").wait_for()
    page.locator(".rollcall li[data-user=delegate5] button[data-value=absent]").click()
    page.get_by_label("Lý do (nếu có)").fill("Đi công tác")
    page.get_by_role("button", name="Ghi vắng").click()
    page.locator(".rollcall li[data-user=delegate5][data-attendance=absent]").wait_for()
    expect(page.locator(".quorum strong")).to_have_text("Có mặt 4/6 — đủ túc số")
    screenshot(page, "05-roll-call")


def test_secretary_submits_the_minutes_and_the_chair_approves_them(
    new_context: Callable[[], BrowserContext],
    council_meeting: dict[str, Any],
    server: str,
    server_data_dir: Path,
) -> None:
    mid = council_meeting["id"]
    secretary_api = Api(server, "secretary")
    for status in ("live", "ended"):
        secretary_api.call("POST", f"/api/meetings/{mid}/status", {"status": status})
    secretary, chair = new_context().new_page(), new_context().new_page()
    login(secretary, "secretary")
    secretary.goto(f"/#/meetings/{mid}/edit/details")
    head = secretary.locator(".editor-head")
    expect(head.locator(".badge.minutes-draft")).to_have_text("Biên bản: dự thảo")
    head.get_by_role("button", name="Trình biên bản").click()
    expect(head.locator(".badge.minutes-submitted")).to_have_text("Biên bản: đã trình chủ tọa")
    # Only the chair approves.
    expect(head.get_by_role("button", name="Duyệt biên bản")).to_have_count(0)

    login(chair, "chair")
    chair.goto(f"/#/meetings/{mid}/edit/details")
    head = chair.locator(".editor-head")
    head.get_by_role("button", name="Duyệt biên bản").click()
    dialog = chair.locator("dialog[open]")
    expect(dialog).to_contain_text("Hồ sơ cuộc họp sẽ được chốt")
    assert "null" not in dialog.inner_text()
    screenshot(chair, "20-approve-minutes")
    dialog.get_by_role("button", name="Duyệt biên bản").click()
    expect(head.locator(".badge.minutes-approved")).to_have_text("Biên bản: đã duyệt")
    expect(head.get_by_role("button", name="Lưu trữ")).to_be_visible()
    screenshot(chair, "21-minutes-approved")
    # What the chair approved is what everyone downloads from now on.
    state = secretary_api.call("GET", f"/api/meetings/{mid}/minutes")
    assert state["status"] == "approved" and len(state["copies"]) == 1
    # The chair countersigns only after the secretary.
    expect(head.get_by_role("button", name="Ký số")).to_have_count(0)

    # The secretary signs with the certificate the demo server holds ...
    secretary.reload()
    head = secretary.locator(".editor-head")
    head.get_by_role("button", name="Ký số").click()
    dialog = secretary.locator("dialog[open]")
    dialog.get_by_label("Chứng thư số", exact=True).select_option("demo")
    dialog.get_by_label("Mật khẩu hoặc mã PIN").fill("demo")
    screenshot(secretary, "22-sign-minutes")
    dialog.get_by_role("button", name="Ký số").click()
    expect(head.locator(".badge", has_text="Thư ký đã ký")).to_be_visible()
    # ... the chair with their own certificate file, read in the browser.
    chair.reload()
    head = chair.locator(".editor-head")
    head.get_by_role("button", name="Ký số").click()
    dialog = chair.locator("dialog[open]")
    dialog.get_by_label("Tệp chứng thư số").set_input_files(str(server_data_dir / "demo-ca" / "chair.p12"))
    dialog.get_by_label("Mật khẩu hoặc mã PIN").fill("demo")
    dialog.get_by_role("button", name="Ký số").click()
    expect(head.locator(".badge", has_text="Chủ tọa đã ký")).to_be_visible()
    screenshot(chair, "23-minutes-signed")
    report = secretary_api.call("GET", f"/api/meetings/{mid}/minutes/signatures")
    assert report["valid"] and [s["signer"] for s in report["signatures"]] == [
        "Nguyễn Thị Thu Hà",
        "Trần Văn Đức",
    ]

    head.get_by_role("button", name="Lưu trữ").click()
    expect(head.get_by_role("button", name="Lưu trữ")).to_have_count(0)
    expect(chair.locator(".editor-head .badge", has_text="Chủ tọa đã ký")).to_be_visible()
    assert secretary_api.call("GET", f"/api/meetings/{mid}")["status"] == "archived"
    # The records office's package downloads with the session cookie.
    link = head.get_by_role("link", name="Tải hồ sơ lưu trữ")
    package = chair.request.get(link.get_attribute("href") or "")
    assert package.ok and package.body().startswith(b"PK")


def test_the_secretary_is_told_that_invitations_are_not_sent_without_mail(
    new_context: Callable[[], BrowserContext],
) -> None:
    page = new_context().new_page()
    login(page, "secretary")
    page.locator(".meeting-card", has_text="Kỳ họp thứ Mười hai").get_by_role("link", name="Chuẩn bị").click()
    page.get_by_role("tab", name="Thành phần").click()
    off = page.locator(".mail-panel .mail-off")
    expect(off).to_contain_text("giấy mời và thư nhắc không được gửi")
    # The demo accounts' addresses are listed, each "not sent".
    chair = page.locator(".mail-list li", has_text="chair@example.org")
    expect(chair).to_contain_text("Không gửi (chưa cấu hình thư)")
    off.scroll_into_view_if_needed()
    screenshot(page, "04b-mail-off")
