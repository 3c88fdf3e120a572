"""Poll lifecycle, eligibility, ballots and results over HTTP."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.voting.conftest import Session


async def test_create_poll_requires_chair_or_secretary(session: Session) -> None:
    body = {"itemId": session.item_id, "question": "Q?"}
    for name, status in (("delegate1", 403), ("guest", 403), ("outsider", 404)):
        assert (await session.api.call("POST", session.polls, name, json=body)).status_code == status
    poll = await session.create(as_="chair")
    assert (poll["state"], poll["options"], poll["kind"]) == ("draft", ["yes", "no", "abstain"], "named")


async def test_drafts_are_hidden_from_delegates_and_editable_only_as_drafts(session: Session) -> None:
    poll = await session.create()
    assert await session.api.ok("GET", session.polls, "delegate1") == []
    # Nor can a delegate read a draft by its id: as hidden as in the list.
    hidden = await session.api.call("GET", f"{session.polls}/{poll['id']}", "delegate1")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "poll.not_found")
    assert (await session.api.ok("GET", f"{session.polls}/{poll['id']}", "secretary"))["state"] == "draft"
    edited = await session.api.ok(
        "PATCH", f"{session.polls}/{poll['id']}", "secretary", json={"rule": "two_thirds"}
    )
    assert edited["rule"] == "two_thirds"
    await session.api.ok("POST", f"{session.polls}/{poll['id']}/open", "chair")
    response = await session.api.call(
        "PATCH", f"{session.polls}/{poll['id']}", "secretary", json={"question": "X"}
    )
    assert response.status_code == 409


async def test_open_close_publish_require_the_chair_and_the_right_state(session: Session) -> None:
    poll = await session.create()
    url = f"{session.polls}/{poll['id']}"
    assert (await session.api.call("POST", f"{url}/open", "secretary")).status_code == 403
    assert (await session.api.call("POST", f"{url}/close", "chair")).status_code == 409
    assert (await session.api.call("POST", f"{url}/publish", "chair")).status_code == 409
    await session.api.ok("POST", f"{url}/open", "chair")
    assert (await session.api.call("POST", f"{url}/open", "chair")).status_code == 409
    assert (await session.api.call("POST", f"{url}/publish", "chair")).status_code == 409
    await session.close(poll["id"])
    assert (await session.api.call("POST", f"{url}/close", "chair")).status_code == 409
    published = await session.publish(poll["id"])
    assert published["state"] == "published"
    assert (await session.api.call("POST", f"{url}/publish", "chair")).status_code == 409


async def test_secret_polls_cannot_allow_changes(session: Session) -> None:
    body = {"itemId": session.item_id, "question": "Q?", "kind": "secret", "allowChange": True}
    assert (await session.api.call("POST", session.polls, "secretary", json=body)).status_code == 422


async def test_named_poll_counts_and_lists_voters(session: Session) -> None:
    poll = await session.opened(kind="named")
    assert (poll["eligible"], poll["cast"]) == (2, 0)
    assert (await session.vote(poll["id"], "delegate1", 0)).status_code == 200
    assert (await session.vote(poll["id"], "delegate2", 1)).status_code == 200
    closed = await session.close(poll["id"])
    result = closed["result"]
    assert result["counts"] == [1, 1, 0]
    assert (result["ballots"], result["turnout"], result["passed"], result["quorumMet"]) == (
        2,
        1.0,
        False,
        True,
    )
    assert [(v["displayName"], v["choice"]) for v in result["voters"]] == [
        ("Delegate1", [0]),
        ("Delegate2", [1]),
    ]


async def test_second_ballot_from_same_delegate_is_refused(session: Session) -> None:
    poll = await session.opened()
    assert (await session.vote(poll["id"], "delegate1", 0)).status_code == 200
    second = await session.vote(poll["id"], "delegate1", 1)
    assert second.status_code == 409
    assert "already voted" in second.json()["detail"]
    me = await session.api.ok("GET", f"{session.polls}/{poll['id']}/ballots/me", "delegate1")
    assert (me["voted"], me["choice"], me["canChange"]) == (True, [0], False)


async def test_allow_change_replaces_the_ballot(session: Session) -> None:
    poll = await session.opened(allowChange=True)
    assert (await session.vote(poll["id"], "delegate1", 0)).json()["changed"] is False
    assert (await session.vote(poll["id"], "delegate1", 1)).json()["changed"] is True
    result = (await session.close(poll["id"]))["result"]
    assert (result["counts"], result["ballots"]) == ([0, 1, 0], 1)


async def test_ballot_after_close_is_refused_and_not_counted(session: Session) -> None:
    poll = await session.opened()
    await session.vote(poll["id"], "delegate1", 0)
    await session.close(poll["id"])
    late = await session.vote(poll["id"], "delegate2", 0)
    assert late.status_code == 409
    assert "no longer accepted" in late.json()["detail"]
    result = await session.api.ok("GET", f"{session.polls}/{poll['id']}/result", "chair")
    assert result["ballots"] == 1


async def test_ballot_before_open_is_refused(session: Session) -> None:
    poll = await session.create()
    assert (await session.vote(poll["id"], "delegate1", 0)).status_code == 409


async def test_guests_managers_and_outsiders_cannot_vote(session: Session) -> None:
    poll = await session.opened()
    assert (await session.vote(poll["id"], "guest", 0)).status_code == 403
    assert (await session.vote(poll["id"], "chair", 0)).status_code == 403
    assert (await session.vote(poll["id"], "outsider", 0)).status_code == 404
    assert (await session.vote(poll["id"], "admin", 0)).status_code == 403


async def test_eligibility_is_frozen_when_the_poll_opens(session: Session) -> None:
    await session.add_delegate("latecomer")
    poll = await session.opened()
    assert poll["eligible"] == 2
    await session.check_in("latecomer")
    assert (await session.vote(poll["id"], "latecomer", 0)).status_code == 403
    # Leaving the room after the poll opened does not take the vote away.
    await session.check_in("delegate2", "left")
    assert (await session.vote(poll["id"], "delegate2", 0)).status_code == 200
    result = (await session.close(poll["id"]))["result"]
    assert (result["eligible"], result["members"], result["ballots"]) == (2, 3, 1)


async def test_malformed_ballot_is_refused(session: Session) -> None:
    poll = await session.opened()
    response = await session.vote(poll["id"], "delegate1", 0, 1)
    assert response.status_code == 422
    assert "exactly one" in response.json()["detail"]


async def test_result_is_hidden_from_delegates_until_published(session: Session) -> None:
    poll = await session.opened()
    url = f"{session.polls}/{poll['id']}"
    await session.vote(poll["id"], "delegate1", 0)
    assert (await session.api.call("GET", f"{url}/result", "chair")).status_code == 409
    await session.close(poll["id"])
    assert (await session.api.call("GET", f"{url}/result", "delegate1")).status_code == 409
    assert (await session.api.ok("GET", url, "delegate1"))["result"] is None
    frozen = await session.api.ok("GET", f"{url}/result", "chair")
    await session.publish(poll["id"])
    assert await session.api.ok("GET", f"{url}/result", "delegate1") == frozen
    assert frozen["passed"] is True


async def test_one_poll_open_at_a_time(session: Session) -> None:
    await session.opened()
    second = await session.create()
    assert (
        await session.api.call("POST", f"{session.polls}/{second['id']}/open", "chair")
    ).status_code == 409


async def test_election_with_max_selections(session: Session) -> None:
    await session.add_delegate("delegate3")
    await session.check_in("delegate3")
    poll = await session.opened(
        kind="secret",
        method="election",
        options=["Nguyễn Văn An", "Trần Thị Bình", "Lê Chí"],
        maxSelections=2,
    )
    assert (await session.vote(poll["id"], "delegate1", 0, 1, 2)).status_code == 422
    for name, choice in (("delegate1", (0, 1)), ("delegate2", (0, 2)), ("delegate3", (0,))):
        assert (await session.vote(poll["id"], name, *choice)).status_code == 200
    result = (await session.close(poll["id"]))["result"]
    assert (result["counts"], result["chosen"], result["tie"]) == ([3, 1, 1], [0], True)


async def test_current_poll_is_the_open_one_then_the_last_closed(session: Session, db) -> None:  # type: ignore[no-untyped-def]
    from meeting.voting import current_poll

    meeting_id = session.council.meeting_id
    assert await current_poll(db, meeting_id) is None
    poll = await session.opened()
    current = await current_poll(db, meeting_id)
    assert current is not None and (current.id, current.state) == (poll["id"], "open")
    await session.vote(poll["id"], "delegate1", 0)
    await session.close(poll["id"])
    db.expire_all()
    current = await current_poll(db, meeting_id)
    assert current is not None and (current.state, current.cast, current.result) == ("closed", 1, None)
    await session.publish(poll["id"])
    db.expire_all()
    current = await current_poll(db, meeting_id)
    assert current is not None and current.result is not None and current.result.passed


async def test_polls_opened_at_the_same_moment_leave_exactly_one_open(session: Session) -> None:
    drafts = [await session.create(question=f"Câu hỏi {n}?") for n in range(4)]
    responses = await asyncio.gather(
        *(session.api.call("POST", f"{session.polls}/{d['id']}/open", "chair") for d in drafts)
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.text for r in responses]
    listed = await session.api.ok("GET", session.polls, "chair")
    assert [p["state"] for p in listed].count("open") == 1
