"""Login and language in a real browser: errors in plain Vietnamese, and the English switch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, needs_chromium, screenshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext

pytestmark = [pytest.mark.browser, needs_chromium]


def test_wrong_password_is_explained_in_vietnamese_then_in_english(
    new_context: Callable[[], BrowserContext],
) -> None:
    page = new_context().new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_label("Tên đăng nhập").fill("delegate3")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    error = page.get_by_role("alert")
    error.wait_for()
    expect(error).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    screenshot(page, "00-login-error-vi")

    page.locator(".langs button[data-lang=en]").click()
    expect(error).to_have_text("Wrong username or password.")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()

    page.get_by_label("Password").fill("")
    page.get_by_role("button", name="Log in").click()
    expect(error).to_have_text("Enter your username and password.")
    page.locator(".langs button[data-lang=vi]").click()
    expect(error).to_have_text("Hãy nhập tên đăng nhập và mật khẩu.")


def test_language_switch_translates_the_screen_and_is_remembered(
    new_context: Callable[[], BrowserContext],
) -> None:
    page = new_context().new_page()
    login(page, "delegate1")
    expect(page.locator(".topbar-title")).to_have_text("Cuộc họp của tôi")
    expect(page.locator(".meeting-group.group-upcoming h3")).to_contain_text("Sắp tới", ignore_case=True)
    expect(page.locator(".conn")).to_have_text("Đã kết nối")

    page.locator(".langs button[data-lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".topbar-title")).to_have_text("My meetings")
    expect(page.locator(".conn")).to_have_text("Connected")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".meeting-card").first).to_contain_text("Delegate")
    # Dates follow the language too (weekday names in English).
    expect(page.locator(".meeting-when").first).to_contain_text("day")
    screenshot(page, "01-meetings-delegate-en")

    page.reload()
    page.locator(".meeting-card").first.wait_for()
    expect(page.locator(".topbar-title")).to_have_text("My meetings")
    page.locator(".langs button[data-lang=vi]").click()
    expect(page.locator(".topbar-title")).to_have_text("Cuộc họp của tôi")
