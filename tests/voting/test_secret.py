"""Concurrent ballots, secret-ballot unlinkability, receipts and live progress."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from meeting.broker import RoomEvent
from meeting.voting.models import Ballot, PollVoted, SecretBallot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.voting.conftest import Session


@pytest.mark.parametrize("kind", ["named", "secret", "open"])
async def test_simultaneous_ballots_from_one_voter_count_once(
    session: Session, db: AsyncSession, kind: str
) -> None:
    poll = await session.opened(kind=kind)
    responses = await asyncio.gather(*(session.vote(poll["id"], "delegate1", i % 3) for i in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 11, [r.text for r in responses]
    result = (await session.close(poll["id"]))["result"]
    assert (result["ballots"], sum(result["counts"])) == (1, 1)
    table = SecretBallot if kind == "secret" else Ballot
    assert len(list(await db.scalars(select(table.poll_id).where(table.poll_id == poll["id"])))) == 1


async def test_the_database_itself_refuses_a_second_ballot(session: Session, db: AsyncSession) -> None:
    poll = await session.opened()
    await session.vote(poll["id"], "delegate1", 0)
    pid = session.council.participant_ids["delegate1"]
    with pytest.raises(IntegrityError):
        await db.execute(insert(Ballot).values(poll_id=poll["id"], participant_id=pid, choice="[1]"))
    await db.rollback()
    with pytest.raises(IntegrityError):
        await db.execute(insert(PollVoted).values(poll_id=poll["id"], participant_id=pid))
        await db.execute(insert(PollVoted).values(poll_id=poll["id"], participant_id=pid))
    await db.rollback()


async def test_many_voters_at_once_are_all_counted(session: Session) -> None:
    names = [f"d{i}" for i in range(12)]
    for name in names:
        await session.add_delegate(name)
        await session.check_in(name)
    poll = await session.opened(kind="secret")
    responses = await asyncio.gather(*(session.vote(poll["id"], name, i % 2) for i, name in enumerate(names)))
    assert [r.status_code for r in responses] == [200] * len(names)
    result = (await session.close(poll["id"]))["result"]
    assert (result["counts"], result["ballots"], result["eligible"]) == ([6, 6, 0], 12, 14)


async def test_secret_ballot_rows_cannot_be_joined_to_voters_or_ordered(
    session: Session, db: AsyncSession
) -> None:
    names = [f"d{i}" for i in range(8)]
    for name in names:
        await session.add_delegate(name)
        await session.check_in(name)
    poll = await session.opened(kind="secret")
    for i, name in enumerate(names):
        assert (await session.vote(poll["id"], name, i % 3)).status_code == 200
    # The ballot table has nothing about who or when: only a random key, the poll, the choice, a receipt hash.
    assert [c.name for c in SecretBallot.__table__.columns] == ["id", "poll_id", "choice", "receipt_hash"]
    voted_columns = {c.name for c in PollVoted.__table__.columns}
    assert voted_columns == {"poll_id", "participant_id"}
    await session.close(poll["id"])
    db.expire_all()
    stored = (await db.execute(text("SELECT id, choice, receipt_hash FROM secret_ballots"))).all()
    assert len(stored) == len(names)
    ids = [row.id for row in stored]
    # Random 128-bit keys, no two sharing a prefix that a counter would give.
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len({i[:4] for i in ids}) == len(ids)
    # Physical order is key order, whatever the order of voting.
    assert ids == sorted(ids)
    voted = [r[0] for r in (await db.execute(text("SELECT participant_id FROM poll_voted"))).all()]
    assert voted == sorted(voted)
    if db.get_bind().dialect.name == "postgresql":
        # The close rewrote both tables in one transaction: no per-vote xmin pairs a voter with a ballot.
        xmins = {r[0] for r in (await db.execute(text("SELECT xmin::text FROM secret_ballots"))).all()}
        xmins |= {r[0] for r in (await db.execute(text("SELECT xmin::text FROM poll_voted"))).all()}
        assert len(xmins) == 1
        ctids = [r[0] for r in (await db.execute(text("SELECT id FROM secret_ballots ORDER BY ctid"))).all()]
        assert ctids == sorted(ids)
    else:
        # WITHOUT ROWID: there is no hidden insertion counter to read.
        with pytest.raises(Exception, match="rowid"):
            await db.execute(text("SELECT rowid FROM secret_ballots"))
    # No column anywhere else in the schema points at a secret ballot.
    for table in SecretBallot.metadata.sorted_tables:
        for column in table.columns:
            assert all(fk.column.table.name != "secret_ballots" for fk in column.foreign_keys)


async def test_receipt_confirms_the_ballot_after_publication(session: Session) -> None:
    poll = await session.opened(kind="secret")
    url = f"{session.polls}/{poll['id']}"
    receipt = (await session.vote(poll["id"], "delegate1", 1)).json()["receipt"]
    other = (await session.vote(poll["id"], "delegate2", 0)).json()["receipt"]
    assert receipt and other and receipt != other
    me = await session.api.ok("GET", f"{url}/ballots/me", "delegate1")
    assert (me["voted"], me["choice"]) == (True, None)
    assert (
        await session.api.call("POST", f"{url}/receipts/verify", "delegate1", json={"receipt": receipt})
    ).status_code == 409
    await session.close(poll["id"])
    await session.publish(poll["id"])
    listing = await session.api.ok("GET", f"{url}/ballots", "guest")
    assert sorted(b["choice"] for b in listing) == [[0], [1]]
    assert [b["receiptHash"] for b in listing] == sorted(b["receiptHash"] for b in listing)
    verdict = await session.api.ok(
        "POST", f"{url}/receipts/verify", "delegate1", json={"receipt": receipt.lower()}
    )
    assert (verdict["found"], verdict["choice"]) == (True, [1])
    assert verdict["receiptHash"] in {b["receiptHash"] for b in listing}
    forged = await session.api.ok(
        "POST", f"{url}/receipts/verify", "delegate1", json={"receipt": "AAAA-BBBB-CCCC-DDDD"}
    )
    assert forged["found"] is False


async def test_progress_events_carry_counts_only(session: Session, db: AsyncSession) -> None:
    poll = await session.opened(kind="secret")
    await session.vote(poll["id"], "delegate1", 0)
    await session.vote(poll["id"], "delegate2", 1)
    await session.close(poll["id"])
    await session.publish(poll["id"])
    rows = (await db.execute(select(RoomEvent.type, RoomEvent.payload).order_by(RoomEvent.seq))).all()
    events = [(kind, json.loads(payload)) for kind, payload in rows if kind.startswith("poll.")]
    assert [kind for kind, _ in events] == [
        "poll.opened",
        "poll.progress",
        "poll.progress",
        "poll.closed",
        "poll.published",
    ]
    progress = [body for kind, body in events if kind == "poll.progress"]
    assert [(p["cast"], p["eligible"]) for p in progress] == [(1, 2), (2, 2)]
    assert all(set(p) == {"type", "seq", "pollId", "cast", "eligible"} for p in progress)
    assert events[0][1]["poll"]["result"] is None
    assert set(events[3][1]) == {"type", "seq", "pollId", "cast", "eligible"}
    assert events[4][1]["poll"]["result"]["counts"] == [1, 1, 0]


@pytest.mark.parametrize("kind", ["named", "secret"])
async def test_ballots_racing_the_close_are_either_counted_or_refused(session: Session, kind: str) -> None:
    names = [f"d{i}" for i in range(10)]
    for name in names:
        await session.add_delegate(name)
        await session.check_in(name)
    poll = await session.opened(kind=kind)
    close = session.api.call("POST", f"{session.polls}/{poll['id']}/close", "chair")
    ballots = [session.vote(poll["id"], name, 0) for name in names]
    *answers, closed = await asyncio.gather(*ballots[:5], *ballots[5:], close)
    assert closed.status_code == 200
    accepted = sum(1 for a in answers if a.status_code == 200)
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    result = await session.api.ok("GET", f"{session.polls}/{poll['id']}/result", "chair")
    assert result["ballots"] == result["counts"][0] == accepted
