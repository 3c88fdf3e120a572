"""Every screen fits a landscape tablet (1280×800), an upright one (800×1280) and a phone (390×844).

The room is in full session for all of these tests at once: the chair presents page 2 of a document, a
delegate has the floor and a secret poll is open, in a meeting with a council's long name. Each size gets
fresh browsers; what is checked is what a hand and an eye meet: nothing runs off the screen or hides
under something else, touch targets stay 48 px, the meeting's name stays readable, and the state (who
presents, who speaks and for how long, the vote) is on screen. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import itertools
import re
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Api, create_council_meeting, join_room, login, needs_chromium, screenshot

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES: dict[str, dict[str, Any]] = {
    "landscape": {"viewport": {"width": 1280, "height": 800}},
    "portrait": {"viewport": {"width": 800, "height": 1280}, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}
NARROW = ["portrait", "phone"]
TOUCH = 48
EDITOR_TABS = ["details", "agenda", "participants", "attendance", "documents"]
TITLE = "Kỳ họp thứ Bảy, Hội đồng nhân dân xã Tân Lập khóa XXI: phiên chuyên đề dự toán ngân sách 2027"
# How much of a long name the top bar must show (the issue: an upright tablet showed "K…").
TITLE_SHOWN = 30

# Boxes are measured against the device's screen (`width`, `height`), not innerWidth: a phone's browser
# widens its layout viewport to whatever overflows and zooms out, so innerWidth would grow with the fault.

# Facts about one control as the user meets it: its box, whether it is shown, what the finger would hit
# at its centre (another element drawn over it is caught here), and how many of its letters are in
# sight (not clipped by an ellipsis or a clamp to two lines).
CONTROL_JS = """(el, [width, height]) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {
        visible: el.checkVisibility({ visibilityProperty: true, opacityProperty: true }),
        left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
        inside: r.left >= -0.5 && r.top >= -0.5 && r.right <= width + 0.5 && r.bottom <= height + 0.5,
        onTop: Boolean(hit) && (el === hit || el.contains(hit)),
        hit: hit ? hit.outerHTML.slice(0, 120) : null,
        lettersShown: [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).reduce((n, node) => {
            const range = document.createRange();
            for (let i = 0; i < node.length; i++) {
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                const c = range.getBoundingClientRect();
                // A letter's box is its font's whole ascent and descent, which may stand out of a tight
                // line (Noto Sans: 1.36 em against a line of 1.22) though the letter is in sight; a line
                // cut off by the clamp lies wholly below, so the letter's middle decides.
                if (c.width && c.right <= r.right + 0.5 && (c.top + c.bottom) / 2 <= r.bottom) n++;
            }
            return n;
        }, 0),
        scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
        text: el.textContent,
    };
}"""

# Every shown control that is cut off sideways: by the screen's edge, or by an ancestor that clips it
# (a toolbar with overflow hidden cuts a button off without widening the page). Strips that scroll
# sideways by design (the page thumbnails) are left out.
CUT_OFF_JS = """(width) => {
    const out = [];
    const controls = "button, a.button, a.tab, input, select, textarea, .badge, .title";
    for (const el of document.querySelectorAll(controls)) {
        if (!el.checkVisibility({ visibilityProperty: true })) continue;
        const r = el.getBoundingClientRect();
        if (!r.width) continue;
        let clip = { left: 0, right: width };
        for (let a = el.parentElement; a; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (style.overflowX === "auto" || style.overflowX === "scroll") { clip = null; break; }
            if (style.overflowX !== "visible") {
                const b = a.getBoundingClientRect();
                clip = { left: Math.max(clip.left, b.left), right: Math.min(clip.right, b.right) };
            }
        }
        const cut = clip && (r.left < clip.left - 0.5 || r.right > clip.right + 0.5);
        if (cut) out.push(el.outerHTML.slice(0, 100));
    }
    return out;
}"""

# Whether an element's text overflows its own box (an ellipsis, a clamp) or the box of the ancestor that
# holds it (a chip with overflow hidden).
WHOLE_JS = """(el, within) => {
    const r = el.getBoundingClientRect();
    const o = el.closest(within).getBoundingClientRect();
    const outside = r.left < o.left - 0.5 || r.right > o.right + 0.5
        || r.top < o.top - 0.5 || r.bottom > o.bottom + 0.5;
    const overflows = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
    return {
        cut: outside || overflows, text: el.textContent,
        scroll: [el.scrollWidth, el.scrollHeight], client: [el.clientWidth, el.clientHeight],
        box: [r.left, r.top, r.right, r.bottom], within: [o.left, o.top, o.right, o.bottom],
    };
}"""


@pytest.fixture(scope="module")
def session_in_progress(server: str) -> Iterator[dict[str, Any]]:
    """A meeting in full session, named TITLE: live, item 1 active, the chair presenting page 2 of its
    document, delegate2 holding the floor and a secret poll open. The room's state lives while someone
    is in it, so the chair's and the speaker's sockets stay open for the module."""
    meeting = create_council_meeting(server)
    mid, document = meeting["id"], meeting["document"]
    # Five minutes a speech: the speaker's timer counts down.
    Api(server, "secretary").call(
        "PATCH", f"/api/meetings/{mid}", {"title": TITLE, "speakingLimitSeconds": 300}
    )
    for username in ("chair", "delegate1", "delegate2"):
        Api(server, username).call("PUT", f"/api/meetings/{mid}/attendance/me", {"attendance": "in_room"})
    with ExitStack() as stack:
        chair = join_room(stack, server, mid, "chair")
        chair.call({"type": "meeting.status", "status": "live"})
        chair.call({"type": "agenda.item", "itemId": meeting["items"][0]["id"], "status": "active"})
        chair.call(
            {
                "type": "page.turn",
                "documentId": document["id"],
                "versionId": document["currentVersion"]["id"],
                "page": 2,
            }
        )
        speaker = join_room(stack, server, mid, "delegate2")
        speaker.call({"type": "speaker.request"})
        chair.call({"type": "speaker.grant", "userId": meeting["users"]["delegate2"]})
        chair_api = Api(server, "chair")
        poll = chair_api.call(
            "POST",
            f"/api/meetings/{mid}/polls",
            {
                "itemId": meeting["items"][0]["id"],
                "question": "Thông qua dự toán ngân sách năm 2027?",
                "kind": "secret",
            },
        )
        chair_api.call("POST", f"/api/meetings/{mid}/polls/{poll['id']}/open")
        yield meeting


def open_room(new_context: Callable[..., BrowserContext], size: str, username: str, meeting_id: int) -> Page:
    """Log in at `size` and enter the meeting from the list, as that person would."""
    page = new_context(**SIZES[size]).new_page()
    login(page, username)
    page.locator(f".meeting-card[data-id='{meeting_id}'] .meeting-open").click()
    expect(page.locator(".viewer")).to_have_attribute("data-page", "2")
    expect(page.locator(".page-img")).to_be_visible()
    return page


def screen_size(page: Page) -> tuple[int, int]:
    """The device's screen in CSS pixels, as the context was made."""
    size = page.viewport_size
    assert size is not None
    return size["width"], size["height"]


