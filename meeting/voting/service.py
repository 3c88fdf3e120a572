"""Poll rules with the database: lifecycle, eligibility, ballots, results, receipts.

Concurrency: every ballot starts its writes with a guard on the poll row (see `_guard_open`) that the
close's UPDATE must wait for, so a ballot either commits before the close (and is counted) or finds the
poll closed (409). One ballot per voter is the database's job: UNIQUE(poll, voter) on `ballots`, the
primary key of `poll_voted`. Ballots then queue only briefly, on the audit head and the room sequence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from meeting import audit
from meeting.agenda.models import PRESENT, AgendaItem, MeetingStatus, Participant
from meeting.db import get_in_meeting, get_or_404, utcnow
from meeting.errors import Code, Conflict, Forbidden, InternalError, InvalidInput, InvalidState, NotFound
from meeting.voting.models import (
    Ballot,
    Poll,
    PollState,
    PollVoted,
    PollVoter,
    SealedBallot,
    SecretChoice,
    SecretReceipt,
)
from meeting.voting.schemas import (
    BallotReceipt,
    BallotStatus,
    NamedChoice,
    PollClosed,
    PollOpened,
    PollProgress,
    PollPublished,
    PollRead,
    PollResult,
    PublishedBallots,
    ReceiptVerdict,
)
from meeting.voting.sealing import UnreadableBallot
from meeting.voting.tally import MOTION_OPTIONS, PollKind, PollMethod, PollSpec, check_ballot, decide

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker
    from meeting.voting.schemas import BallotCast, PollCreate, PollUpdate
    from meeting.voting.sealing import Sealer


# ----------------------------------------------------------------------------------------------- reads


def spec_of(poll: Poll) -> PollSpec:
    """The pure description of a poll, for the tally."""
    return PollSpec(
        method=poll.method,
        options=tuple(json.loads(poll.options)),
        rule=poll.rule,
        max_selections=poll.max_selections,
        quorum_required=poll.quorum_required,
    )


async def cast_count(session: AsyncSession, poll: Poll) -> int:
    """Ballots cast so far (secret polls count who voted, never what)."""
    table = PollVoted if poll.kind == PollKind.secret else Ballot
    return int(
        await session.scalar(select(func.count()).select_from(table).where(table.poll_id == poll.id)) or 0
    )


def result_of(poll: Poll) -> PollResult | None:
    """The frozen result of a closed poll."""
    return msgspec.json.decode(poll.result, type=PollResult) if poll.result else None


async def read(session: AsyncSession, poll: Poll, with_result: bool) -> PollRead:
    """The poll as the caller may see it."""
    return PollRead.from_row(
        poll,
        options=json.loads(poll.options),
        eligible=poll.eligible_count,
        cast=await cast_count(session, poll),
        result=result_of(poll) if with_result else None,
    )


def may_see_result(poll: Poll, access: MeetingAccess) -> bool:
    """Everyone once published; the chair and secretary as soon as it is closed."""
    return poll.state == PollState.published or (poll.state == PollState.closed and access.can_manage)


async def read_for(session: AsyncSession, poll: Poll, access: MeetingAccess) -> PollRead:
    """The poll with its result when the caller may see it."""
    return await read(session, poll, may_see_result(poll, access))


async def get_poll(session: AsyncSession, access: MeetingAccess, poll_id: int) -> Poll:
    """A poll of the meeting, or 404."""
    return await get_or_404(session, Poll, poll_id, access.meeting.id, Code.POLL_NOT_FOUND, f"poll {poll_id}")


async def read_poll(session: AsyncSession, access: MeetingAccess, poll_id: int) -> PollRead:
    """One poll, with its result when the caller may see it; drafts are the managers' (404 to others)."""
    poll = await get_poll(session, access, poll_id)
    if poll.state == PollState.draft and not access.can_manage:
        raise NotFound(Code.POLL_NOT_FOUND, f"poll {poll_id} not found in meeting {access.meeting.id}")
    return await read_for(session, poll, access)


