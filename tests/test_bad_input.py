"""Bad input on every write endpoint: a JSON 4xx naming the problem, never a 500, nothing stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.conftest import Council

# (method, path below the meeting, or an absolute path)
WRITE_ENDPOINTS = [
    ("PATCH", ""),
    ("POST", "/status"),
    ("POST", "/duplicate"),
    ("POST", "/agenda"),
    ("PATCH", "/agenda/{item}"),
    ("PUT", "/agenda/order"),
    ("POST", "/agenda/{item}/status"),
    ("POST", "/participants"),
    ("PATCH", "/participants/{participant}"),
    ("PUT", "/participants/{participant}/attendance"),
    ("PUT", "/attendance/me"),
    ("POST", "/api/meetings"),
    ("POST", "/api/users"),
    ("PATCH", "/api/users/{user}"),
    ("POST", "/api/auth/login"),
]

BAD_BODIES: list[tuple[str, bytes]] = [
    ("malformed-json", b'{"title": '),
    ("not-an-object", b"[1, 2, 3]"),
    (
        "wrong-types",
        b'{"title": 12, "status": 5, "userId": "x", "role": 7, "items": "all", "attendance": 1,'
        b' "startsAt": "yesterday", "username": 3, "password": false, "location": []}',
    ),
    ("unknown-field", b'{"unexpected": true}'),
    ("oversized", b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
]


async def _state(council: Council) -> Any:
    api = council.api
    return (
        await api.ok("GET", council.url, "admin"),
        await api.ok("GET", f"{council.url}/agenda", "admin"),
        await api.ok("GET", f"{council.url}/participants", "admin"),
        await api.ok("GET", "/api/users", "admin"),
        await api.ok("GET", "/api/meetings", "admin"),
    )


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS, ids=[f"{m} {p}" for m, p in WRITE_ENDPOINTS])
async def test_bad_bodies_get_a_json_4xx_and_change_nothing(council: Council, method: str, path: str) -> None:
    api = council.api
    item = await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Mục"})
    url = (path if path.startswith("/api") else council.url + path).format(
        item=item["id"], participant=council.participant_ids["delegate1"], user=api.ids["delegate1"]
    )
    before = await _state(council)
    for name, body in BAD_BODIES:
        response = await api.call(
            method, url, "admin", content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
        error = response.json()
        assert error["status"] == response.status_code
        assert isinstance(error["detail"], str) and error["detail"]
        if name == "oversized":
            assert response.status_code == 413
    assert await _state(council) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/meetings/424242"),
        ("PATCH", "/api/meetings/424242"),
        ("PATCH", "{meeting}/agenda/424242"),
        ("DELETE", "{meeting}/agenda/424242"),
        ("POST", "{meeting}/agenda/424242/status"),
        ("PATCH", "{meeting}/participants/424242"),
        ("DELETE", "{meeting}/participants/424242"),
        ("PUT", "{meeting}/participants/424242/attendance"),
        ("PATCH", "/api/users/424242"),
    ],
)
async def test_unknown_ids_are_404_with_json(council: Council, method: str, path: str) -> None:
    bodies = {
        "PATCH": {"title": "x"} if "agenda" in path or path.startswith("/api/meetings") else {},
        "POST": {"status": "active"},
        "PUT": {"attendance": "in_room"},
    }
    url = path.format(meeting=council.url)
    kwargs = {"json": bodies[method]} if method in bodies else {}
    response = await council.api.call(method, url, "admin", **kwargs)
    assert response.status_code == 404, response.text
    assert response.json()["status"] == 404


async def test_non_numeric_ids_are_a_clear_4xx(council: Council) -> None:
    response = await council.api.call("GET", "/api/meetings/abc", "admin")
    assert response.status_code == 404  # no route matches a non-numeric id
    assert response.json()["status"] == 404