def control(page: Page, selector: str) -> dict[str, Any]:
    """CONTROL_JS's facts about the first element matching `selector`."""
    facts: dict[str, Any] = page.locator(selector).first.evaluate(CONTROL_JS, screen_size(page))
    return facts


def assert_fits(page: Page) -> None:
    """No sideways scrolling of the page, and no shown control cut off at an edge."""
    width, _ = screen_size(page)
    scroll = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert max(scroll) <= width, f"the page is {max(scroll)} px wide on a {width} px screen"
    assert page.evaluate(CUT_OFF_JS, width) == []


def assert_reachable(page: Page, selector: str, *, touch: bool = True) -> dict[str, Any]:
    """The control is shown, wholly on screen, not under another element, and (a touch target) 48 px high."""
    facts = control(page, selector)
    assert facts["visible"], f"{selector} is not shown"
    assert facts["inside"], f"{selector} is not wholly on screen: {facts}"
    assert facts["onTop"], f"{selector} is under another element: {facts['hit']}"
    if touch:
        assert facts["height"] >= TOUCH - 0.5, f"{selector} is {facts['height']} px high"
        assert facts["width"] >= TOUCH - 0.5, f"{selector} is {facts['width']} px wide"
    return facts


def assert_title_readable(page: Page) -> None:
    """The meeting's long name is in the top bar, at least TITLE_SHOWN of its letters in sight (it may
    wrap to two lines and end in an ellipsis), never cut to a few."""
    facts = assert_reachable(page, ".topbar .title", touch=False)
    assert facts["text"] == TITLE
    assert facts["lettersShown"] >= TITLE_SHOWN, f"the title shows {facts['lettersShown']} letters: {facts}"