async def list_polls(session: AsyncSession, access: MeetingAccess, item_id: int | None) -> list[PollRead]:
    """The meeting's polls (of one item, if given), oldest first; drafts only for the chair and secretary."""
    query = select(Poll).where(Poll.meeting_id == access.meeting.id).order_by(Poll.id)
    if item_id is not None:
        query = query.where(Poll.item_id == item_id)
    if not access.can_manage:
        query = query.where(Poll.state != PollState.draft)
    return [await read_for(session, poll, access) for poll in await session.scalars(query)]


async def current_poll(session: AsyncSession, meeting_id: int) -> PollRead | None:
    """For the room snapshot: the open poll, else the last closed or published one (result once published)."""
    poll = await session.scalar(
        select(Poll)
        .where(Poll.meeting_id == meeting_id, Poll.state != PollState.draft)
        .order_by((Poll.state == PollState.open).desc(), Poll.opened_at.desc(), Poll.id.desc())
        .limit(1)
    )
    if poll is None:
        return None
    return await read(session, poll, poll.state == PollState.published)


# ------------------------------------------------------------------------------------------ lifecycle


def _spec_from(
    method: PollMethod, options: list[str] | None, max_selections: int, kind: PollKind, allow_change: bool
) -> tuple[list[str], int]:
    """Validated options and seats for a poll's shape."""
    if method == PollMethod.motion:
        if options is not None and len(options) != 3:
            raise InvalidInput(
                Code.POLL_INVALID_OPTIONS, "a motion has exactly three option labels: yes, no, abstain"
            )
        labels = list(options) if options is not None else list(MOTION_OPTIONS)
        seats = 1
    else:
        if not options:
            raise InvalidInput(Code.POLL_INVALID_OPTIONS, f"a {method} poll needs its options")
        labels = list(options)
        seats = max_selections if method == PollMethod.election else 1
        if seats > len(labels):
            raise InvalidInput(
                Code.POLL_INVALID_OPTIONS, f"maxSelections {seats} is more than the {len(labels)} candidates"
            )
    if len(set(labels)) != len(labels):
        raise InvalidInput(Code.POLL_INVALID_OPTIONS, "option labels must be distinct")
    if kind == PollKind.secret and allow_change:
        # Changing a ballot means finding it again, which is exactly what a secret ballot forbids.
        raise InvalidInput(Code.POLL_SECRET_CANNOT_CHANGE, "secret polls cannot allow changing a ballot")
    return labels, seats


async def _check_item(session: AsyncSession, access: MeetingAccess, item_id: int) -> None:
    if await get_in_meeting(session, AgendaItem, item_id, access.meeting.id) is None:
        raise InvalidInput(
            Code.POLL_UNKNOWN_AGENDA_ITEM, f"agenda item {item_id} not found in meeting {access.meeting.id}"
        )


def poll_facts(poll: Poll) -> dict[str, object]:
    """What the audit chain records of a poll's question and rules (checked by meeting.voting.verify)."""
    return {
        "poll": poll.id,
        "item": poll.item_id,
        "question": poll.question,
        "kind": str(poll.kind),
        "method": str(poll.method),
        "options": json.loads(poll.options),
        "maxSelections": poll.max_selections,
        "rule": str(poll.rule),
        "quorumRequired": poll.quorum_required,
        "allowChange": poll.allow_change,
    }


