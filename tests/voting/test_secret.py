"""Concurrent ballots, secret-ballot unlinkability, receipts and live progress."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from meeting.broker import RoomEvent
from meeting.voting.models import Ballot, PollVoted, SealedBallot, SecretChoice, SecretReceipt
from meeting.voting.sealing import Sealer, UnreadableBallot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
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
    table = SecretChoice if kind == "secret" else Ballot
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


VOTERS = 24
# Pairing by position against a random order gets about one voter right (the fixed points of a random
# permutation); eight or more happens by chance about once in 100 000 runs.
CHANCE_BOUND = 7


async def _secret_poll_of_distinct_choices(session: Session) -> tuple[dict[str, Any], list[int]]:
    """An open secret poll of VOTERS options; every voter picks a different one, in random order.

    Returns the poll and the choices in the order they were cast, which is what an attacker of the
    stored bytes tries to recover.
    """
    names = [f"v{i}" for i in range(VOTERS)]
    for name in names:
        await session.add_delegate(name)
        await session.check_in(name)
    options = [f"Phương án {chr(65 + i)}" for i in range(VOTERS)]
    poll = await session.opened(kind="secret", method="choice", options=options)
    order = list(range(VOTERS))
    random.shuffle(order)
    cast = []
    for voter in order:
        choice = (voter * 7 + 3) % VOTERS  # a choice per voter that is not their position
        assert (await session.vote(poll["id"], names[voter], choice)).status_code == 200
        cast.append(choice)
    return poll, cast


def _right_by_order_of_appearance(raw: bytes, cast: list[int]) -> int:
    """The attack on a SQLite file and its WAL: choices in the order their bytes first appear there.

    Write-ahead frames are appended as transactions commit, so in the old design every ballot's
    plaintext showed up in voting order. Counts how many choices this ordering puts in the right place.
    """
    found = sorted((raw.find(f"[{c}]".encode()), c) for c in set(cast))
    seen = [c for offset, c in found if offset >= 0]
    return sum(1 for guess, truth in zip(seen, cast, strict=False) if guess == truth)


def _sqlite_bytes(db: AsyncSession) -> bytes:
    path = Path(str(db.get_bind().url.database))
    wal = path.with_name(path.name + "-wal")
    return (wal.read_bytes() if wal.exists() else b"") + path.read_bytes()


async def _postgres_right_by_physical_order(db: AsyncSession, cast: list[int]) -> int:
    rows = await db.execute(text("SELECT choice FROM secret_choices ORDER BY ctid"))
    stored = [json.loads(c)[0] for (c,) in rows.all()]
    return sum(1 for guess, truth in zip(stored, cast, strict=False) if guess == truth)


async def test_a_copy_of_the_database_does_not_link_voters_to_secret_choices(
    session: Session, db: AsyncSession
) -> None:
    poll, cast = await _secret_poll_of_distinct_choices(session)
    postgres = db.get_bind().dialect.name == "postgresql"
    # While the poll is open the ballots are sealed: fixed-size ciphertext, no choice in clear anywhere.
    sealed = (await db.execute(text("SELECT sealed FROM sealed_ballots"))).scalars().all()
    assert len(sealed) == VOTERS and len({len(b) for b in sealed}) == 1
    if postgres:
        # A voter's `poll_voted` row and their sealed ballot share the inserting transaction ...
        voted = {x for (x,) in (await db.execute(text("SELECT xmin::text FROM poll_voted"))).all()}
        ballots = {x for (x,) in (await db.execute(text("SELECT xmin::text FROM sealed_ballots"))).all()}
        assert len(voted & ballots) == VOTERS
        # ... which pairs a voter with ciphertext only: no table holds a choice of this poll yet.
        assert (await db.execute(text("SELECT count(*) FROM secret_choices"))).scalar() == 0
    else:
        assert _right_by_order_of_appearance(_sqlite_bytes(db), cast) == 0
    await session.close(poll["id"])
    db.expire_all()
    assert (await db.execute(text("SELECT count(*) FROM sealed_ballots"))).scalar() == 0
    stored = sorted(
        json.loads(c)[0] for (c,) in (await db.execute(text("SELECT choice FROM secret_choices")))
    )
    assert stored == sorted(cast)
    if postgres:
        # Written by the close alone, in an order unrelated to the voting.
        xmins = {x for (x,) in (await db.execute(text("SELECT xmin::text FROM secret_choices"))).all()}
        assert len(xmins) == 1 and not xmins & voted
        assert await _postgres_right_by_physical_order(db, cast) <= CHANCE_BOUND
    else:
        assert _right_by_order_of_appearance(_sqlite_bytes(db), cast) <= CHANCE_BOUND
        # As after a restart: the log folded into the file.
        await db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert _right_by_order_of_appearance(_sqlite_bytes(db), cast) <= CHANCE_BOUND
    # Nothing in the schema pairs a receipt with a choice, nor points at either.
    for table in (SecretChoice, SecretReceipt, SealedBallot):
        assert not {c.name for c in table.__table__.columns} & {"participant_id", "user_id", "cast_at"}
    for table in SecretChoice.metadata.sorted_tables:
        for column in table.columns:
            assert all(
                fk.column.table.name not in {"secret_choices", "secret_receipts", "sealed_ballots"}
                for fk in column.foreign_keys
            )


async def test_sealed_ballots_open_only_with_the_key_of_their_poll(settings: Settings) -> None:
    sealer = Sealer(settings.resolved_secret_key())
    sealed = sealer.seal(5, (0, 2))
    assert sealer.unseal(5, sealed) == (0, 2)
    assert len(sealer.seal(5, (1,))) == len(sealed)  # the size says nothing about the choice
    with pytest.raises(UnreadableBallot):
        sealer.unseal(6, sealed)  # moved to another poll
    with pytest.raises(UnreadableBallot):
        Sealer("another server").unseal(5, sealed)
    with pytest.raises(UnreadableBallot):
        sealer.unseal(5, sealed[:-1] + bytes([sealed[-1] ^ 1]))


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
    # Anyone can recount the choices and find a receipt; nothing pairs the two lists.
    assert listing["choices"] == [[0], [1]]
    assert len(listing["receiptHashes"]) == 2
    assert listing["receiptHashes"] == sorted(listing["receiptHashes"])
    verdict = await session.api.ok(
        "POST", f"{url}/receipts/verify", "delegate1", json={"receipt": receipt.lower()}
    )
    # Counted, and nothing more: whoever holds the receipt cannot learn or prove the choice.
    assert verdict == {"found": True, "receiptHash": verdict["receiptHash"]}
    assert verdict["receiptHash"] in listing["receiptHashes"]
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
