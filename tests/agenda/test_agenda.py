"""Agenda items: create with sub-items, edit, delete, reorder, status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from meeting.agenda.models import ITEM_TRANSITIONS, ItemStatus

if TYPE_CHECKING:
    from tests.support.api import Api, Council


async def _add(api: Api, url: str, title: str, parent: int | None = None) -> int:
    body: dict[str, object] = {"title": title}
    if parent is not None:
        body["parentId"] = parent
    item = await api.ok("POST", f"{url}/agenda", "secretary", json=body)
    return int(item["id"])


async def _titles(api: Api, url: str) -> list[str]:
    items = await api.ok("GET", f"{url}/agenda", "delegate1")
    return [("  " if i["parentId"] else "") + i["title"] for i in items]


async def test_items_append_in_order_with_one_level_of_sub_items(council: Council) -> None:
    api, url = council.api, council.url
    first = await _add(api, url, "Khai mạc")
    await _add(api, url, "Báo cáo")
    await _add(api, url, "Diễn văn", parent=first)
    await _add(api, url, "Thông qua chương trình", parent=first)
    assert await _titles(api, url) == ["Khai mạc", "  Diễn văn", "  Thông qua chương trình", "Báo cáo"]


async def test_sub_items_cannot_have_sub_items(council: Council) -> None:
    api, url = council.api, council.url
    parent = await _add(api, url, "Báo cáo")
    child = await _add(api, url, "Phụ lục", parent=parent)
    response = await api.call("POST", f"{url}/agenda", "secretary", json={"title": "x", "parentId": child})
    assert response.status_code == 422
    assert "sub-items cannot have sub-items" in response.json()["detail"]


async def test_items_of_another_meeting_are_not_found(council: Council) -> None:
    api, url = council.api, council.url
    other = await api.ok(
        "POST",
        "/api/meetings",
        "secretary",
        json={"title": "Khác", "startsAt": "2026-12-02T08:00:00Z", "endsAt": "2026-12-02T09:00:00Z"},
    )
    foreign = await _add(api, f"/api/meetings/{other['id']}", "Ngoài")
    response = await api.call("PATCH", f"{url}/agenda/{foreign}", "secretary", json={"title": "x"})
    assert response.status_code == 404
    assert (
        await api.call("POST", f"{url}/agenda", "secretary", json={"title": "x", "parentId": foreign})
    ).status_code == 404


async def test_edit_and_delete_an_item_with_its_sub_items(council: Council) -> None:
    api, url = council.api, council.url
    parent = await _add(api, url, "Báo cáo")
    await _add(api, url, "Phụ lục", parent=parent)
    keep = await _add(api, url, "Bế mạc")
    edited = await api.ok(
        "PATCH", f"{url}/agenda/{keep}", "secretary", json={"presenter": "Chủ tọa", "plannedMinutes": 15}
    )
    assert (edited["presenter"], edited["plannedMinutes"], edited["title"]) == ("Chủ tọa", 15, "Bế mạc")
    await api.ok("DELETE", f"{url}/agenda/{parent}", "secretary")
    assert await _titles(api, url) == ["Bế mạc"]


async def test_reorder_moves_items_in_and_out_of_parents(council: Council) -> None:
    api, url = council.api, council.url
    a = await _add(api, url, "A")
    b = await _add(api, url, "B")
    c = await _add(api, url, "C", parent=a)
    d = await _add(api, url, "D")
    order = {"items": [{"id": d}, {"id": c, "children": [a]}, {"id": b}]}
    await api.ok("PUT", f"{url}/agenda/order", "secretary", json=order)
    assert await _titles(api, url) == ["D", "C", "  A", "B"]


@pytest.mark.parametrize(
    ("make_order", "problem"),
    [
        (lambda ids: {"items": [{"id": ids[0]}, {"id": ids[1]}]}, "missing items"),
        (lambda ids: {"items": [{"id": i} for i in ids] + [{"id": 99999}]}, "unknown items"),
        (
            lambda ids: {"items": [{"id": ids[0], "children": [ids[0]]}, {"id": ids[1]}, {"id": ids[2]}]},
            "listed twice",
        ),
        (lambda ids: {"items": [{"id": i} for i in ids] + [{"id": ids[0]}]}, "listed twice"),
    ],
    ids=["missing", "unknown", "self-parent", "duplicate"],
)
async def test_reorder_that_does_not_list_every_item_once_changes_nothing(
    council: Council, make_order: object, problem: str
) -> None:
    api, url = council.api, council.url
    ids = [await _add(api, url, t) for t in ("A", "B", "C")]
    response = await api.call("PUT", f"{url}/agenda/order", "secretary", json=make_order(ids))  # type: ignore[operator]
    assert response.status_code == 422
    assert problem in response.json()["detail"]
    assert await _titles(api, url) == ["A", "B", "C"]


async def test_reorder_with_nested_children_is_a_bad_request(council: Council) -> None:
    api, url = council.api, council.url
    ids = [await _add(api, url, t) for t in ("A", "B")]
    body = {"items": [{"id": ids[0], "children": [{"id": ids[1], "children": []}]}]}
    response = await api.call("PUT", f"{url}/agenda/order", "secretary", json=body)
    assert response.status_code == 400
    assert await _titles(api, url) == ["A", "B"]


async def test_items_are_activated_only_in_a_live_meeting(council: Council) -> None:
    api, url = council.api, council.url
    item = await _add(api, url, "A")
    response = await api.call("POST", f"{url}/agenda/{item}/status", "chair", json={"status": "active"})
    assert response.status_code == 409
    assert "start it before activating" in response.json()["detail"]


async def _live(api: Api, url: str) -> None:
    for status in ("scheduled", "live"):
        await api.ok("POST", f"{url}/status", "secretary", json={"status": status})


async def test_activating_an_item_finishes_the_active_one(council: Council) -> None:
    api, url = council.api, council.url
    a, b = await _add(api, url, "A"), await _add(api, url, "B")
    await _live(api, url)
    await api.ok("POST", f"{url}/agenda/{a}/status", "chair", json={"status": "active"})
    await api.ok("POST", f"{url}/agenda/{b}/status", "chair", json={"status": "active"})
    items = await api.ok("GET", f"{url}/agenda", "delegate1")
    assert [(i["title"], i["status"]) for i in items] == [("A", "done"), ("B", "active")]


@pytest.mark.parametrize("source", list(ItemStatus), ids=str)
async def test_item_transitions_follow_the_lifecycle(council: Council, source: ItemStatus) -> None:
    api, url = council.api, council.url
    await _live(api, url)
    for target in ItemStatus:
        item = await _add(api, url, f"{source}->{target}")
        path = {ItemStatus.pending: [], ItemStatus.active: ["active"], ItemStatus.done: ["active", "done"]}[
            source
        ]
        for status in path:
            await api.ok("POST", f"{url}/agenda/{item}/status", "chair", json={"status": status})
        response = await api.call("POST", f"{url}/agenda/{item}/status", "chair", json={"status": target})
        expected = 200 if target in ITEM_TRANSITIONS[source] else 409
        assert response.status_code == expected, (source, target, response.text)


async def test_the_active_item_cannot_be_deleted(council: Council) -> None:
    api, url = council.api, council.url
    item = await _add(api, url, "A")
    await _live(api, url)
    await api.ok("POST", f"{url}/agenda/{item}/status", "chair", json={"status": "active"})
    response = await api.call("DELETE", f"{url}/agenda/{item}", "secretary")
    assert response.status_code == 409
    assert await _titles(api, url) == ["A"]


async def test_ending_the_meeting_finishes_the_active_item(council: Council) -> None:
    api, url = council.api, council.url
    item = await _add(api, url, "A")
    await _live(api, url)
    await api.ok("POST", f"{url}/agenda/{item}/status", "chair", json={"status": "active"})
    await api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})
    assert [i["status"] for i in await api.ok("GET", f"{url}/agenda", "guest")] == ["done"]
    response = await api.call("POST", f"{url}/agenda", "secretary", json={"title": "late"})
    assert response.status_code == 409