async def create_poll(session: AsyncSession, access: MeetingAccess, data: PollCreate) -> PollRead:
    """A draft poll on an agenda item, by the chair or secretary."""
    access.require_manager()
    if access.meeting.status in (MeetingStatus.ended, MeetingStatus.archived, MeetingStatus.cancelled):
        raise InvalidState(
            Code.MEETING_NOT_EDITABLE, f"meeting {access.meeting.id} is {access.meeting.status}; no new polls"
        )
    await _check_item(session, access, data.item_id)
    labels, seats = _spec_from(data.method, data.options, data.max_selections, data.kind, data.allow_change)
    poll = Poll(
        meeting_id=access.meeting.id,
        item_id=data.item_id,
        question=data.question,
        kind=data.kind,
        method=data.method,
        options=json.dumps(labels, ensure_ascii=False),
        max_selections=seats,
        rule=data.rule,
        quorum_required=data.quorum_required,
        allow_change=data.allow_change,
        state=PollState.draft,
        eligible_count=0,
        members_count=0,
        quorum_fraction=access.meeting.quorum_fraction,
        created_by_id=access.user.id,
        created_at=utcnow(),
    )
    session.add(poll)
    await session.flush()
    await audit.append(session, poll.meeting_id, "poll.create", {**poll_facts(poll), "by": access.user.id})
    await session.commit()
    return await read_for(session, poll, access)


async def update_poll(
    session: AsyncSession, access: MeetingAccess, poll_id: int, data: PollUpdate
) -> PollRead:
    """Edit a draft poll."""
    access.require_manager()
    poll = await get_poll(session, access, poll_id)
    if poll.state != PollState.draft:
        raise InvalidState(Code.POLL_NOT_DRAFT, f"poll {poll.id} is {poll.state}; only drafts can be edited")
    method = data.method or poll.method
    kind = data.kind or poll.kind
    allow_change = poll.allow_change if data.allow_change is None else data.allow_change
    options = data.options
    if options is None and method == poll.method:
        options = json.loads(poll.options)
    labels, seats = _spec_from(
        method, options, data.max_selections or poll.max_selections, kind, allow_change
    )
    poll.question = data.question or poll.question
    poll.kind, poll.method, poll.allow_change = kind, method, allow_change
    poll.options, poll.max_selections = json.dumps(labels, ensure_ascii=False), seats
    poll.rule = data.rule or poll.rule
    if data.quorum_required is not None:
        poll.quorum_required = data.quorum_required
    await session.flush()
    await audit.append(session, poll.meeting_id, "poll.edit", {**poll_facts(poll), "by": access.user.id})
    await session.commit()
    return await read_for(session, poll, access)


async def _transition(session: AsyncSession, poll: Poll, source: PollState, target: PollState) -> None:
    """The one gate of the poll lifecycle: a conditional UPDATE, so two racing chairs cannot both win."""
    if poll.state != source:
        raise InvalidState(
            Code.POLL_INVALID_TRANSITION, f"poll {poll.id} is {poll.state}; it cannot become {target}"
        )
    try:
        result = await session.execute(
            update(Poll).where(Poll.id == poll.id, Poll.state == source).values(state=target)
        )
    except IntegrityError as exc:  # the one-open-poll-per-meeting index: another poll opened meanwhile
        refused = f"another poll of meeting {poll.meeting_id} was opened at the same moment as poll {poll.id}"
        await session.rollback()
        raise InvalidState(Code.POLL_ANOTHER_OPEN, refused) from exc
    if result.rowcount != 1:  # type: ignore[attr-defined]
        refused = f"poll {poll.id} is no longer {source}; it cannot become {target}"
        await session.rollback()  # expires every loaded row: build the message before
        raise InvalidState(Code.POLL_INVALID_TRANSITION, refused)
    poll.state = target


