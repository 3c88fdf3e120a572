"""Who may do what: every route of the app × every role, in one table.

Outsiders get 404 for anything inside a meeting (ids do not leak), the anonymous get 401, participants
without the right get 403; a refused request changes no stored row. The room socket is in the table too,
with its close codes (4401, 4403, 4404). `test_every_route_of_the_app_has_a_rule` fails when a route is
added without its row, or a row outlives its route.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from litestar.routes import HTTPRoute, WebSocketRoute
from sqlalchemy import delete, select, update

from meeting.agenda.models import Meeting
from meeting.app import create_app
from meeting.docs.demo_ca import DEMO_SIGNING_PASSWORD
from meeting.models import metadata
from meeting.settings import Settings
from meeting.voting.models import MinutesCopy
from tests.support.api import PASSWORD, upload
from tests.support.files import make_pdf
from tests.support.signing import with_demo_signing
from tests.support.sockets import first_answer

if TYPE_CHECKING:
    from pathlib import Path

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.support.api import Council

Roles = frozenset[str | None]  # usernames of the council; None is the anonymous caller
ROLES = ["admin", "secretary", "chair", "delegate1", "guest", "outsider", None]
LOGGED_IN: Roles = frozenset({"admin", "secretary", "chair", "delegate1", "guest", "outsider"})
PARTICIPANTS: Roles = frozenset({"admin", "secretary", "chair", "delegate1", "guest"})
MANAGERS: Roles = frozenset({"admin", "secretary", "chair"})
CHAIRS: Roles = frozenset({"admin", "chair"})
ADMINS: Roles = frozenset({"admin"})
# Global roles: accounts and meetings are made by administrators and secretaries, not by chairs.
ACCOUNT_MANAGERS: Roles = frozenset({"admin", "secretary"})
VOTERS: Roles = frozenset({"delegate1"})  # eligible: a delegate checked in when the poll opened
WEBSOCKET = "WEBSOCKET"  # the method of the room socket's row
# Close codes of the room socket for the HTTP statuses of the table (docs/protocol.md).
CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404}
_fresh = itertools.count()


@dataclass(frozen=True)
class Call:
    """A request ready to send: the URL and httpx's keyword arguments (json, files, params)."""

    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)


Target = Callable[["Council"], Awaitable[Call]]


# ------------------------------------------------------------------------------------------ arranging


async def _status(council: Council, status: str) -> None:
    """Move the meeting forward to `status` (draft → scheduled → live → ended) unless it is there already."""
    steps = ["draft", "scheduled", "live", "ended"]
    current = (await council.api.ok("GET", council.url, "secretary"))["status"]
    for step in steps[steps.index(current) + 1 : steps.index(status) + 1]:
        await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": step})


async def _item(council: Council) -> int:
    item = await council.api.ok(
        "POST", f"{council.url}/agenda", "secretary", json={"title": f"Mục {next(_fresh)}"}
    )
    return int(item["id"])


async def _invitee(council: Council) -> int:
    name = f"invitee{next(_fresh)}"
    user_id = await council.api.user(name)
    created = await council.api.ok(
        "POST", f"{council.url}/participants", "secretary", json={"userId": user_id, "role": "delegate"}
    )
    return int(created["id"])


def _pdf_files() -> dict[str, Any]:
    return {"files": [("file", ("Tờ trình.pdf", make_pdf(pages=1), "application/pdf"))]}


async def _new_document(council: Council) -> dict[str, Any]:
    response = await upload(council, make_pdf(pages=1))
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


async def _document(council: Council) -> dict[str, Any]:
    """The meeting's first document (uploaded on first use): for rules that only read it."""
    listed = await council.api.ok("GET", f"{council.url}/documents", "secretary")
    return dict(listed[0]) if listed else await _new_document(council)


async def _version(council: Council, below: str = "") -> str:
    document = await _document(council)
    return f"{council.url}/documents/{document['id']}/versions/{document['currentVersion']['id']}{below}"


