"""Meetings: create, list, read, update, lifecycle, duplicate."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from meeting.agenda import service as agenda_service
from meeting.agenda.models import MEETING_TRANSITIONS, Meeting, MeetingStatus
from meeting.broker import RoomEvent
from meeting.users.models import GlobalRole
from tests.support.api import MEETING

if TYPE_CHECKING:
    from tests.support.api import Api, Council


async def test_secretary_creates_a_draft_meeting_and_becomes_its_secretary(api: Api) -> None:
    await api.user("secretary", GlobalRole.secretary)
    created = await api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    assert created["status"] == "draft"
    assert created["myRole"] == "secretary"
    assert created["title"] == MEETING["title"]
    assert created["startsAt"] == "2026-12-01T01:00:00Z"
    assert created["timezone"] == "Asia/Ho_Chi_Minh"
    participants = await api.ok("GET", f"/api/meetings/{created['id']}/participants", "secretary")
    assert [(p["username"], p["role"]) for p in participants] == [("secretary", "secretary")]


async def test_plain_users_cannot_create_meetings(api: Api) -> None:
    await api.user("delegate")
    response = await api.call("POST", "/api/meetings", "delegate", json=MEETING)
    assert response.status_code == 403
    assert response.json()["code"] == "meeting.create_forbidden"
    assert (await api.db.scalars(select(Meeting))).all() == []


@pytest.mark.parametrize(
    ("change", "code", "problem"),
    [
        ({"endsAt": "2026-12-01T07:00:00+07:00"}, "meeting.ends_before_starts", "endsAt must be after"),
        ({"timezone": "Mars/Olympus"}, "meeting.unknown_timezone", "unknown timezone"),
    ],
)
async def test_invalid_meeting_details_are_refused(
    api: Api, change: dict[str, str], code: str, problem: str
) -> None:
    await api.user("secretary", GlobalRole.secretary)
    response = await api.call("POST", "/api/meetings", "secretary", json=MEETING | change)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert problem in response.json()["detail"]


async def test_naive_datetimes_are_refused(api: Api) -> None:
    await api.user("secretary", GlobalRole.secretary)
    response = await api.call(
        "POST", "/api/meetings", "secretary", json=MEETING | {"startsAt": "2026-12-01T08:00:00"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "request.invalid"
    assert "startsAt" in response.text


async def test_framework_errors_carry_the_generic_code_of_their_status(api: Api) -> None:
    await api.user("secretary", GlobalRole.secretary)
    unknown = await api.call("GET", "/api/no-such-thing", "secretary")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "request.not_found")
    wrong_method = await api.call("PUT", "/api/meetings", "secretary", json=MEETING)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "request.method_not_allowed")
    anonymous = await api.client.get("/api/meetings")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "auth.required")


async def test_users_list_only_their_meetings_and_admins_all(council: Council) -> None:
    api = council.api
    other = await api.ok("POST", "/api/meetings", "secretary", json=MEETING | {"title": "Họp riêng"})
    assert [m["id"] for m in await api.ok("GET", "/api/meetings", "delegate1")] == [council.meeting_id]
    assert await api.ok("GET", "/api/meetings", "outsider") == []
    everything = await api.ok("GET", "/api/meetings", "admin")
    assert {m["id"] for m in everything} == {council.meeting_id, other["id"]}
    assert all(m["myRole"] is None for m in everything)


async def test_meetings_filter_by_status_and_start_date(council: Council) -> None:
    api = council.api
    later = await api.ok(
        "POST",
        "/api/meetings",
        "secretary",
        json=MEETING | {"startsAt": "2027-03-01T08:00:00+07:00", "endsAt": "2027-03-01T12:00:00+07:00"},
    )
    await api.ok("POST", f"/api/meetings/{later['id']}/status", "secretary", json={"status": "scheduled"})
    scheduled = await api.ok("GET", "/api/meetings?status=scheduled", "secretary")
    assert [m["id"] for m in scheduled] == [later["id"]]
    both = await api.ok("GET", "/api/meetings?status=scheduled&status=draft", "secretary")
    assert [m["id"] for m in both] == [council.meeting_id, later["id"]]
    in_2027 = await api.ok("GET", "/api/meetings?from=2027-01-01T00:00:00Z", "secretary")
    assert [m["id"] for m in in_2027] == [later["id"]]
    before = await api.ok("GET", "/api/meetings?to=2027-01-01T00:00:00Z", "secretary")
    assert [m["id"] for m in before] == [council.meeting_id]


async def test_non_participants_get_404_not_403(council: Council) -> None:
    response = await council.api.call("GET", council.url, "outsider")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "meeting.not_found",
        "detail": f"meeting {council.meeting_id} not found",
    }
    assert (await council.api.call("GET", "/api/meetings/99999", "outsider")).status_code == 404


async def test_manager_updates_details_and_the_room_is_told(council: Council) -> None:
    api = council.api
    updated = await api.ok(
        "PATCH", council.url, "chair", json={"location": "Phòng họp số 2", "quorumFraction": 0.66}
    )
    assert updated["location"] == "Phòng họp số 2"
    assert updated["quorumFraction"] == 0.66
    logged = select(RoomEvent).where(RoomEvent.meeting_id == council.meeting_id).order_by(RoomEvent.seq)
    events = (await api.db.scalars(logged)).all()
    assert [e.type for e in events][-1] == "meeting.changed"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


ALL_STATUSES = list(MeetingStatus)


async def approve_minutes(api: Api, url: str) -> None:
    """Submit and approve an ended meeting's minutes (an admin approves where no chair is invited)."""
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    await api.ok("POST", f"{url}/minutes/approve", "admin")