async def open_poll(session: AsyncSession, broker: Broker, access: MeetingAccess, poll_id: int) -> PollRead:
    """draft → open: freeze the eligible voters (voting participants checked in, in the room or online)."""
    access.require_chair()
    poll = await get_poll(session, access, poll_id)
    meeting = access.meeting
    if poll.state == PollState.draft and meeting.status != MeetingStatus.live:
        raise InvalidState(
            Code.MEETING_NOT_LIVE, f"meeting {meeting.id} is {meeting.status}; polls open while it is live"
        )
    other = await session.scalar(
        select(Poll.id).where(Poll.meeting_id == meeting.id, Poll.state == PollState.open, Poll.id != poll.id)
    )
    if other is not None and poll.state == PollState.draft:
        raise InvalidState(
            Code.POLL_ANOTHER_OPEN, f"poll {other} is still open; close it before opening poll {poll.id}"
        )
    await _transition(session, poll, PollState.draft, PollState.open)
    members = list(
        await session.scalars(
            select(Participant).where(Participant.meeting_id == meeting.id, Participant.voting.is_(True))
        )
    )
    eligible = [p for p in members if p.attendance in PRESENT]
    if eligible:
        await session.execute(
            insert(PollVoter),
            [{"poll_id": poll.id, "participant_id": p.id, "user_id": p.user_id} for p in eligible],
        )
    poll.eligible_count, poll.members_count = len(eligible), len(members)
    poll.quorum_fraction = meeting.quorum_fraction
    poll.opened_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        meeting.id,
        "poll.open",
        {
            "poll": poll.id,
            "eligible": sorted(p.id for p in eligible),
            "members": len(members),
            "quorumFraction": meeting.quorum_fraction,
            "by": access.user.id,
        },
    )
    await broker.commit(session, meeting.id, [PollOpened(poll=await read(session, poll, False))])
    return await read_for(session, poll, access)


async def _named_or_open_ballots(session: AsyncSession, poll: Poll) -> list[tuple[int, ...]]:
    return [
        tuple(json.loads(c))
        for c in await session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll.id))
    ]


async def _unseal_secret_ballots(session: AsyncSession, sealer: Sealer, poll: Poll) -> list[tuple[int, ...]]:
    """Open a closing poll's sealed ballots, move choices and receipts apart, delete the sealed rows.

    Written in the close's transaction: the choices in a shuffled order under random keys, the receipt
    hashes in hash order; neither table says which receipt goes with which choice, nor in what order
    anyone voted. Returns the choices for the count.
    """
    rows = (
        await session.execute(
            select(SealedBallot.sealed, SealedBallot.receipt_hash).where(SealedBallot.poll_id == poll.id)
        )
    ).all()
    try:
        choices = [sealer.unseal(poll.id, sealed) for sealed, _ in rows]
    except UnreadableBallot as exc:
        # Another server key than the one that sealed them: refuse to count rather than miscount.
        raise InternalError(Code.POLL_BALLOTS_UNREADABLE, str(exc)) from exc
    secrets.SystemRandom().shuffle(choices)
    if choices:
        await session.execute(
            insert(SecretChoice),
            [
                {"id": secrets.token_hex(16), "poll_id": poll.id, "choice": json.dumps(list(c))}
                for c in choices
            ],
        )
        await session.execute(
            insert(SecretReceipt),
            [{"poll_id": poll.id, "receipt_hash": h} for h in sorted(h for _, h in rows)],
        )
    await session.execute(delete(SealedBallot).where(SealedBallot.poll_id == poll.id))
    return choices


def secret_ballots_digest(receipt_hashes: list[str], choices: list[list[int]]) -> str:
    """The hash, frozen in the result, of a secret poll's published receipts and choices (both sorted)."""
    listing = {"receipts": sorted(receipt_hashes), "choices": sorted(choices)}
    return hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()