async def _poll(council: Council, state: str, kind: str = "named") -> str:
    """A new poll in `state` (draft, open, closed, published), delegate1 voting in it; returns its URL.

    The meeting goes live with delegate1 checked in; a poll left open by an earlier role is closed first,
    as only one poll may be open at a time.
    """
    api, polls = council.api, f"{council.url}/polls"
    await _status(council, "live")
    await api.ok("PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "in_room"})
    for poll in await api.ok("GET", polls, "secretary"):
        if poll["state"] == "open":
            await api.ok("POST", f"{polls}/{poll['id']}/close", "chair")
    body = {"itemId": await _item(council), "question": "Thông qua?", "kind": kind}
    url = f"{polls}/{(await api.ok('POST', polls, 'secretary', json=body))['id']}"
    if state == "draft":
        return url
    await api.ok("POST", f"{url}/open", "chair")
    if state == "open":
        return url
    await api.ok("POST", f"{url}/ballots", "delegate1", json={"choice": [0]})
    await api.ok("POST", f"{url}/close", "chair")
    if state == "published":
        await api.ok("POST", f"{url}/publish", "chair")
    return url


async def _sign_minutes(council: Council) -> Call:
    """Approved minutes (once), then a signature with the demo certificate: the secretary's, then the
    chair's countersignature, are the two successes."""
    meeting = await council.api.ok("GET", council.url, "secretary")
    if meeting["minutesStatus"] != "approved":
        await _minutes_at("submitted", "approve")(council)
        await council.api.ok("POST", f"{council.url}/minutes/approve", "chair")
    return Call(
        f"{council.url}/minutes/sign", {"json": {"source": "demo", "password": DEMO_SIGNING_PASSWORD}}
    )


async def _archive(council: Council) -> Call:
    """An archived meeting (minutes approved first), and its package."""
    meeting = await council.api.ok("GET", council.url, "secretary")
    if meeting["status"] != "archived":
        await _sign_minutes(council)  # approves them
        await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": "archived"})
    return Call(f"{council.url}/archive", {})


def _minutes_at(status: str, action: str) -> Target:
    """An ended meeting whose minutes are at `status` (set directly: an approval by an earlier role is
    undone, so each role meets the same state), and the minutes action to try."""

    async def target(council: Council) -> Call:
        await _status(council, "ended")
        db = council.api.db
        await db.execute(
            update(Meeting).where(Meeting.id == council.meeting_id).values(minutes_status=status)
        )
        await db.execute(delete(MinutesCopy).where(MinutesCopy.meeting_id == council.meeting_id))
        await db.commit()
        return Call(f"{council.url}/minutes/{action}", {})

    return target


async def _concluded_item(council: Council) -> int:
    """An agenda item with a written conclusion (the first one there is, or a new one)."""
    listed = await council.api.ok("GET", f"{council.url}/conclusions", "secretary")
    if listed:
        return int(listed[0]["itemId"])
    item = await _item(council)
    body = {"text": "Hội đồng thống nhất thông qua."}
    await council.api.ok("PUT", f"{council.url}/agenda/{item}/conclusion", "secretary", json=body)
    return item


# -------------------------------------------------------------------------------------------- targets


def _at(path: str, **kwargs: Any) -> Target:
    """A fixed request below the meeting's URL (or an absolute /api path)."""

    async def target(council: Council) -> Call:
        return Call(path if path.startswith("/api/") else council.url + path, kwargs)

    return target


async def _meeting_status(c: Council) -> Call:
    current = (await c.api.ok("GET", c.url, "secretary"))["status"]
    return Call(f"{c.url}/status", {"json": {"status": "draft" if current == "scheduled" else "scheduled"}})


async def _update_item(c: Council) -> Call:
    return Call(f"{c.url}/agenda/{await _item(c)}", {"json": {"title": "Sửa"}})


async def _delete_item(c: Council) -> Call:
    return Call(f"{c.url}/agenda/{await _item(c)}")


async def _item_status(c: Council) -> Call:
    await _status(c, "live")
    return Call(f"{c.url}/agenda/{await _item(c)}/status", {"json": {"status": "active"}})


async def _order(c: Council) -> Call:
    items = await c.api.ok("GET", f"{c.url}/agenda", "secretary")
    order = [{"id": i["id"]} for i in reversed(items) if not i["parentId"]]
    return Call(f"{c.url}/agenda/order", {"json": {"items": order}})


async def _invite(c: Council) -> Call:
    user_id = await c.api.user(f"candidate{next(_fresh)}")
    return Call(f"{c.url}/participants", {"json": {"userId": user_id, "role": "guest"}})


async def _update_participant(c: Council) -> Call:
    return Call(f"{c.url}/participants/{await _invitee(c)}", {"json": {"role": "guest"}})


async def _remove_participant(c: Council) -> Call:
    return Call(f"{c.url}/participants/{await _invitee(c)}")


async def _roll_call(c: Council) -> Call:
    await _status(c, "scheduled")
    url = f"{c.url}/participants/{c.participant_ids['delegate2']}/attendance"
    return Call(url, {"json": {"attendance": "in_room"}})


async def _self_check_in(c: Council) -> Call:
    await _status(c, "scheduled")
    return Call(f"{c.url}/attendance/me", {"json": {"attendance": "in_room"}})


async def _new_user(c: Council) -> Call:
    body = {"username": f"new{next(_fresh)}", "displayName": "Người mới", "password": "long enough"}
    return Call("/api/users", {"json": body})


async def _patch_user(c: Council) -> Call:
    return Call(f"/api/users/{c.api.ids['delegate2']}", {"json": {"displayName": "Tên mới"}})


async def _new_version(c: Council) -> Call:
    return Call(f"{c.url}/documents/{(await _document(c))['id']}/versions", _pdf_files())


async def _document_url(c: Council, below: str = "", **kwargs: Any) -> Call:
    return Call(f"{c.url}/documents/{(await _document(c))['id']}{below}", kwargs)


async def _sign_resolution(c: Council) -> Call:
    """A new document marked as a resolution, and the chair's signature with the demo certificate."""
    document = await _new_document(c)
    url = f"{c.url}/documents/{document['id']}"
    await c.api.ok("PATCH", url, "secretary", json={"resolution": True})
    return Call(f"{url}/sign", {"json": {"source": "demo", "password": DEMO_SIGNING_PASSWORD}})


async def _delete_document(c: Council) -> Call:
    return Call(f"{c.url}/documents/{(await _new_document(c))['id']}")


async def _page(c: Council) -> Call:
    return Call(await _version(c, "/pages/1"))


async def _annotations(c: Council) -> Call:
    return Call(await _version(c, "/annotations"))


def _poll_at(state: str, below: str = "", kind: str = "named", **kwargs: Any) -> Target:
    async def target(c: Council) -> Call:
        return Call(await _poll(c, state, kind) + below, kwargs)

    return target


async def _new_poll(c: Council) -> Call:
    await _status(c, "live")
    return Call(f"{c.url}/polls", {"json": {"itemId": await _item(c), "question": "Thông qua?"}})


async def _write_conclusion(c: Council) -> Call:
    return Call(f"{c.url}/agenda/{await _item(c)}/conclusion", {"json": {"text": "Thông qua."}})


async def _conclusion(c: Council, below: str = "") -> Call:
    return Call(f"{c.url}/agenda/{await _concluded_item(c)}/conclusion{below}")


# ---------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One route (as the app declares it), a request to it, and the roles allowed to make it."""

    name: str
    method: str
    route: str
    target: Target
    allowed: Roles
    # Routes outside any meeting answer 403 (not 404) to the logged-in but unauthorized.
    in_meeting: bool = True
    # Logging out spends the caller's token: send a freshly minted one, keep the stored one.
    spends_token: bool = False


M = "/api/meetings/{meeting_id:int}"
DOCUMENT = M + "/documents/{document_id:int}"
VERSION = DOCUMENT + "/versions/{version_id:int}"
POLL = M + "/polls/{poll_id:int}"
CONCLUSION = M + "/agenda/{item_id:int}/conclusion"

RULES = [
    # accounts
    Rule(
        "log in",
        "POST",
        "/api/auth/login",
        _at("/api/auth/login", json={"username": "delegate2", "password": PASSWORD}),
        LOGGED_IN | {None},
        in_meeting=False,
    ),
    Rule(
        "log out",
        "POST",
        "/api/auth/logout",
        _at("/api/auth/logout"),
        LOGGED_IN,
        in_meeting=False,
        spends_token=True,
    ),
    Rule("who am I", "GET", "/api/auth/me", _at("/api/auth/me"), LOGGED_IN, in_meeting=False),
    Rule("list users", "GET", "/api/users", _at("/api/users"), ACCOUNT_MANAGERS, in_meeting=False),
    Rule("create user", "POST", "/api/users", _new_user, ADMINS, in_meeting=False),
    Rule("update other user", "PATCH", "/api/users/{user_id:int}", _patch_user, ADMINS, in_meeting=False),
    # meetings
    Rule("list meetings", "GET", "/api/meetings", _at("/api/meetings"), LOGGED_IN, in_meeting=False),
    Rule(
        "create meeting",
        "POST",
        "/api/meetings",
        _at(
            "/api/meetings",
            json={"title": "Phiên mới", "startsAt": "2027-01-01T08:00:00Z", "endsAt": "2027-01-01T11:00:00Z"},
        ),
        ACCOUNT_MANAGERS,
        in_meeting=False,
    ),
    Rule("get meeting", "GET", M, _at(""), PARTICIPANTS),
    Rule("update meeting", "PATCH", M, _at("", json={"location": "Phòng 2"}), MANAGERS),
    Rule("change meeting status", "POST", M + "/status", _meeting_status, MANAGERS),
    Rule(
        "duplicate meeting",
        "POST",
        M + "/duplicate",
        _at("/duplicate", json={"startsAt": "2027-01-01T08:00:00Z", "endsAt": "2027-01-01T09:00:00Z"}),
        # A copy is a new meeting: only those who may create meetings (the chair's account is a user's).
        ACCOUNT_MANAGERS,
    ),
    # agenda
    Rule("list agenda", "GET", M + "/agenda", _at("/agenda"), PARTICIPANTS),
    Rule("create item", "POST", M + "/agenda", _at("/agenda", json={"title": "Mục mới"}), MANAGERS),
    Rule("update item", "PATCH", M + "/agenda/{item_id:int}", _update_item, MANAGERS),
    Rule("delete item", "DELETE", M + "/agenda/{item_id:int}", _delete_item, MANAGERS),
    Rule("reorder agenda", "PUT", M + "/agenda/order", _order, MANAGERS),
    Rule("change item status", "POST", M + "/agenda/{item_id:int}/status", _item_status, MANAGERS),
    # participants and attendance
    Rule("list participants", "GET", M + "/participants", _at("/participants"), PARTICIPANTS),
    Rule("invite participant", "POST", M + "/participants", _invite, MANAGERS),
    Rule(
        "update participant", "PATCH", M + "/participants/{participant_id:int}", _update_participant, MANAGERS
    ),
    Rule(
        "remove participant",
        "DELETE",
        M + "/participants/{participant_id:int}",
        _remove_participant,
        MANAGERS,
    ),
    Rule("attendance", "GET", M + "/attendance", _at("/attendance"), PARTICIPANTS),
    # mail: who was invited, and how delivery went, is the organisers' business
    Rule("list invitations", "GET", M + "/invitations", _at("/invitations"), MANAGERS),
    Rule("roll call", "PUT", M + "/participants/{participant_id:int}/attendance", _roll_call, MANAGERS),
    # Admins who are not invited are not participants: they cannot check themselves in.
    Rule("self check-in", "PUT", M + "/attendance/me", _self_check_in, PARTICIPANTS - {"admin"}),
    # documents
    Rule("list documents", "GET", M + "/documents", _at("/documents"), PARTICIPANTS),
    Rule("upload document", "POST", M + "/documents", _at("/documents", **_pdf_files()), MANAGERS),
    Rule("get document", "GET", DOCUMENT, _document_url, PARTICIPANTS),
    Rule(
        "update document",
        "PATCH",
        DOCUMENT,
        lambda c: _document_url(c, json={"classification": "confidential"}),
        MANAGERS,
    ),
    Rule("delete document", "DELETE", DOCUMENT, _delete_document, MANAGERS),
    Rule("replace document", "POST", DOCUMENT + "/versions", _new_version, MANAGERS),
    # A signature is personal: not even an administrator signs for the chair.
    Rule("sign resolution", "POST", DOCUMENT + "/sign", _sign_resolution, frozenset({"chair"})),
    Rule(
        "document signatures",
        "GET",
        DOCUMENT + "/signatures",
        lambda c: _document_url(c, "/signatures"),
        PARTICIPANTS,
    ),
    Rule(
        "rendering status", "GET", DOCUMENT + "/status", lambda c: _document_url(c, "/status"), PARTICIPANTS
    ),
    Rule("page image", "GET", VERSION + "/pages/{page:int}", _page, PARTICIPANTS),
    Rule(
        "download stamped copy",
        "GET",
        DOCUMENT + "/download",
        lambda c: _document_url(c, "/download"),
        PARTICIPANTS,
    ),
    Rule(
        "download original",
        "GET",
        DOCUMENT + "/download",
        lambda c: _document_url(c, "/download", params={"original": "true"}),
        MANAGERS,
    ),
    Rule("search", "GET", M + "/search", _at("/search", params={"q": "ngân sách"}), PARTICIPANTS),
    # Everyone logged in searches; what they find is their meetings' (tests/docs/test_search.py).
    Rule(
        "search everywhere",
        "GET",
        "/api/search",
        _at("/api/search", params={"q": "ngân sách"}),
        LOGGED_IN,
        in_meeting=False,
    ),
    # the room
    Rule("list annotations", "GET", VERSION + "/annotations", _annotations, PARTICIPANTS),
    Rule("join the room", WEBSOCKET, M + "/socket", _at("/socket"), PARTICIPANTS),
    # polls and ballots
    Rule("list polls", "GET", M + "/polls", _at("/polls"), PARTICIPANTS),
    Rule("create poll", "POST", M + "/polls", _new_poll, MANAGERS),
    Rule("get poll", "GET", POLL, _poll_at("open"), PARTICIPANTS),
    Rule("update poll", "PATCH", POLL, _poll_at("draft", json={"question": "Sửa câu hỏi?"}), MANAGERS),
    Rule("open poll", "POST", POLL + "/open", _poll_at("draft", "/open"), CHAIRS),
    Rule("close poll", "POST", POLL + "/close", _poll_at("open", "/close"), CHAIRS),
    Rule("publish poll", "POST", POLL + "/publish", _poll_at("closed", "/publish"), CHAIRS),
    Rule(
        "cast ballot", "POST", POLL + "/ballots", _poll_at("open", "/ballots", json={"choice": [0]}), VOTERS
    ),
    Rule("my ballot", "GET", POLL + "/ballots/me", _poll_at("open", "/ballots/me"), PARTICIPANTS),
    Rule("poll result", "GET", POLL + "/result", _poll_at("published", "/result"), PARTICIPANTS),
    Rule(
        "published ballots",
        "GET",
        POLL + "/ballots",
        _poll_at("published", "/ballots", "secret"),
        PARTICIPANTS,
    ),
    Rule(
        "verify receipt",
        "POST",
        POLL + "/receipts/verify",
        _poll_at("published", "/receipts/verify", "secret", json={"receipt": "ABCD-EFGH-IJKL-MNOP"}),
        PARTICIPANTS,
    ),
    # conclusions and minutes
    Rule("list conclusions", "GET", M + "/conclusions", _at("/conclusions"), PARTICIPANTS),
    Rule("get conclusion", "GET", CONCLUSION, _conclusion, PARTICIPANTS),
    Rule("write conclusion", "PUT", CONCLUSION, _write_conclusion, MANAGERS),
    Rule(
        "conclusion history",
        "GET",
        CONCLUSION + "/history",
        lambda c: _conclusion(c, "/history"),
        PARTICIPANTS,
    ),
    Rule("minutes as Markdown", "GET", M + "/minutes/markdown", _at("/minutes/markdown"), PARTICIPANTS),
    Rule("minutes as PDF", "GET", M + "/minutes/pdf", _at("/minutes/pdf"), PARTICIPANTS),
    Rule("minutes state", "GET", M + "/minutes", _at("/minutes"), PARTICIPANTS),
    Rule("submit minutes", "POST", M + "/minutes/submit", _minutes_at("draft", "submit"), MANAGERS),
    Rule("return minutes", "POST", M + "/minutes/return", _minutes_at("submitted", "return"), CHAIRS),
    Rule("approve minutes", "POST", M + "/minutes/approve", _minutes_at("submitted", "approve"), CHAIRS),
    Rule("sign minutes", "POST", M + "/minutes/sign", _sign_minutes, frozenset({"secretary", "chair"})),
    Rule("minutes signatures", "GET", M + "/minutes/signatures", _at("/minutes/signatures"), PARTICIPANTS),
    Rule("archive package", "GET", M + "/archive", _archive, MANAGERS),
]


@pytest.fixture
def settings(settings: Settings, demo_ca: Path) -> Settings:
    """Demo signing on, so the secretary and chair can sign with the demo certificates."""
    return with_demo_signing(settings, demo_ca)


def _expected(rule: Rule, role: str | None) -> int | None:
    """None means "allowed" (any 2xx, or the socket's first message)."""
    if role in rule.allowed:
        return None
    if role is None:
        return 401
    if role == "outsider" and rule.in_meeting:
        return 404
    return 403  # includes admins checking themselves in: they are not participants


async def _stored(db: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    rows = {}
    for table in metadata.sorted_tables:
        result = await db.execute(select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(row) for row in result.all()]
    await db.rollback()  # end the read transaction: the next look sees what was committed since
    return rows


async def _send(app: Litestar, council: Council, rule: Rule, role: str | None, call: Call) -> int:
    """Make the rule's request as `role`; the HTTP status, or for the socket 200 when it was let in."""
    api = council.api
    headers = {}
    if rule.spends_token and role is not None:
        headers = {"Authorization": f"Bearer {await api.mint(role)}"}
    if rule.method == WEBSOCKET:
        answer = await first_answer(app, call.url, api.tokens[role] if role else None)
        if answer.get("type") == "room.snapshot":
            return 200
        return next(status for status, code in CLOSE_CODES.items() if answer.get("closed") == code)
    response = await api.call(rule.method, call.url, role, headers=headers, **call.kwargs)
    api.client.cookies.clear()  # the login's cookie would authenticate the next role's reads
    if response.status_code >= 300:
        assert response.json()["status"] == response.status_code, response.text
    return int(response.status_code)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
async def test_each_role_is_allowed_or_refused(council: Council, app: Litestar, rule: Rule) -> None:
    docs = app.state.docs
    for role in ROLES:
        expected = _expected(rule, role)
        call = await rule.target(council)
        if expected is None:
            status = await _send(app, council, rule, role, call)
            assert status < 300, (rule.name, role, status)
            continue
        await docs.wait_idle()  # pages of an uploaded document are rendered, and recorded, in the background
        before = await _stored(council.api.db)
        status = await _send(app, council, rule, role, call)
        assert status == expected, (rule.name, role, status)
        await docs.wait_idle()
        assert await _stored(council.api.db) == before, f"{rule.name} refused for {role} but changed rows"


def _app_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves behind /api/, WEBSOCKET as the socket's method.

    Outside /api/ there are only the public health check, the OpenAPI pages and the web client's files.
    """
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        if not route.path.startswith("/api/"):
            # /tls/ca.crt: the public certificate tablets trust (tests/test_tls.py); never a key.
            # /metrics: loopback or the operator's token, not roles (tests/test_observability.py).
            public = route.path in ("/health", "/", "/tls/ca.crt", "/metrics") or route.path.startswith(
                ("/schema", "/assets/")
            )
            assert public, f"{route.path} is outside /api/ and not a public route: give it a rule"
        elif isinstance(route, WebSocketRoute):
            served.add((WEBSOCKET, route.path))
        else:
            assert isinstance(route, HTTPRoute), route
            served |= {(m, route.path) for m in route.route_handler_map if m not in ("OPTIONS", "HEAD")}
    return served


def test_every_route_of_the_app_has_a_rule(tmp_path: Path) -> None:
    served = _app_routes(create_app(Settings(data_dir=tmp_path, secret_key="k" * 64)))
    ruled = {(rule.method, rule.route) for rule in RULES}
    assert sorted(served - ruled) == [], "routes without a row in RULES: add who may call them"
    assert sorted(ruled - served) == [], "rows in RULES for routes the app does not have"


async def test_refused_requests_give_their_database_connection_back(council: Council, app: Litestar) -> None:
    # The session is made before the access check refuses: it must be closed all the same, at once,
    # not whenever the garbage collector finds it.
    pool = app.state.engine.pool
    api = council.api
    for who, expected in (("outsider", 404), ("guest", 403), (None, 401), ("delegate1", 200)):
        method = "GET" if expected != 403 else "POST"
        response = await api.call(method, f"{council.url}/agenda", who, json={"title": "x"})
        assert response.status_code == expected, (who, response.text)
        assert pool.checkedout() == 0, (who, expected)
