"""The search across meetings in a real browser: reached from the meetings list, filtered, whole words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, needs_chromium, screenshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = {
    "tablet": {"width": 1280, "height": 800},
    "portrait": {"width": 800, "height": 1280},
    "phone": {"width": 390, "height": 844},
}


@pytest.mark.parametrize("size", list(SIZES))
def test_a_delegate_searches_every_meeting_from_the_meetings_list(
    new_context: Callable[..., BrowserContext], council_meeting: dict[str, Any], size: str
) -> None:
    page = new_context(viewport=SIZES[size]).new_page()
    login(page, "delegate1")
    page.get_by_role("link", name="Tìm trong tài liệu").click()
    expect(page.locator(".search-screen")).to_be_visible()
    page.get_by_label("Tìm trong tài liệu các cuộc họp", exact=True).fill("ngân sách")
    page.locator(".search-everywhere").get_by_role("button", name="Tìm").click()
    hits = page.locator(".search-results .hit")
    expect(hits.first).to_be_visible()
    # Hits come from several of the delegate's meetings (the demo's and this test's at least; on a server
    # shared with other tests, the best-ranked hits may all be from other meetings than this test's).
    meetings = {int(m) for m in hits.evaluate_all("els => els.map(e => e.dataset.meeting)")}
    assert len(meetings) >= 2, meetings
    # Whole words are marked, each as written in the document.
    marks = page.locator(".search-results mark").all_inner_texts()
    assert marks and all(m.lower() in ("ngân sách", "ngân", "sách", "ngan sach") for m in marks), marks
    screenshot(page, f"40-search-everywhere-{size}")
    # Only the chosen meeting.
    page.get_by_label("Cuộc họp", exact=True).select_option(str(council_meeting["id"]))
    page.locator(".search-everywhere").get_by_role("button", name="Tìm").click()
    expect(hits.first).to_be_visible()
    page.wait_for_timeout(300)
    meetings = {int(m) for m in hits.evaluate_all("els => els.map(e => e.dataset.meeting)")}
    assert meetings == {council_meeting["id"]}
    # Nothing box reaches past the screen's edge.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot(page, f"41-search-one-meeting-{size}")
    hits.first.click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/meetings/{council_meeting['id']}")