async def close_poll(
    session: AsyncSession, broker: Broker, sealer: Sealer, access: MeetingAccess, poll_id: int
) -> PollRead:
    """open → closed: no more ballots; count them and freeze the result."""
    access.require_chair()
    poll = await get_poll(session, access, poll_id)
    await _transition(session, poll, PollState.open, PollState.closed)
    # Counted after the guarded UPDATE: every ballot committed before it is here, none can follow.
    if poll.kind == PollKind.secret:
        ballots = await _unseal_secret_ballots(session, sealer, poll)
    else:
        ballots = await _named_or_open_ballots(session, poll)
    outcome = decide(spec_of(poll), ballots, poll.eligible_count, poll.members_count, poll.quorum_fraction)
    voters = None
    digest = None
    if poll.kind == PollKind.named:
        rows = await session.execute(
            select(Ballot.participant_id, Ballot.choice, Participant)
            .join(Participant, Participant.id == Ballot.participant_id)
            .where(Ballot.poll_id == poll.id)
            .order_by(Ballot.participant_id)
        )
        voters = [
            NamedChoice(participant_id=pid, display_name=p.user.display_name, choice=json.loads(choice))
            for pid, choice, p in rows.all()
        ]
    elif poll.kind == PollKind.secret:
        hashes = list(
            await session.scalars(select(SecretReceipt.receipt_hash).where(SecretReceipt.poll_id == poll.id))
        )
        digest = secret_ballots_digest(hashes, [list(c) for c in ballots])
    result = PollResult(
        counts=list(outcome.counts),
        ballots=outcome.ballots,
        abstentions=outcome.abstentions,
        eligible=outcome.eligible,
        members=outcome.members,
        turnout=outcome.turnout,
        quorum_required=poll.quorum_required,
        quorum_needed=outcome.quorum_needed,
        quorum_met=outcome.quorum_met,
        passed=outcome.passed,
        chosen=list(outcome.chosen),
        tie=outcome.tie,
        voters=voters,
        ballots_digest=digest,
    )
    encoded = msgspec.json.encode(result).decode()
    closed_at = utcnow()
    await session.execute(update(Poll).where(Poll.id == poll.id).values(result=encoded, closed_at=closed_at))
    poll.result, poll.closed_at = encoded, closed_at
    await audit.append(
        session,
        poll.meeting_id,
        "poll.close",
        {"poll": poll.id, "result": hashlib.sha256(encoded.encode()).hexdigest(), "by": access.user.id},
    )
    await broker.commit(
        session,
        poll.meeting_id,
        [PollClosed(poll_id=poll.id, cast=outcome.ballots, eligible=poll.eligible_count)],
    )
    return await read_for(session, poll, access)


async def publish_poll(
    session: AsyncSession, broker: Broker, access: MeetingAccess, poll_id: int
) -> PollRead:
    """closed → published: everyone sees the result."""
    access.require_chair()
    poll = await get_poll(session, access, poll_id)
    await _transition(session, poll, PollState.closed, PollState.published)
    poll.published_at = utcnow()
    await session.flush()
    await audit.append(session, poll.meeting_id, "poll.publish", {"poll": poll.id, "by": access.user.id})
    await broker.commit(session, poll.meeting_id, [PollPublished(poll=await read(session, poll, True))])
    return await read_for(session, poll, access)


async def poll_result(session: AsyncSession, access: MeetingAccess, poll_id: int) -> PollResult:
    """The frozen result: for the chair and secretary once closed, for everyone once published."""
    poll = await get_poll(session, access, poll_id)
    result = result_of(poll)
    if result is None:
        raise InvalidState(
            Code.POLL_RESULT_NOT_READY, f"poll {poll.id} is {poll.state}; its result exists once it is closed"
        )
    if not may_see_result(poll, access):
        raise InvalidState(
            Code.POLL_NOT_PUBLISHED, f"poll {poll.id} is closed; its result is not published yet"
        )
    return result


# ---------------------------------------------------------------------------------------------- ballots


def _receipt_hash(poll_id: int, receipt: str) -> str:
    normalized = receipt.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(f"{poll_id}:{normalized}".encode()).hexdigest()


def _new_receipt() -> str:
    # 80 random bits in four groups of four characters, easy for a person to read out.
    code = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