def assert_whole(page: Page, selector: str, within: str) -> None:
    """The element's text is all in sight: not cut by an ellipsis or a line clamp, not clipped by `within`."""
    facts = page.locator(selector).first.evaluate(WHOLE_JS, within)
    assert facts["cut"] is False, f"{selector} is cut: {facts}"


def assert_state_at_a_glance(page: Page, size: str) -> None:
    """Who has the floor and for how long, whether one follows the presenter, the drawer's button."""
    assert_reachable(page, ".speaker-chip")
    expect(page.locator(".speaker-chip .speaker-name")).to_have_text("Phạm Thị Hồng Nhung")
    assert_whole(page, ".speaker-chip .speaker-name", ".speaker-chip")
    # A countdown (or, past the limit, the overrun counted up: "+0:12").
    expect(page.locator(".speaker-chip .speak-timer")).to_have_text(re.compile(r"^\+?\d+:\d\d$"))
    assert_reachable(page, ".follow-state", touch=False)
    assert_reachable(page, ".live-state", touch=False)
    if size in NARROW:
        assert_reachable(page, ".drawer-toggle")
    else:
        expect(page.locator(".drawer-toggle")).to_be_hidden()


def assert_top_bar_menu(page: Page, size: str) -> None:
    """Language and logout: in the top bar on a landscape tablet, behind its menu button when narrower."""
    menu = page.locator(".menu-toggle")
    if size in NARROW:
        expect(page.locator(".langs")).to_be_hidden()
        assert_reachable(page, ".menu-toggle")
        menu.click()
        screenshot(page, f"layout-{size}-menu")
    else:
        expect(menu).to_be_hidden()
    for selector in (".lang[data-lang=vi]", ".lang[data-lang=en]", ".logout"):
        assert_reachable(page, selector)
    if size in NARROW:
        page.keyboard.press("Escape")
        expect(page.locator(".langs")).to_be_hidden()


