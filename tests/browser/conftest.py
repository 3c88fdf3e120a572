"""Real-browser fixtures: a real server process with demo data, and Debian's Chromium through Playwright.

The server runs as a subprocess (SQLite in a temporary data directory), exactly as `make serve` runs it;
the browser is the system's /usr/bin/chromium: Playwright never downloads one here.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from websockets.sync.client import connect

from tests.support.files import numbered_pdf
from tests.support.servers import demo_server_process

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Browser, BrowserContext, Page
    from websockets.sync.client import ClientConnection

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TABLET = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DEMO_PASSWORD = "demo"
TIMEOUT = 10.0

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browser server's data directory (its demo signing certificates are under demo-ca/)."""
    return tmp_path_factory.mktemp("browser-server")


@pytest.fixture(scope="session")
def server(server_data_dir: Path) -> Iterator[str]:
    """Base URL of a real server (migrated, demo council seeded) on a free loopback port."""
    with demo_server_process(server_data_dir) as base:
        yield base


# Module scope: sync Playwright keeps an event loop running while it is started, which would clash with
# pytest-asyncio's loop in the async tests that run after the browser modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by sync Playwright (these tests are plain functions, no event loop)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    # Collect Playwright's greenlets now: collected later, inside an async test, a suspended one is
    # resumed to be killed and runs its loop code in the middle of that test's event loop.
    gc.collect()


@pytest.fixture
def new_context(browser: Browser, server: str) -> Iterator[Callable[..., BrowserContext]]:
    """Factory of fresh browser contexts (one per user), at landscape tablet size unless `options`
    (Playwright's context options: viewport, has_touch …) say otherwise; all closed after the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []
    blocked: list[str] = []  # what the Content-Security-Policy refused: the client must need none of it

    def watch(page: Page) -> None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
        )

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(
            **{"viewport": TABLET, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh", **options},
            base_url=server,
        )
        context.set_default_timeout(10_000)
        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("form.login-card button[type=submit]").click()
    page.locator(".meetings-screen, .live-screen, .editor-screen").first.wait_for()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of the current screen, at the context's size, to tests/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(250)  # let toasts and transitions settle for a fair picture
    page.screenshot(path=str(path))
    return path


# One login per demo user and server for the whole run: each costs the server an argon2 verification,
# and a user's logins (these and the browser's, through the form) are limited to 10 a minute.
_TOKENS: dict[tuple[str, str, str], str] = {}


class Api:
    """A tiny JSON client for preparing data over HTTP (what the browser then shows is what is tested)."""

    def __init__(self, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
        self.base = base
        key = (base, username, password)
        if key not in _TOKENS:
            login = {"username": username, "password": password}
            _TOKENS[key] = self.call("POST", "/api/auth/login", login)["access_token"]
        self.token = _TOKENS[key]

    def call(self, method: str, path: str, body: object = None) -> Any:
        """Send JSON, return parsed JSON (None for 204); raise on any error status."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as res:
            raw = res.read()
        return json.loads(raw) if raw else None

    def upload(self, path: str, file_name: str, content: bytes, fields: dict[str, str]) -> Any:
        """POST a multipart form with one PDF file."""
        boundary = "----meeting" + uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        ]
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Accept": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as res:
            return json.loads(res.read())


class Peer:
    """Someone else's tablet, scripted over the room socket: send and wait for the ack, read events."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []
        self.refs = 0

    def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message (TimeoutError when none comes in time)."""
        message: dict[str, Any] = json.loads(self.connection.recv(timeout=timeout))
        self.seen.append(message)
        return message

    def call(self, message: dict[str, Any]) -> Any:
        """Send a message and return its ack's result; an `error` answer fails the test."""
        self.refs += 1
        ref = f"t{self.refs}"
        self.connection.send(json.dumps({**message, "ref": ref}))
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self.recv(max(0.01, deadline - time.monotonic()))
            if answer.get("ref") == ref:
                assert answer["type"] == "ack", answer
                return answer["result"]

    def drain(self, seconds: float = 0.5) -> None:
        """Read whatever arrives within `seconds` into `seen`."""
        try:
            while True:
                self.recv(seconds)
        except TimeoutError:
            return


def join_room(stack: ExitStack, server: str, meeting_id: int, username: str) -> Peer:
    """An authenticated room socket for a demo user, closed with `stack`."""
    url = server.replace("http://", "ws://") + f"/api/meetings/{meeting_id}/socket"
    # A peer left unread for a while (a module's whole session) has a full queue and cannot see the
    # server's close frame behind it: wait one second for it, not websockets' default ten.
    connection = stack.enter_context(connect(url, open_timeout=TIMEOUT, close_timeout=1, max_size=None))
    joined = Peer(connection)
    connection.send(json.dumps({"type": "auth", "token": Api(server, username).token}))
    assert joined.recv()["type"] == "room.snapshot"
    return joined


@pytest.fixture
def peer(server: str) -> Iterator[Callable[[int, str], Peer]]:
    """Factory of authenticated room sockets for demo users; all closed after the test."""
    with ExitStack() as stack:
        yield lambda meeting_id, username: join_room(stack, server, meeting_id, username)


def create_council_meeting(server: str) -> dict[str, Any]:
    """A scheduled meeting of its own (chair, delegate1, delegate2) with a five-page document on item 1;
    `users` maps usernames to ids."""
    secretary = Api(server, "secretary")
    users = {u["username"]: u["id"] for u in secretary.call("GET", "/api/users/")}
    now = dt.datetime.now(dt.UTC)
    meeting = secretary.call(
        "POST",
        "/api/meetings/",
        {
            "title": "Phiên họp chuyên đề ngân sách",
            "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(hours=3)).isoformat(),
            "location": "Hội trường tầng 3",
        },
    )
    mid = meeting["id"]
    items = [
        secretary.call(
            "POST", f"/api/meetings/{mid}/agenda/", {"title": title, "presenter": "Phòng Tài chính"}
        )
        for title in ("Dự toán ngân sách năm 2027", "Kế hoạch đầu tư công")
    ]
    for username, role in (("chair", "chair"), ("delegate1", "delegate"), ("delegate2", "delegate")):
        # Councils' chairs vote too.
        secretary.call(
            "POST",
            f"/api/meetings/{mid}/participants",
            {"userId": users[username], "role": role, "voting": True},
        )
    secretary.call("POST", f"/api/meetings/{mid}/status", {"status": "scheduled"})
    document = secretary.upload(
        f"/api/meetings/{mid}/documents",
        "du-toan-2027.pdf",
        numbered_pdf(5, "Du toan ngan sach 2027"),
        {"agendaItemId": str(items[0]["id"]), "title": "Dự toán ngân sách 2027"},
    )
    return {"id": mid, "items": items, "document": document, "users": users}


@pytest.fixture
def council_meeting(server: str) -> dict[str, Any]:
    """A scheduled meeting for this test alone (see `create_council_meeting`)."""
    return create_council_meeting(server)