async def _voter(session: AsyncSession, access: MeetingAccess, poll: Poll) -> Participant:
    participant = access.participant
    if participant is None:
        raise Forbidden(Code.POLL_DELEGATES_ONLY, f"only delegates of meeting {access.meeting.id} can vote")
    eligible = await session.scalar(
        select(PollVoter.participant_id).where(
            PollVoter.poll_id == poll.id, PollVoter.participant_id == participant.id
        )
    )
    if eligible is None:
        raise Forbidden(
            Code.POLL_NOT_ELIGIBLE, f"participant {participant.id} is not eligible in poll {poll.id}"
        )
    return participant


async def cast_ballot(
    session: AsyncSession,
    broker: Broker,
    sealer: Sealer,
    access: MeetingAccess,
    poll_id: int,
    data: BallotCast,
) -> BallotReceipt:
    """Record one ballot: refused when the poll is not open, the caller not eligible, or already voted."""
    poll = await get_poll(session, access, poll_id)
    if poll.state != PollState.open:
        raise InvalidState(Code.POLL_NOT_OPEN, _not_open(poll))
    participant = await _voter(session, access, poll)
    try:
        choice = check_ballot(spec_of(poll), data.choice)
    except ValueError as exc:
        raise InvalidInput(Code.POLL_INVALID_CHOICE, f"poll {poll.id}: {exc}") from exc
    encoded = json.dumps(list(choice))
    if not await _guard_open(session, poll.id):
        refused = f"poll {poll.id} is closed; ballots are no longer accepted"
        await session.rollback()  # expires every loaded row: build messages before
        raise InvalidState(Code.POLL_NOT_OPEN, refused)
    already = f"participant {participant.id} already voted in poll {poll.id}"
    receipt = None
    changed = False
    try:
        if poll.kind == PollKind.secret:
            # Two rows in one transaction, which a copy of the database can pair: so the ballot's
            # content is sealed until the close (see sealing.py).
            await session.execute(insert(PollVoted).values(poll_id=poll.id, participant_id=participant.id))
            receipt = _new_receipt()
            await session.execute(
                insert(SealedBallot).values(
                    id=secrets.token_hex(16),
                    poll_id=poll.id,
                    sealed=sealer.seal(poll.id, choice),
                    receipt_hash=_receipt_hash(poll.id, receipt),
                )
            )
            await audit.append(session, poll.meeting_id, "ballot.secret", {"poll": poll.id})
        else:
            existing = None
            if poll.allow_change:
                existing = await session.scalar(
                    select(Ballot).where(Ballot.poll_id == poll.id, Ballot.participant_id == participant.id)
                )
            if existing is not None:
                existing.choice, existing.cast_at, changed = encoded, utcnow(), True
                await session.flush()
            else:
                await session.execute(
                    insert(Ballot).values(
                        poll_id=poll.id, participant_id=participant.id, choice=encoded, cast_at=utcnow()
                    )
                )
            await audit.append(
                session,
                poll.meeting_id,
                "ballot.change" if changed else "ballot.cast",
                {"poll": poll.id, "participant": participant.id, "choice": list(choice)},
            )
    except IntegrityError as exc:  # the constraint decides, also between simultaneous requests
        await session.rollback()
        raise Conflict(Code.POLL_ALREADY_VOTED, already) from exc
    # Counted after the audit append took the chain's lock: ballots pass it one by one, so the
    # progress they announce only ever grows.
    cast = await cast_count(session, poll)
    await broker.commit(
        session, poll.meeting_id, [PollProgress(poll_id=poll.id, cast=cast, eligible=poll.eligible_count)]
    )
    return BallotReceipt(poll_id=poll.id, choice=list(choice), changed=changed, receipt=receipt)


async def _guard_open(session: AsyncSession, poll_id: int) -> bool:
    """Lock the poll against closing for the rest of this transaction; False if it is no longer open."""
    if session.get_bind().dialect.name == "postgresql":
        # A shared row lock: ballots run side by side, the close's UPDATE waits for them all, and a
        # ballot that waited behind the close re-reads the row and finds it closed.
        locked = await session.scalar(
            select(Poll.id).where(Poll.id == poll_id, Poll.state == PollState.open).with_for_update(read=True)
        )
        return locked is not None
    # SQLite reads outside a transaction until the first write; a no-op UPDATE takes the database
    # write lock now, so the state it checks cannot change before this ballot commits.
    guard = await session.execute(
        update(Poll).where(Poll.id == poll_id, Poll.state == PollState.open).values(state=Poll.state)
    )
    return bool(guard.rowcount == 1)  # type: ignore[attr-defined]