@pytest.mark.parametrize("size", list(SIZES))
def test_delegate_reads_follows_votes_and_asks_for_the_floor_at_every_size(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = open_room(new_context, size, "delegate1", session_in_progress["id"])
    vote = page.locator(".vote-panel")
    expect(vote.locator(".vote-option")).to_have_count(3)
    screenshot(page, f"layout-{size}-delegate-vote")
    assert_fits(page)
    assert_title_readable(page)
    assert_state_at_a_glance(page, size)
    assert_reachable(page, ".floor")
    expect(page.locator(".floor")).to_have_text("Đăng ký phát biểu")

    # The three big buttons one under the other, each the panel's width; then the confirmation.
    boxes = [assert_reachable(page, f".vote-option[data-option={o}]") for o in ("yes", "no", "abstain")]
    panel = control(page, ".vote-panel")
    for above, below in itertools.pairwise(boxes):
        assert below["top"] >= above["bottom"], (above, below)
        assert abs(below["left"] - above["left"]) < 1
    assert all(box["width"] >= panel["width"] * 0.8 for box in boxes)
    vote.locator(".vote-option[data-option=yes]").click()
    screenshot(page, f"layout-{size}-delegate-confirm")
    assert_fits(page)
    for button in (".confirm-actions button.secondary", ".confirm-actions button.cast"):
        assert_reachable(page, button)
    vote.get_by_role("button", name="Chọn lại").click()
    expect(vote.locator(".vote-option")).to_have_count(3)


@pytest.mark.parametrize("size", list(SIZES))
def test_chair_presents_and_runs_the_meeting_at_every_size(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = open_room(new_context, size, "chair", session_in_progress["id"])
    expect(page.locator(".follow-state")).to_have_text("Bạn đang trình bày")
    # The chair votes too: the panel is up, and must leave the strip and the toolbar free.
    expect(page.locator(".vote-panel .vote-option")).to_have_count(3)
    screenshot(page, f"layout-{size}-chair")
    assert_fits(page)
    assert_title_readable(page)
    assert_state_at_a_glance(page, size)
    shown = ":is(.chair-strip button, .chair-strip a.button):visible"
    assert page.locator(shown).count() >= 5
    for index in range(page.locator(shown).count()):
        assert_reachable(page, f"{shown} >> nth={index}")
    for selector in (".doc-tools .nav", ".page-label"):
        assert_reachable(page, selector, touch=selector != ".page-label")
    # The rare actions: in the strip, or behind "more" on a phone.
    if size == "phone":
        page.locator(".chair-more-toggle").click()
        screenshot(page, f"layout-{size}-chair-more")
    for selector in (".chair-more a.button", ".chair-more button.danger"):
        assert_reachable(page, selector)
    page.keyboard.press("Escape")

    # The speakers' and the polls' sheets rise over the page, their buttons in reach.
    page.locator(".chair-strip").get_by_role("button", name="Phát biểu").click()
    screenshot(page, f"layout-{size}-chair-speakers")
    assert_fits(page)
    assert_reachable(page, ".speakers-panel .speaking-now button")
    expect(page.locator(".speakers-panel")).not_to_contain_text("null")  # nothing left out shows as text
    # "+1 phút": the speech gets a minute more, on every tablet.
    extend = page.locator(".speakers-panel").get_by_role("button", name="+1 phút")
    assert_reachable(page, ".speakers-panel .speaking-now button.extend")
    timer = page.locator(".speakers-panel .speak-timer")
    expect(timer).to_have_attribute("data-phase", "running")
    minutes, seconds = (timer.text_content() or "").split(":")
    extend.click()
    # Counted down a little meanwhile, but about a minute more than before.
    page.wait_for_function(
        """(before) => {
            const [m, s] = document.querySelector(".speakers-panel .speak-timer").textContent.split(":");
            return Number(m) * 60 + Number(s) >= before + 45;
        }""",
        arg=int(minutes) * 60 + int(seconds),
    )
    expect(timer).to_have_attribute("data-phase", "running")
    page.locator(".speakers-panel").get_by_role("button", name="Đóng").click()
    page.locator(".chair-strip").get_by_role("button", name="Biểu quyết").click()
    page.locator(".polls-panel [data-action=close]").scroll_into_view_if_needed()
    screenshot(page, f"layout-{size}-chair-polls")
    assert_fits(page)
    assert_reachable(page, ".polls-panel [data-action=close]")


@pytest.mark.parametrize("size", list(SIZES))
def test_stacked_sheets_share_the_height_and_the_vote_stays_in_reach_at_every_size(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    # The chair votes, runs the speakers and the polls, and reads the item's sheet: four at once.
    page = open_room(new_context, size, "chair", session_in_progress["id"])
    expect(page.locator(".vote-panel .vote-option")).to_have_count(3)
    strip = page.locator(".chair-strip")
    strip.get_by_role("button", name="Phát biểu").click()
    strip.get_by_role("button", name="Biểu quyết").click()
    if size in NARROW:
        page.locator(".drawer-toggle").click()
    page.locator(".sidebar .item-open").first.click()
    sheets = [".vote-panel", ".speakers-panel", ".polls-panel", ".item-panel"]
    for sheet in sheets:
        expect(page.locator(sheet)).to_be_visible()
    screenshot(page, f"layout-{size}-stacked-sheets")
    assert_fits(page)
    for sheet in sheets:
        facts = control(page, sheet)
        assert facts["inside"], f"{sheet} is pushed off the screen: {facts}"
    for sheet in sheets[1:]:
        assert_reachable(page, f"{sheet} .panel-head button")
    # Each sheet scrolls inside: the vote's three buttons come into sight, and nothing covers them.
    for option in ("yes", "no", "abstain"):
        page.locator(f".vote-option[data-option={option}]").scroll_into_view_if_needed()
        assert_reachable(page, f".vote-option[data-option={option}]")


@pytest.mark.parametrize("size", NARROW)
def test_agenda_and_documents_open_as_a_drawer_that_closes_itself(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = open_room(new_context, size, "delegate1", session_in_progress["id"])
    # The page has the width; the drawer is out of sight.
    sidebar = page.locator(".sidebar")
    expect(sidebar).to_be_hidden()
    stage = control(page, ".stage")
    assert stage["left"] == 0 and stage["width"] == SIZES[size]["viewport"]["width"]
    toggle = page.locator(".drawer-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # Choosing a document closes it.
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(page, f"layout-{size}-drawer")
    assert_fits(page)
    assert_reachable(page, ".sidebar .doc-open")
    assert_reachable(page, ".sidebar .item-open")
    page.locator(".sidebar .doc-open").first.click()
    expect(sidebar).to_be_hidden()
    # Escape closes it.
    toggle.click()
    expect(sidebar).to_be_visible()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    # So does a tap beside it, on the dimmed page (which the tap does not reach).
    toggle.click()
    expect(sidebar).to_be_visible()
    viewport = SIZES[size]["viewport"]
    page.mouse.click(viewport["width"] - 20, viewport["height"] / 2)
    expect(sidebar).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # Choosing an agenda item closes it too, and the item's sheet opens over the page.
    toggle.click()
    page.locator(".sidebar .item-open").first.click()
    expect(sidebar).to_be_hidden()
    expect(page.locator(".item-panel")).to_be_visible()
    assert_fits(page)


@pytest.mark.parametrize("size", NARROW)
def test_toolbar_regroups_and_state_stays_in_sight_while_browsing_or_offline(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = open_room(new_context, size, "delegate1", session_in_progress["id"])
    # Browsing ahead of the presenter: the way back is in reach.
    page.get_by_role("button", name="Trang sau").click()
    expect(page.locator(".viewer")).to_have_attribute("data-page", "3")
    expect(page.locator(".follow-state")).to_have_text("Xem tự do")
    assert_reachable(page, ".follow .back")
    assert_fits(page)

    # The drawing tools: in the toolbar upright; on a phone, behind a button that shows the tool in hand.
    tools = [".ink-tools [data-tool=pen]", ".ink-tools [data-tool=eraser]", ".ink-tools .visibility"]
    if size == "phone":
        expect(page.locator(".ink-tools")).to_be_hidden()
        assert_reachable(page, ".ink-toggle")
        page.locator(".ink-toggle").click()
        screenshot(page, f"layout-{size}-ink-menu")
    for selector in tools:
        assert_reachable(page, selector)
    page.locator(tools[0]).click()
    expect(page.locator(tools[0])).to_have_attribute("aria-pressed", "true")
    if size == "phone":
        expect(page.locator(".ink-tools")).to_be_hidden()
        expect(page.locator(".ink-toggle")).to_have_text("Bút")
        assert_reachable(page, ".ink-toggle")
    screenshot(page, f"layout-{size}-browsing")

    # Off the network: the words say so, below the bar, whole.
    page.context.set_offline(True)
    expect(page.locator(".conn")).not_to_have_attribute("data-state", "online")
    screenshot(page, f"layout-{size}-offline")
    conn = assert_reachable(page, ".conn", touch=False)
    assert conn["scrollWidth"] <= conn["clientWidth"] + 1, conn
    assert_fits(page)
    page.context.set_offline(False)
    expect(page.locator(".conn")).to_have_attribute("data-state", "online", timeout=15_000)
    page.get_by_role("button", name="Quay lại người trình bày").click()
    expect(page.locator(".viewer")).to_have_attribute("data-page", "2")


@pytest.mark.parametrize("size", list(SIZES))
def test_login_and_meeting_list_fit_at_every_size(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = new_context(**SIZES[size]).new_page()
    page.goto("/")
    page.locator(".login-card").wait_for()
    screenshot(page, f"layout-{size}-login")
    assert_fits(page)
    for selector in ("#login-username", "#login-password", ".login-card button[type=submit]"):
        assert_reachable(page, selector)
    login(page, "secretary")
    page.locator(f".meeting-card[data-id='{session_in_progress['id']}']").wait_for()
    screenshot(page, f"layout-{size}-meetings")
    assert_fits(page)
    assert_reachable(page, f".meeting-card[data-id='{session_in_progress['id']}'] .meeting-open")
    assert_reachable(page, f".meeting-card[data-id='{session_in_progress['id']}'] .prepare")
    assert_reachable(page, ".page-head button.primary")
    assert_top_bar_menu(page, size)


@pytest.mark.parametrize("size", list(SIZES))
def test_secretary_editor_tabs_fit_at_every_size(
    new_context: Callable[..., BrowserContext], session_in_progress: dict[str, Any], size: str
) -> None:
    page = new_context(**SIZES[size]).new_page()
    login(page, "secretary")
    mid = session_in_progress["id"]
    for tab in EDITOR_TABS:
        page.goto(f"/#/meetings/{mid}/edit/{tab}")
        expect(page.locator(".tab.active")).to_have_attribute("href", f"#/meetings/{mid}/edit/{tab}")
        page.locator(".editor-body > *").first.wait_for()
        page.wait_for_load_state("networkidle")
        screenshot(page, f"layout-{size}-editor-{tab}")
        if tab == "details":
            # The meeting is live: its details are shown, not editable, and the words say why.
            expect(page.locator(".details-form .read-only")).to_have_text(
                "Cuộc họp đang diễn ra; thông tin cuộc họp chỉ để xem."
            )
        assert_fits(page)
        assert_title_readable(page)
        for name in EDITOR_TABS:
            assert_reachable(page, f".tab[href$='/edit/{name}']")
