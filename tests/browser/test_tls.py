"""Chromium over HTTPS with the room's local CA trusted, as a tablet that installed it from /tls/ca.crt.

The trust is given the way a Linux Chromium gets it from its user: the CA certificate, not the server's
key, is added to the NSS database in $HOME/.pki/nssdb (certutil, Debian's libnss3-tools). No
--ignore-certificate-errors of any kind: the same browser without that database refuses the server,
so the login below works because the certificate chains to the CA `meeting tls init` made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from meeting.users.deps import SESSION_COOKIE
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, needs_chromium, screenshot
from tests.support.servers import demo_server_process

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

needs_certutil = pytest.mark.skipif(shutil.which("certutil") is None, reason="libnss3-tools is not installed")
pytestmark = [pytest.mark.browser, needs_chromium, needs_certutil]


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`meeting tls init` and `meeting serve --tls --demo`; its https:// URL and the CA certificate."""
    data_dir = tmp_path_factory.mktemp("tls-browser")
    env = {**os.environ, "MEETING_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "meeting.cli", "tls", "init"], env=env, check=True, timeout=60)
    ca = data_dir / "tls" / "ca.crt"
    with demo_server_process(data_dir, "--tls", ca=ca) as base:
        yield base, ca


def _home_trusting(home: Path, ca: Path | None) -> dict[str, str]:
    """A HOME whose NSS database trusts `ca` for servers (none: an empty database)."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, timeout=30)
    if ca is not None:
        subprocess.run(
            ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "Phong hop CA", "-i", str(ca)],
            check=True,
            timeout=30,
        )
    return {**os.environ, "HOME": str(home)}


def _chromium(env: dict[str, str]) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        yield browser
        browser.close()


def test_chromium_trusting_the_local_ca_logs_in_over_https_with_a_secure_cookie(
    https_server: tuple[str, Path], tmp_path: Path
) -> None:
    base, ca = https_server
    for browser in _chromium(_home_trusting(tmp_path / "untrusting", None)):
        page = browser.new_page()
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(base)

    for browser in _chromium(_home_trusting(tmp_path / "trusting", ca)):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", base_url=base)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto("/")
        page.locator("#login-username").fill("delegate1")
        page.locator("#login-password").fill(DEMO_PASSWORD)
        page.locator("form.login-card button[type=submit]").click()
        page.locator(".meetings-screen").wait_for()
        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["secure"] and cookie["httpOnly"]
        # What needs a secure origin is there: the origin is secure, WebCrypto exists.
        assert page.evaluate("window.isSecureContext && typeof crypto.subtle === 'object'")
        # The room socket goes over WSS from this origin.
        page.locator(".meeting-card").first.click()
        page.locator(".live-screen").wait_for()
        expect(page.locator(".conn[data-state=online]")).to_be_attached()


def test_the_certificate_page_is_reachable_from_the_login_screen(
    https_server: tuple[str, Path], tmp_path: Path
) -> None:
    base, ca = https_server
    for browser in _chromium(_home_trusting(tmp_path / "home", ca)):
        for name, size in (("tablet", (1280, 800)), ("portrait", (800, 1280)), ("phone", (390, 844))):
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, locale="vi-VN", base_url=base
            )
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto("/")
            link = page.get_by_role("link", name="Cài chứng chỉ bảo mật cho máy tính bảng")
            link.wait_for()
            screenshot(page, f"tls-login-{name}-vi")
            link.click()
            expect(page.get_by_role("heading", name="Chứng chỉ bảo mật cho máy tính bảng")).to_be_visible()
            download = page.get_by_role("link", name="Tải chứng chỉ (ca.crt)")
            expect(download).to_have_attribute("href", "/tls/ca.crt")
            expect(page.locator(".tls-fingerprint code")).to_have_text(_fingerprint(ca))
            expect(page.get_by_role("heading", name="Máy tính bảng Android")).to_be_visible()
            expect(page.get_by_role("heading", name="iPad")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size[0], f"{name}: the page runs off the screen ({width} px)"
            screenshot(page, f"tls-{name}-vi")
            if name == "tablet":
                page.locator(".langs button[data-lang=en]").click()
                expect(page.get_by_role("heading", name="Security certificate for tablets")).to_be_visible()
                screenshot(page, f"tls-{name}-en")
                with page.expect_download() as downloaded:
                    page.locator('a[href="/tls/ca.crt"]').click()
                assert Path(downloaded.value.path()).read_bytes() == ca.read_bytes()
            context.close()


def _fingerprint(ca: Path) -> str:
    from meeting.tls import ca_fingerprint

    return ca_fingerprint(ca.read_bytes())