def _not_open(poll: Poll) -> str:
    if poll.state == PollState.draft:
        return f"poll {poll.id} is not open yet"
    return f"poll {poll.id} is {poll.state}; ballots are no longer accepted"


async def ballot_status(session: AsyncSession, access: MeetingAccess, poll_id: int) -> BallotStatus:
    """Whether I may vote in this poll, whether I did, and my choice unless the poll is secret."""
    poll = await get_poll(session, access, poll_id)
    participant = access.participant
    if participant is None:
        return BallotStatus(poll_id=poll.id, eligible=False, voted=False, can_change=False)
    eligible = (
        await session.scalar(
            select(PollVoter.participant_id).where(
                PollVoter.poll_id == poll.id, PollVoter.participant_id == participant.id
            )
        )
    ) is not None
    choice: list[int] | None = None
    if poll.kind == PollKind.secret:
        voted = (
            await session.scalar(
                select(PollVoted.participant_id).where(
                    PollVoted.poll_id == poll.id, PollVoted.participant_id == participant.id
                )
            )
        ) is not None
    else:
        stored = await session.scalar(
            select(Ballot.choice).where(Ballot.poll_id == poll.id, Ballot.participant_id == participant.id)
        )
        voted = stored is not None
        choice = json.loads(stored) if stored is not None else None
    can_change = eligible and poll.state == PollState.open and (not voted or poll.allow_change)
    return BallotStatus(poll_id=poll.id, eligible=eligible, voted=voted, can_change=can_change, choice=choice)


# --------------------------------------------------------------------------------------------- receipts


async def _published_secret(session: AsyncSession, access: MeetingAccess, poll_id: int) -> Poll:
    poll = await get_poll(session, access, poll_id)
    if poll.kind != PollKind.secret:
        raise InvalidInput(
            Code.POLL_NOT_SECRET, f"poll {poll.id} is {poll.kind}; receipts belong to secret polls"
        )
    if poll.state != PollState.published:
        raise InvalidState(
            Code.POLL_NOT_PUBLISHED, f"poll {poll.id} is {poll.state}; its ballots are listed once published"
        )
    return poll


async def published_ballots(session: AsyncSession, access: MeetingAccess, poll_id: int) -> PublishedBallots:
    """A published secret poll's receipt hashes and choices, each list sorted on its own."""
    poll = await _published_secret(session, access, poll_id)
    hashes = await session.scalars(
        select(SecretReceipt.receipt_hash)
        .where(SecretReceipt.poll_id == poll.id)
        .order_by(SecretReceipt.receipt_hash)
    )
    choices = await session.scalars(select(SecretChoice.choice).where(SecretChoice.poll_id == poll.id))
    return PublishedBallots(receipt_hashes=list(hashes), choices=sorted(json.loads(c) for c in choices))


async def verify_receipt(
    session: AsyncSession, access: MeetingAccess, poll_id: int, receipt: str
) -> ReceiptVerdict:
    """Whether the receipt's ballot was counted. Never which choice it carries: a receipt that proved
    the choice would let a voter prove their vote to whoever buys or forces it."""
    poll = await _published_secret(session, access, poll_id)
    digest = _receipt_hash(poll.id, receipt)
    found = await session.scalar(
        select(SecretReceipt.receipt_hash).where(
            SecretReceipt.poll_id == poll.id, SecretReceipt.receipt_hash == digest
        )
    )
    return ReceiptVerdict(found=found is not None, receipt_hash=digest)
