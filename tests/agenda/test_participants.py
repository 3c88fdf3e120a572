"""Participants, roles, attendance and quorum."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from meeting.agenda.service import compute_quorum, participant_change_refusal
from meeting.audit import AuditEntry

if TYPE_CHECKING:
    from tests.support.api import Council


async def test_delegates_vote_by_default_and_guests_cannot(council: Council) -> None:
    people = {p["username"]: p for p in await council.api.ok("GET", f"{council.url}/participants", "guest")}
    assert {name: p["voting"] for name, p in people.items()} == {
        "secretary": False,
        "chair": False,
        "delegate1": True,
        "delegate2": True,
        "guest": False,
    }
    response = await council.api.call(
        "PATCH",
        f"{council.url}/participants/{council.participant_ids['guest']}",
        "secretary",
        json={"voting": True},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "guests cannot vote"


async def test_inviting_someone_twice_is_a_conflict(council: Council) -> None:
    api = council.api
    body = {"userId": api.ids["delegate1"], "role": "guest"}
    response = await api.call("POST", f"{council.url}/participants", "secretary", json=body)
    assert response.status_code == 409
    roles = [
        p["role"]
        for p in await api.ok("GET", f"{council.url}/participants", "secretary")
        if p["username"] == "delegate1"
    ]
    assert roles == ["delegate"]


async def test_inviting_an_unknown_user_is_refused(council: Council) -> None:
    response = await council.api.call(
        "POST", f"{council.url}/participants", "secretary", json={"userId": 4242, "role": "delegate"}
    )
    assert response.status_code == 422


async def test_role_change_applies_to_the_next_request(council: Council) -> None:
    api = council.api
    pid = council.participant_ids["delegate1"]
    assert (
        await api.call("POST", f"{council.url}/agenda", "delegate1", json={"title": "x"})
    ).status_code == 403
    changed = await api.ok(
        "PATCH", f"{council.url}/participants/{pid}", "secretary", json={"role": "secretary"}
    )
    assert (changed["role"], changed["voting"]) == ("secretary", False)
    assert (
        await api.call("POST", f"{council.url}/agenda", "delegate1", json={"title": "x"})
    ).status_code == 201


@pytest.mark.parametrize(
    ("by_admin", "by_chair", "own", "live", "refused"),
    [
        (False, False, False, False, None),  # the secretary arranges roles before the session
        (False, True, False, False, None),
        (False, False, True, False, "participant.cannot_change_self"),
        (
            False,
            True,
            True,
            False,
            "participant.cannot_change_self",
        ),  # a chair does not promote themselves either
        (False, False, False, True, "participant.chair_decides"),  # live: the chair's call
        (False, True, False, True, None),
        (False, True, True, True, "participant.cannot_change_self"),
        (True, False, True, True, None),  # an administrator may do everything
    ],
)
def test_who_may_change_roles_and_votes(
    by_admin: bool, by_chair: bool, own: bool, live: bool, refused: str | None
) -> None:
    refusal = participant_change_refusal(by_admin=by_admin, by_chair=by_chair, own=own, live=live)
    assert (refusal[0] if refusal else None) == refused


async def test_a_secretary_cannot_make_themselves_chair_while_the_meeting_is_live(council: Council) -> None:
    api, url = council.api, council.url
    secretary = council.participant_ids["secretary"]
    for status in ("scheduled", "live"):
        await api.ok("POST", f"{url}/status", "secretary", json={"status": status})
    promote = await api.call(
        "PATCH", f"{url}/participants/{secretary}", "secretary", json={"role": "chair", "voting": True}
    )
    assert (promote.status_code, promote.json()["code"]) == (403, "participant.cannot_change_self")
    delegate = council.participant_ids["delegate1"]
    demote = await api.call("PATCH", f"{url}/participants/{delegate}", "secretary", json={"voting": False})
    assert (demote.status_code, demote.json()["code"]) == (403, "participant.chair_decides")
    listed = {p["id"]: p for p in await api.ok("GET", f"{url}/participants", "chair")}
    assert (listed[secretary]["role"], listed[delegate]["voting"]) == ("secretary", True)
    # The chair may, and the change is in the record's chain.
    await api.ok("PATCH", f"{url}/participants/{delegate}", "chair", json={"voting": False})
    chained = select(AuditEntry.payload).where(AuditEntry.action == "participant.change")
    changes = [json.loads(payload) for payload in await api.db.scalars(chained)]
    expected = [(delegate, False, api.ids["chair"])]
    assert [(c["participant"], c["voting"], c["by"]) for c in changes] == expected


async def test_removed_participant_loses_access_at_once(council: Council) -> None:
    api = council.api
    assert (await api.call("GET", council.url, "delegate2")).status_code == 200
    await api.ok("DELETE", f"{council.url}/participants/{council.participant_ids['delegate2']}", "secretary")
    assert (await api.call("GET", council.url, "delegate2")).status_code == 404
    assert (await api.call("GET", f"{council.url}/agenda", "delegate2")).status_code == 404


async def test_managers_cannot_remove_themselves(council: Council) -> None:
    pid = council.participant_ids["secretary"]
    response = await council.api.call("DELETE", f"{council.url}/participants/{pid}", "secretary")
    assert response.status_code == 409


async def _schedule(council: Council) -> None:
    await council.api.ok("POST", f"{council.url}/status", "secretary", json={"status": "scheduled"})


async def test_roll_call_and_self_check_in_update_quorum(council: Council) -> None:
    api = council.api
    await _schedule(council)
    before = await api.ok("GET", f"{council.url}/attendance", "guest")
    assert before["quorum"] == {
        "present": 0,
        "votingMembers": 2,
        "required": 1,
        "fraction": 0.5,
        "met": False,
    }
    me = await api.ok("PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "online"})
    assert me["attendance"] == "online"
    assert me["attendanceAt"] is not None
    after = await api.ok("GET", f"{council.url}/attendance", "guest")
    assert after["quorum"]["present"] == 1 and after["quorum"]["met"] is True
    absent = await api.ok(
        "PUT",
        f"{council.url}/participants/{council.participant_ids['delegate2']}/attendance",
        "secretary",
        json={"attendance": "absent", "reason": "Đi công tác"},
    )
    assert (absent["attendance"], absent["absenceReason"]) == ("absent", "Đi công tác")
    await api.ok("PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "left"})
    final = await api.ok("GET", f"{council.url}/attendance", "guest")
    assert final["quorum"]["present"] == 0


async def test_participants_cannot_mark_others_or_themselves_absent(council: Council) -> None:
    api = council.api
    await _schedule(council)
    other = f"{council.url}/participants/{council.participant_ids['delegate2']}/attendance"
    assert (await api.call("PUT", other, "delegate1", json={"attendance": "in_room"})).status_code == 403
    response = await api.call(
        "PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "absent"}
    )
    assert response.status_code == 422


async def test_online_check_in_needs_online_attendance_allowed(council: Council) -> None:
    api = council.api
    await api.ok("PATCH", council.url, "secretary", json={"onlineAllowed": False})
    await _schedule(council)
    response = await api.call(
        "PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "online"}
    )
    assert response.status_code == 422
    assert "online" in response.json()["detail"]
    assert await api.ok("PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "in_room"})


async def test_attendance_is_taken_only_when_scheduled_or_live(council: Council) -> None:
    response = await council.api.call(
        "PUT", f"{council.url}/attendance/me", "delegate1", json={"attendance": "online"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("present", "members", "fraction", "required", "met"),
    [
        (13, 25, 0.5, 13, True),
        (12, 25, 0.5, 13, False),
        (5, 10, 0.5, 5, True),
        (4, 10, 0.5, 5, False),
        (20, 30, 2 / 3, 20, True),
        (19, 30, 2 / 3, 20, False),
        (0, 0, 0.5, 1, False),
        (1, 1, 1.0, 1, True),
    ],
)
def test_quorum_needs_at_least_the_fraction_of_voting_members(
    present: int, members: int, fraction: float, required: int, met: bool
) -> None:
    quorum = compute_quorum(present, members, fraction)
    assert (quorum.required, quorum.met) == (required, met)
