"""Display names over HTTP: cleaned, unique, and given by administrators only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.api import Council

NEW = {"username": "daibieu9", "password": "long enough"}


async def test_a_new_account_gets_a_cleaned_name(council: Council) -> None:
    created = await council.api.ok(
        "POST", "/api/users", "admin", json=NEW | {"displayName": "  Nguyễn   Văn An "}
    )
    assert created["displayName"] == "Nguyễn Văn An"


@pytest.mark.parametrize("name", ["Nguyễn\u202eVăn\u200bEvil", "An\u2066", "\u200b"])
async def test_invisible_characters_are_refused(council: Council, name: str) -> None:
    response = await council.api.call("POST", "/api/users", "admin", json=NEW | {"displayName": name})
    assert (response.status_code, response.json()["code"]) == (422, "user.display_name_invalid")
    assert "displayName" in response.json()["detail"]


async def test_another_accounts_name_is_refused_case_aside(council: Council) -> None:
    api = council.api
    users = await api.ok("GET", "/api/users", "admin")
    taken = next(u["displayName"] for u in users if u["id"] == api.ids["chair"])
    response = await api.call("POST", "/api/users", "admin", json=NEW | {"displayName": taken.upper()})
    assert (response.status_code, response.json()["code"]) == (409, "user.display_name_taken")
    rename = await api.call(
        "PATCH", f"/api/users/{api.ids['delegate1']}", "admin", json={"displayName": taken.lower()}
    )
    assert (rename.status_code, rename.json()["code"]) == (409, "user.display_name_taken")
    # The account that has the name may keep it, in another case.
    kept = await api.ok(
        "PATCH", f"/api/users/{api.ids['chair']}", "admin", json={"displayName": taken.upper()}
    )
    assert kept["displayName"] == taken.upper()


async def test_only_an_administrator_renames_an_account(council: Council) -> None:
    api = council.api
    me = api.ids["delegate1"]
    response = await api.call("PATCH", f"/api/users/{me}", "delegate1", json={"displayName": "Chủ tọa"})
    assert (response.status_code, response.json()["code"]) == (403, "user.change_forbidden")
    renamed = await api.ok("PATCH", f"/api/users/{me}", "admin", json={"displayName": "Đại biểu Lê Văn Một"})
    assert renamed["displayName"] == "Đại biểu Lê Văn Một"
