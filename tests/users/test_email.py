"""Accounts' e-mail addresses: given by administrators through the user API, checked, removable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.api import Api


async def test_an_administrator_gives_changes_and_removes_an_address(api: Api) -> None:
    created = await api.ok(
        "POST",
        "/api/users",
        "admin",
        json={
            "username": "daibieu",
            "displayName": "Đại biểu Một",
            "password": "mật khẩu dài",
            "email": " DaiBieu@HDND.Example.VN ",
        },
    )
    assert created["email"] == "DaiBieu@hdnd.example.vn"
    url = f"/api/users/{created['id']}"
    changed = await api.ok("PATCH", url, "admin", json={"email": "moi@example.org"})
    assert changed["email"] == "moi@example.org"
    assert (await api.ok("PATCH", url, "admin", json={"displayName": "Đại biểu Hai"}))[
        "email"
    ] == "moi@example.org"
    assert (await api.ok("PATCH", url, "admin", json={"email": ""}))["email"] is None
    listed = {u["username"]: u for u in await api.ok("GET", "/api/users", "admin")}
    assert listed["daibieu"]["email"] is None


@pytest.mark.parametrize(
    "bad",
    [
        "no-at-sign",
        "two@@example.org",
        "a b@example.org",
        "x@localhost",
        "Tên <a@example.org>",
        "a@b.org\nBcc: x@example.org",
    ],
)
async def test_an_address_that_is_not_one_is_refused(api: Api, bad: str) -> None:
    await api.user("daibieu")
    response = await api.call("PATCH", f"/api/users/{api.ids['daibieu']}", "admin", json={"email": bad})
    assert (response.status_code, response.json()["code"]) == (422, "user.email_invalid")
    me = await api.ok("GET", "/api/auth/me", "daibieu")
    assert me["email"] is None


async def test_users_do_not_change_their_own_address(api: Api) -> None:
    await api.user("daibieu")
    response = await api.call(
        "PATCH", f"/api/users/{api.ids['daibieu']}", "daibieu", json={"email": "khac@example.org"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "user.change_forbidden"
