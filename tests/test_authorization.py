"""Who may do what: every endpoint × every role, in one table.

Outsiders get 404 for anything inside a meeting (ids do not leak), the anonymous get 401, participants
without the right get 403; refused requests change nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from litestar import Litestar

    from tests.conftest import Council

ROLES = ["admin", "secretary", "chair", "delegate1", "guest", "outsider", None]
PARTICIPANTS = {"admin", "secretary", "chair", "delegate1", "guest"}
MANAGERS = {"admin", "secretary", "chair"}
_fresh = itertools.count()


async def _status(council: Council, status: str) -> None:
    """Move the meeting forward to `status` (draft → scheduled → live) unless it is there already."""
    steps = ["draft", "scheduled", "live"]
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


Target = Callable[["Council"], Awaitable[tuple[str, Any]]]


async def _meeting_status(c: Council) -> tuple[str, Any]:
    current = (await c.api.ok("GET", c.url, "secretary"))["status"]
    return f"{c.url}/status", {"status": "draft" if current == "scheduled" else "scheduled"}


async def _item_status(c: Council) -> tuple[str, Any]:
    await _status(c, "live")
    return f"{c.url}/agenda/{await _item(c)}/status", {"status": "active"}


async def _order(c: Council) -> tuple[str, Any]:
    items = await c.api.ok("GET", f"{c.url}/agenda", "secretary")
    return f"{c.url}/agenda/order", {"items": [{"id": i["id"]} for i in reversed(items) if not i["parentId"]]}


async def _roll_call(c: Council) -> tuple[str, Any]:
    await _status(c, "scheduled")
    return f"{c.url}/participants/{c.participant_ids['delegate2']}/attendance", {"attendance": "in_room"}


async def _self_check_in(c: Council) -> tuple[str, Any]:
    await _status(c, "scheduled")
    return f"{c.url}/attendance/me", {"attendance": "in_room"}


async def _new_user(c: Council) -> tuple[str, Any]:
    return "/api/users", {
        "username": f"new{next(_fresh)}",
        "displayName": "Người mới",
        "password": "long enough",
    }


async def _patch_user(c: Council) -> tuple[str, Any]:
    return f"/api/users/{c.api.ids['delegate2']}", {"displayName": "Tên mới"}


def _fixed(path: str, body: Any = None) -> Target:
    async def target(c: Council) -> tuple[str, Any]:
        return c.url + path, body

    return target


@dataclass(frozen=True)
class Rule:
    """One endpoint and the roles allowed to use it."""

    name: str
    method: str
    target: Target
    allowed: set[str]
    # Endpoints outside any meeting answer 403 (not 404) to the logged-in but unauthorized.
    in_meeting: bool = True


RULES = [
    Rule("get meeting", "GET", _fixed(""), PARTICIPANTS),
    Rule("update meeting", "PATCH", _fixed("", {"location": "Phòng 2"}), MANAGERS),
    Rule("change meeting status", "POST", _meeting_status, MANAGERS),
    Rule(
        "duplicate meeting",
        "POST",
        _fixed("/duplicate", {"startsAt": "2027-01-01T08:00:00Z", "endsAt": "2027-01-01T09:00:00Z"}),
        MANAGERS,
    ),
    Rule("list agenda", "GET", _fixed("/agenda"), PARTICIPANTS),
    Rule("create item", "POST", _fixed("/agenda", {"title": "Mục mới"}), MANAGERS),
    Rule("update item", "PATCH", lambda c: _path_body(c, "/agenda/{item}", {"title": "Sửa"}), MANAGERS),
    Rule("delete item", "DELETE", lambda c: _path_body(c, "/agenda/{item}", None), MANAGERS),
    Rule("reorder agenda", "PUT", _order, MANAGERS),
    Rule("change item status", "POST", _item_status, MANAGERS),
    Rule("list participants", "GET", _fixed("/participants"), PARTICIPANTS),
    Rule("invite participant", "POST", lambda c: _invite_body(c), MANAGERS),
    Rule(
        "update participant",
        "PATCH",
        lambda c: _path_body(c, "/participants/{invitee}", {"role": "guest"}),
        MANAGERS,
    ),
    Rule("remove participant", "DELETE", lambda c: _path_body(c, "/participants/{invitee}", None), MANAGERS),
    Rule("attendance", "GET", _fixed("/attendance"), PARTICIPANTS),
    Rule("roll call", "PUT", _roll_call, MANAGERS),
    Rule("self check-in", "PUT", _self_check_in, PARTICIPANTS - {"admin"}),
    Rule("list users", "GET", lambda c: _absolute("/api/users"), {"admin", "secretary"}, in_meeting=False),
    Rule("create user", "POST", _new_user, {"admin"}, in_meeting=False),
    Rule("update other user", "PATCH", _patch_user, {"admin"}, in_meeting=False),
]


async def _path_body(c: Council, template: str, body: Any) -> tuple[str, Any]:
    path = template
    if "{item}" in path:
        path = path.replace("{item}", str(await _item(c)))
    if "{invitee}" in path:
        path = path.replace("{invitee}", str(await _invitee(c)))
    return c.url + path, body


async def _invite_body(c: Council) -> tuple[str, Any]:
    user_id = await c.api.user(f"candidate{next(_fresh)}")
    return f"{c.url}/participants", {"userId": user_id, "role": "guest"}


async def _absolute(path: str) -> tuple[str, Any]:
    return path, None


def _expected(rule: Rule, role: str | None) -> int | None:
    """None means "allowed" (any 2xx)."""
    if role is None:
        return 401
    if role in rule.allowed:
        return None
    if role == "outsider" and rule.in_meeting:
        return 404
    return 403  # includes admins checking themselves in: they are not participants


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
async def test_each_role_is_allowed_or_refused(council: Council, rule: Rule) -> None:
    api = council.api
    for role in ROLES:
        url, body = await rule.target(council)
        snapshot = (
            await api.ok("GET", f"{council.url}/agenda", "secretary"),
            await api.ok("GET", f"{council.url}/participants", "secretary"),
        )
        kwargs = {"json": body} if body is not None else {}
        response = await api.call(rule.method, url, role, **kwargs)
        expected = _expected(rule, role)
        if expected is None:
            assert response.status_code < 300, (rule.name, role, response.status_code, response.text)
        else:
            assert response.status_code == expected, (rule.name, role, response.status_code, response.text)
            assert response.json()["status"] == expected
            after = (
                await api.ok("GET", f"{council.url}/agenda", "secretary"),
                await api.ok("GET", f"{council.url}/participants", "secretary"),
            )
            assert after == snapshot, f"{rule.name} refused for {role} but changed stored data"


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