async def _drive_to(api: Api, url: str, target: MeetingStatus) -> None:
    path = {
        MeetingStatus.draft: [],
        MeetingStatus.scheduled: ["scheduled"],
        MeetingStatus.live: ["scheduled", "live"],
        MeetingStatus.ended: ["scheduled", "live", "ended"],
        MeetingStatus.archived: ["scheduled", "live", "ended", "archived"],
        MeetingStatus.cancelled: ["cancelled"],
    }[target]
    for status in path:
        if status == "archived":
            await approve_minutes(api, url)
        await api.ok("POST", f"{url}/status", "secretary", json={"status": status})


@pytest.mark.parametrize("source", ALL_STATUSES, ids=str)
async def test_meeting_transitions_follow_the_lifecycle(council: Council, source: MeetingStatus) -> None:
    api = council.api
    for target in ALL_STATUSES:
        meeting = await api.ok("POST", "/api/meetings", "secretary", json=MEETING)
        url = f"/api/meetings/{meeting['id']}"
        await _drive_to(api, url, source)
        if (source, target) == (MeetingStatus.ended, MeetingStatus.archived):
            await approve_minutes(api, url)
        response = await api.call("POST", f"{url}/status", "secretary", json={"status": target})
        if target in MEETING_TRANSITIONS[source]:
            assert response.status_code == 200, (source, target, response.text)
            assert response.json()["status"] == target
        else:
            assert response.status_code == 409, (source, target, response.text)
            assert f"cannot become {target}" in response.json()["detail"]
            assert (await api.ok("GET", url, "secretary"))["status"] == source


async def test_going_live_and_ending_record_the_actual_times(
    council: Council, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = council.api
    now = [dt.datetime(2026, 12, 1, 1, 5, tzinfo=dt.UTC)]
    monkeypatch.setattr(agenda_service, "utcnow", lambda: now[0])
    await _drive_to(api, council.url, MeetingStatus.scheduled)
    scheduled = await api.ok("GET", council.url, "delegate1")
    assert (scheduled["openedAt"], scheduled["closedAt"]) == (None, None)
    live = await api.ok("POST", f"{council.url}/status", "secretary", json={"status": "live"})
    assert (live["openedAt"], live["closedAt"]) == ("2026-12-01T01:05:00Z", None)
    now[0] = dt.datetime(2026, 12, 1, 4, 42, 30, tzinfo=dt.UTC)
    ended = await api.ok("POST", f"{council.url}/status", "secretary", json={"status": "ended"})
    assert (ended["openedAt"], ended["closedAt"]) == ("2026-12-01T01:05:00Z", "2026-12-01T04:42:30Z")
    now[0] = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    await approve_minutes(api, council.url)
    archived = await api.ok("POST", f"{council.url}/status", "secretary", json={"status": "archived"})
    assert (archived["openedAt"], archived["closedAt"]) == (ended["openedAt"], ended["closedAt"])
    listed = await api.ok("GET", "/api/meetings", "delegate1")
    assert [(m["openedAt"], m["closedAt"]) for m in listed] == [(ended["openedAt"], ended["closedAt"])]


async def test_archived_meetings_cannot_be_edited(council: Council) -> None:
    api = council.api
    await _drive_to(api, council.url, MeetingStatus.archived)
    response = await api.call("PATCH", council.url, "secretary", json={"title": "Mới"})
    assert response.status_code == 409
    assert (await api.ok("GET", council.url, "secretary"))["title"] == MEETING["title"]


async def test_duplicate_copies_agenda_and_participants_into_a_new_draft(council: Council) -> None:
    api = council.api
    parent = await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Báo cáo"})
    await api.ok(
        "POST", f"{council.url}/agenda", "secretary", json={"title": "Phụ lục", "parentId": parent["id"]}
    )
    await api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Bế mạc"})
    await _drive_to(api, council.url, MeetingStatus.live)
    await api.ok("POST", f"{council.url}/agenda/{parent['id']}/status", "chair", json={"status": "active"})
    copy = await api.ok(
        "POST",
        f"{council.url}/duplicate",
        "secretary",
        json={"startsAt": "2027-01-05T08:00:00+07:00", "endsAt": "2027-01-05T11:00:00+07:00"},
    )
    assert copy["id"] != council.meeting_id
    assert copy["status"] == "draft"
    assert copy["title"] == MEETING["title"]
    assert copy["myRole"] == "secretary"
    items = await api.ok("GET", f"/api/meetings/{copy['id']}/agenda", "secretary")
    assert [(i["title"], i["status"], i["parentId"] is not None) for i in items] == [
        ("Báo cáo", "pending", False),
        ("Phụ lục", "pending", True),
        ("Bế mạc", "pending", False),
    ]
    assert items[1]["parentId"] == items[0]["id"]
    people = await api.ok("GET", f"/api/meetings/{copy['id']}/participants", "secretary")
    assert sorted((p["username"], p["role"], p["attendance"]) for p in people) == sorted(
        [
            ("secretary", "secretary", "expected"),
            ("chair", "chair", "expected"),
            ("delegate1", "delegate", "expected"),
            ("delegate2", "delegate", "expected"),
            ("guest", "guest", "expected"),
        ]
    )
    # The copy is visible to the people copied into it.
    assert copy["id"] in [m["id"] for m in await api.ok("GET", "/api/meetings", "delegate1")]
