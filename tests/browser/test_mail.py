"""The secretary's mail panel against a real server that sends to a real SMTP server (aiosmtpd): the
demo participants' invitations sent, one address refused with the server's reason, at three sizes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, needs_chromium, screenshot
from tests.mail.conftest import Inbox
from tests.support.servers import demo_server_process, free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, needs_chromium]

REFUSED = "delegate5@example.org"
SIZES = {
    "landscape": {"viewport": {"width": 1280, "height": 800}},
    "portrait": {"viewport": {"width": 800, "height": 1280}, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """The SMTP server the demo server sends to; it refuses delegate5's address."""
    box = Inbox(port=free_port(), refuse={REFUSED: "550 5.1.1 <delegate5@example.org>: mailbox unavailable"})
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[str]:
    """`meeting serve --demo` with mail to `inbox`; the demo seeding schedules the meeting, so it invites."""
    mail = {
        "MEETING_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
        "MEETING_MAIL_FROM": "Phòng họp không giấy <no-reply@example.org>",
        "MEETING_PUBLIC_URL": "https://hop.example.org",
        "MEETING_MAIL_POLL_SECONDS": "0.3",
    }
    with demo_server_process(tmp_path_factory.mktemp("mail-server"), env=mail) as base:
        yield base


def open_participants(page: Page) -> None:
    login(page, "secretary")
    page.locator(".meeting-card", has_text="Kỳ họp thứ Mười hai").get_by_role("link", name="Chuẩn bị").click()
    page.get_by_role("tab", name="Thành phần").click()
    page.locator(".mail-panel .mail-list li").first.wait_for()


def wait_for_delivery(page: Page, deadline: float = 15.0) -> None:
    """Refresh the panel until the sender has been through every message (the server sends on its own)."""
    end = time.monotonic() + deadline
    while page.locator(".mail-list li[data-state=queued], .mail-list li[data-state=sending]").count():
        assert time.monotonic() < end, "the server did not send the invitations"
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Làm mới").click()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_secretary_sees_each_participants_invitation_and_the_refused_one(
    new_context: Callable[..., BrowserContext], inbox: Inbox, size: str
) -> None:
    page = new_context(**SIZES[size]).new_page()
    open_participants(page)
    wait_for_delivery(page)
    panel = page.locator(".mail-panel")
    expect(panel.locator("h3")).to_have_text("Giấy mời qua thư điện tử")
    expect(panel.locator(".mail-off")).to_have_count(0)
    sent = panel.locator("li[data-state=sent]")
    expect(sent.first).to_contain_text("Giấy mời")
    expect(sent.first).to_contain_text("Đã gửi lúc")
    refused = panel.locator("li[data-state=failed]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(REFUSED)
    expect(refused).to_contain_text("Gửi thất bại: 550")
    expect(refused).to_contain_text("mailbox unavailable")
    # Every demo account has an address: nobody shows "no address".
    expect(panel.locator("li[data-state=none]")).to_have_count(0)
    # Nothing runs off the screen's edge.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    refused.scroll_into_view_if_needed()
    screenshot(page, f"mail-{size}")
    if size == "landscape":  # the language buttons are in the top bar here (in a menu when narrow)
        page.locator("button.lang[data-lang=en]").click()
        expect(panel.locator("h3")).to_have_text("Invitations by e-mail")
        expect(refused).to_contain_text("Failed: 550")
    refused_mail = [rcpts for _, rcpts in inbox.envelopes if REFUSED in rcpts]
    assert refused_mail == []
