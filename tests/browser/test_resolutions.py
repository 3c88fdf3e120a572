"""Resolutions in a real browser: the secretary marks a document as a resolution, the chair signs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Api, login, needs_chromium, screenshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext

pytestmark = [pytest.mark.browser, needs_chromium]


def test_the_secretary_marks_a_resolution_and_the_chair_signs_it(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any], server: str
) -> None:
    mid, document = council_meeting["id"], council_meeting["document"]
    secretary, chair = new_context().new_page(), new_context().new_page()
    login(secretary, "secretary")
    secretary.goto(f"/#/meetings/{mid}/edit/documents")
    row = secretary.locator(".doc-list li", has_text="Dự toán ngân sách 2027")
    row.get_by_role("button", name="Đánh dấu là nghị quyết").click()
    expect(row.locator(".badge.resolution")).to_have_text("Nghị quyết")
    expect(row.get_by_role("button", name="Bỏ đánh dấu nghị quyết")).to_be_visible()
    # The secretary prepares it; only the chair signs.
    expect(row.get_by_role("button", name="Ký số")).to_have_count(0)

    login(chair, "chair")
    chair.goto(f"/#/meetings/{mid}/edit/documents")
    row = chair.locator(".doc-list li", has_text="Dự toán ngân sách 2027")
    expect(row.locator(".badge.signed")).to_have_count(0)
    row.get_by_role("button", name="Ký số").click()
    dialog = chair.locator("dialog[open]")
    expect(dialog).to_contain_text("Ký số nghị quyết “Dự toán ngân sách 2027”")
    dialog.get_by_label("Chứng thư số", exact=True).select_option("demo")
    dialog.get_by_label("Mật khẩu hoặc mã PIN").fill("demo")
    screenshot(chair, "30-sign-resolution")
    dialog.get_by_role("button", name="Ký số").click()
    expect(chair.locator(".toast", has_text="Đã ký số nghị quyết, lưu thành bản 2")).to_be_visible()
    expect(row.locator(".badge.signed")).to_have_text("Đã ký")
    expect(row.get_by_role("button", name="Ký số")).to_have_count(0)
    expect(chair.locator(".upload-status")).to_have_text("Sẵn sàng: 5 trang", timeout=30_000)
    tiles = chair.locator(".page-grid img")
    expect(tiles).to_have_count(5)
    chair.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=tiles.first.element_handle())
    screenshot(chair, "31-resolution-signed")

    api = Api(server, "secretary")
    signed = api.call("GET", f"/api/meetings/{mid}/documents/{document['id']}")
    assert signed["currentVersion"]["number"] == 2 and signed["currentVersion"]["signed"]
    report = api.call("GET", f"/api/meetings/{mid}/documents/{document['id']}/signatures")
    assert report["valid"] and [s["signer"] for s in report["signatures"]] == ["Trần Văn Đức"]


def test_the_demo_council_has_a_draft_resolution_to_sign(server: str) -> None:
    api = Api(server, "chair")
    demo = next(m for m in api.call("GET", "/api/meetings/") if "Mười hai" in m["title"])
    documents = api.call("GET", f"/api/meetings/{demo['id']}/documents")
    drafts = [d for d in documents if d["resolution"]]
    assert [d["title"] for d in drafts] == ["Tài liệu 4: Kế hoạch đầu tư công trung hạn"]
    assert not drafts[0]["currentVersion"]["signed"]


def test_in_the_room_the_documents_list_says_which_are_confidential_and_which_resolutions(
    new_context: Callable[[], BrowserContext], council_meeting: dict[str, Any], server: str
) -> None:
    mid, document = council_meeting["id"], council_meeting["document"]
    Api(server, "secretary").call(
        "PATCH",
        f"/api/meetings/{mid}/documents/{document['id']}",
        {"classification": "confidential", "resolution": True},
    )
    delegate = new_context().new_page()
    login(delegate, "delegate1")
    delegate.locator(f".meeting-card[data-id='{mid}'] .meeting-open").click()
    row = delegate.locator(".docs-live li", has_text="Dự toán ngân sách 2027").first
    expect(row.locator(".badge.confidential")).to_have_text("Mật")
    expect(row.locator(".badge.resolution")).to_have_text("Nghị quyết")
    screenshot(delegate, "32-room-documents-badges")
