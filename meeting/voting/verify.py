"""Checking the stored record against the audit chain: the second half of `meeting audit verify`.

The chain (meeting/audit.py) proves that its own entries are unchanged. This proves that the rows
they describe are unchanged too: each meeting's chain is replayed into the facts it records (who took
part in what role, attendance, statuses, every poll's rules and ballots, conclusions and documents by
hash, the minutes' steps and stored copies), which are compared with the stored rows; every closed
poll is recounted from its ballots; every stored file is hashed again. The first difference is
reported with what is stored and what the chain (or the recount) says.

A meeting whose chain starts with `meeting.create` is checked completely: a row the chain does not
know is a discrepancy too. Meetings from before the whole record was chained (only their polls were)
are checked for what their chain holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import func, select

from meeting.agenda.models import AgendaItem, Meeting, Participant
from meeting.agenda.service import meeting_facts, participant_facts
from meeting.audit import AuditEntry
from meeting.docs.models import Document, DocumentVersion
from meeting.voting.conclusions import text_hash
from meeting.voting.models import (
    Ballot,
    Conclusion,
    MinutesCopy,
    Poll,
    PollVoted,
    PollVoter,
    SealedBallot,
    SecretChoice,
    SecretReceipt,
)
from meeting.voting.service import poll_facts, result_of, secret_ballots_digest, spec_of
from meeting.voting.tally import PollKind, decide

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.docs.storage import BlobStore

MINUTES_STEPS = {"minutes.submit": "submitted", "minutes.return": "draft", "minutes.approve": "approved"}
POLL_STEPS = {"poll.open": "open", "poll.close": "closed", "poll.publish": "published"}


@dataclass(frozen=True)
class Discrepancy:
    """The first stored fact that differs from what the chain records."""

    meeting_id: int
    what: str
    stored: object
    recorded: object

    def __str__(self) -> str:
        return (
            f"record MISMATCH in meeting {self.meeting_id}: {self.what}: stored {_show(self.stored)}, "
            f"the chain says {_show(self.recorded)}"
        )


def _show(value: object) -> str:
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False, default=str)


@dataclass
class PollFacts:
    """One poll as its chain entries describe it."""

    rules: dict[str, Any] | None = None
    state: str = "draft"
    eligible: list[int] | None = None
    members: int | None = None
    quorum_fraction: float | None = None
    result_hash: str | None = None
    named: dict[int, list[int]] = field(default_factory=dict)
    secret_ballots: int = 0
    # A secret poll closed before its ballots were split (migration 0005): the digest chained then.
    split_digest: str | None = None


@dataclass
class Recorded:
    """Everything one meeting's chain says, replayed in order."""

    complete: bool = False
    details: dict[str, Any] | None = None
    status: str | None = None
    items: dict[int, str] = field(default_factory=dict)
    participants: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # None: removed
    names: dict[int, str] = field(default_factory=dict)
    attendance: dict[int, tuple[str, str]] = field(default_factory=dict)
    polls: dict[int, PollFacts] = field(default_factory=dict)
    conclusions: dict[tuple[int, int], str] = field(default_factory=dict)
    versions: dict[int, tuple[int, str]] = field(default_factory=dict)
    # The signature field a version was made by adding (the chair's, on a resolution).
    signed_versions: dict[int, str] = field(default_factory=dict)
    removed_documents: set[int] = field(default_factory=set)
    minutes: str | None = None
    copies: dict[int, str] = field(default_factory=dict)


def _without_by(payload: dict[str, Any]) -> dict[str, Any]:
    # Who did it, and a participant's name at the time, are kept for the reader, not compared with rows.
    return {k: v for k, v in payload.items() if k not in ("by", "name")}


def replay(entries: list[AuditEntry]) -> Recorded:
    """The facts a meeting's chain records, the later entry winning."""
    recorded = Recorded()
    for entry in entries:
        action, data = entry.action, json.loads(entry.payload)
        if action == "meeting.create":
            recorded.complete = True
            recorded.details, recorded.status = _without_by(data), "draft"
        elif action == "meeting.edit":
            recorded.details = _without_by(data)
        elif action == "meeting.status":
            recorded.status = data["status"]
        elif action == "item.status":
            recorded.items[data["item"]] = data["status"]
        elif action in ("participant.add", "participant.change"):
            recorded.participants[data["participant"]] = _without_by(data)
            recorded.names[data["participant"]] = data.get("name", "")
        elif action == "participant.remove":
            recorded.participants[data["participant"]] = None
        elif action == "attendance":
            recorded.attendance[data["participant"]] = (data["attendance"], data["reason"])
        elif action.startswith(("poll.", "ballot.")):
            poll = recorded.polls.setdefault(data["poll"], PollFacts())
            if action in ("poll.create", "poll.edit"):
                poll.rules = _without_by(data)
            elif action in POLL_STEPS:
                poll.state = POLL_STEPS[action]
            if action == "poll.open":
                poll.eligible, poll.members = data["eligible"], data["members"]
                poll.quorum_fraction = data.get("quorumFraction")
            elif action == "poll.close":
                poll.result_hash = data["result"]
            elif action in ("ballot.cast", "ballot.change"):
                poll.named[data["participant"]] = data["choice"]
            elif action == "ballot.secret":
                poll.secret_ballots += 1
            elif action == "poll.ballots_split":
                poll.split_digest = data["ballotsDigest"]
        elif action == "conclusion":
            recorded.conclusions[(data["item"], data["version"])] = data["sha256"]
        elif action == "document.version":
            recorded.versions[data["version"]] = (data["document"], data["sha256"])
            if "signature" in data:
                recorded.signed_versions[data["version"]] = data["signature"]
        elif action == "document.remove":
            recorded.removed_documents.add(data["document"])
        elif action in MINUTES_STEPS:
            recorded.minutes = MINUTES_STEPS[action]
            if action == "minutes.approve":
                recorded.copies[data["copy"]] = data["sha256"]
        elif action == "minutes.sign":
            recorded.copies[data["copy"]] = data["sha256"]
    return recorded


def _file_hash(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Checker:
    """Compares one meeting's rows with its replayed chain; `differences` yields each mismatch."""

    def __init__(self, session: AsyncSession, store: BlobStore, meeting: Meeting, recorded: Recorded) -> None:
        self.session, self.store, self.meeting, self.recorded = session, store, meeting, recorded

    def _diff(self, what: str, stored: object, recorded: object) -> Discrepancy | None:
        return None if stored == recorded else Discrepancy(self.meeting.id, what, stored, recorded)

    async def first(self) -> Discrepancy | None:
        for check in (
            self._meeting,
            self._participants,
            self._items,
            self._polls,
            self._conclusions,
            self._documents,
            self._minutes,
        ):
            found = await check()
            if found is not None:
                return found
        return None

    async def _meeting(self) -> Discrepancy | None:
        recorded, meeting = self.recorded, self.meeting
        if recorded.details is not None and (
            found := self._diff("its details", meeting_facts(meeting), recorded.details)
        ):
            return found
        if recorded.status is not None:
            return self._diff("its status", str(meeting.status), recorded.status)
        return None

    async def _participants(self) -> Discrepancy | None:
        recorded = self.recorded
        rows = {
            p.id: p
            for p in await self.session.scalars(
                select(Participant).where(Participant.meeting_id == self.meeting.id)
            )
        }
        for pid in sorted(set(rows) | set(recorded.participants)):
            row = rows.get(pid)
            if pid not in recorded.participants and not recorded.complete:
                continue
            stored = _without_by(participant_facts(row)) if row is not None else None
            if found := self._diff(f"participant {pid}", stored, recorded.participants.get(pid)):
                return found
            if row is not None and (recorded.complete or pid in recorded.attendance):
                attendance = recorded.attendance.get(pid, ("expected", ""))
                stored_attendance = (str(row.attendance), row.absence_reason)
                if found := self._diff(f"participant {pid}'s attendance", stored_attendance, attendance):
                    return found
        return None

    async def _items(self) -> Discrepancy | None:
        items = await self.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == self.meeting.id))
        for item in sorted(items, key=lambda i: i.id):
            if item.id in self.recorded.items or self.recorded.complete:
                recorded = self.recorded.items.get(item.id, "pending")
                if found := self._diff(f"agenda item {item.id}'s status", str(item.status), recorded):
                    return found
        return None

    async def _polls(self) -> Discrepancy | None:
        polls = {
            p.id: p
            for p in await self.session.scalars(select(Poll).where(Poll.meeting_id == self.meeting.id))
        }
        for poll_id in sorted(set(polls) | set(self.recorded.polls)):
            poll, facts = polls.get(poll_id), self.recorded.polls.get(poll_id)
            if poll is None or facts is None:
                return Discrepancy(
                    self.meeting.id,
                    f"poll {poll_id}",
                    "a poll" if poll else None,
                    "a poll" if facts else None,
                )
            for found in self._poll(poll, facts):
                return found
            async for found in self._ballots(poll, facts):
                return found
        return None

    def _poll(self, poll: Poll, facts: PollFacts) -> Iterator[Discrepancy]:
        what = f"poll {poll.id}"
        checks: list[tuple[str, object, object]] = [
            ("'s question and rules", _without_by(poll_facts(poll)), facts.rules),
            ("'s state", str(poll.state), facts.state),
        ]
        if facts.eligible is not None:
            checks += [
                ("'s eligible voters", poll.eligible_count, len(facts.eligible)),
                ("'s members", poll.members_count, facts.members),
            ]
        if facts.quorum_fraction is not None:
            checks.append(("'s quorum fraction", poll.quorum_fraction, facts.quorum_fraction))
        for name, stored, recorded in checks:
            if (found := self._diff(what + name, stored, recorded)) is not None:
                yield found

    async def _ballots(self, poll: Poll, facts: PollFacts) -> AsyncIterator[Discrepancy]:
        session, what = self.session, f"poll {poll.id}"
        if facts.eligible is not None:
            voters = sorted(
                await session.scalars(select(PollVoter.participant_id).where(PollVoter.poll_id == poll.id))
            )
            if found := self._diff(what + "'s eligible voters", voters, sorted(facts.eligible)):
                yield found
        if poll.kind == PollKind.secret:
            choices = [
                tuple(json.loads(c))
                for c in await session.scalars(
                    select(SecretChoice.choice).where(SecretChoice.poll_id == poll.id)
                )
            ]
            voted = await _count(session, PollVoted, PollVoted.poll_id == poll.id)
            if found := self._diff(what + "'s voters", voted, facts.secret_ballots):
                yield found
            if poll.result is None:
                sealed = await _count(session, SealedBallot, SealedBallot.poll_id == poll.id)
                if found := self._diff(what + "'s sealed ballots", sealed, facts.secret_ballots):
                    yield found
                return
            receipts = list(
                await session.scalars(
                    select(SecretReceipt.receipt_hash).where(SecretReceipt.poll_id == poll.id)
                )
            )
            if found := self._diff(what + "'s ballots", len(choices), facts.secret_ballots):
                yield found
            if found := self._diff(what + "'s receipts", len(receipts), facts.secret_ballots):
                yield found
            digest = secret_ballots_digest(receipts, [list(c) for c in choices])
            result = result_of(poll)
            frozen = facts.split_digest or (result.ballots_digest if result is not None else None)
            if result is not None and (found := self._diff(what + "'s ballot digest", digest, frozen)):
                yield found
        else:
            rows = (
                await session.execute(
                    select(Ballot.participant_id, Ballot.choice).where(Ballot.poll_id == poll.id)
                )
            ).all()
            stored = {pid: json.loads(choice) for pid, choice in rows}
            if found := self._diff(what + "'s ballots", _keyed(stored), _keyed(facts.named)):
                yield found
            choices = [tuple(c) for c in stored.values()]
        result = result_of(poll)
        if result is None:
            if found := self._diff(what + "'s result", None, facts.result_hash):
                yield found
            return
        outcome = decide(
            spec_of(poll), choices, poll.eligible_count, poll.members_count, poll.quorum_fraction
        )
        recount = {
            "counts": list(outcome.counts),
            "ballots": outcome.ballots,
            "abstentions": outcome.abstentions,
            "quorumMet": outcome.quorum_met,
            "passed": outcome.passed,
            "chosen": list(outcome.chosen),
            "tie": outcome.tie,
        }
        stored_result = {key: msgspec.to_builtins(result)[key] for key in recount}
        if found := self._diff(what + "'s result (recounted from its ballots)", stored_result, recount):
            yield found
        if result.voters is not None:
            named = {v.participant_id: v.choice for v in result.voters}
            if found := self._diff(what + "'s named votes in the result", _keyed(named), _keyed(facts.named)):
                yield found
        # Last: with the recount equal, a result that differs in any other way differs from the chain.
        stored_hash = hashlib.sha256((poll.result or "").encode()).hexdigest()
        if found := self._diff(what + "'s result", stored_hash, facts.result_hash):
            yield found

    async def _conclusions(self) -> Discrepancy | None:
        rows = await self.session.scalars(select(Conclusion).where(Conclusion.meeting_id == self.meeting.id))
        stored = {(c.item_id, c.version): text_hash(c.text) for c in rows}
        recorded = self.recorded.conclusions
        for key in sorted(set(stored) | set(recorded)):
            if key not in recorded and not self.recorded.complete:
                continue
            item, version = key
            if found := self._diff(
                f"the conclusion of item {item}, version {version}", stored.get(key), recorded.get(key)
            ):
                return found
        return None

    async def _documents(self) -> Discrepancy | None:
        rows = (
            await self.session.execute(
                select(DocumentVersion, Document)
                .join(Document, Document.id == DocumentVersion.document_id)
                .where(Document.meeting_id == self.meeting.id)
            )
        ).all()
        recorded = self.recorded.versions
        seen: set[int] = set()
        for version, document in sorted(rows, key=lambda r: r[0].id):
            seen.add(version.id)
            if version.id in recorded or self.recorded.complete:
                what = f"document {document.id}, version {version.number}"
                if found := self._diff(what, (document.id, version.sha256), recorded.get(version.id)):
                    return found
                signature = self.recorded.signed_versions.get(version.id)
                if found := self._diff(f"the signature of {what}", version.signature_field, signature):
                    return found
            what = f"the file of document {document.id}, version {version.number}"
            if found := self._diff(what, _file_hash(self.store.blob_path(version.sha256)), version.sha256):
                return found
        for version_id in sorted(set(recorded) - seen):
            return Discrepancy(self.meeting.id, f"document version {version_id}", None, recorded[version_id])
        documents = await self.session.scalars(select(Document).where(Document.meeting_id == self.meeting.id))
        for document in documents:
            if document.id in self.recorded.removed_documents or self.recorded.complete:
                removed = document.id in self.recorded.removed_documents
                if found := self._diff(
                    f"document {document.id} removed", document.deleted_at is not None, removed
                ):
                    return found
        return None

    async def _minutes(self) -> Discrepancy | None:
        recorded = self.recorded
        if recorded.minutes is not None or recorded.complete:
            status = recorded.minutes or "draft"
            if found := self._diff("its minutes", str(self.meeting.minutes_status), status):
                return found
        copies = await self.session.scalars(
            select(MinutesCopy).where(MinutesCopy.meeting_id == self.meeting.id)
        )
        stored = {c.number: c.sha256 for c in copies}
        if found := self._diff("its stored minutes", stored, recorded.copies):
            return found
        for number, sha256 in sorted(stored.items()):
            what = f"the file of minutes copy {number}"
            if found := self._diff(what, _file_hash(self.store.blob_path(sha256)), sha256):
                return found
        return None


def _keyed(choices: dict[int, list[int]]) -> dict[str, list[int]]:
    # JSON-friendly (and printable) keys, in order.
    return {str(k): choices[k] for k in sorted(choices)}


async def _count(session: AsyncSession, table: Any, condition: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(table).where(condition)) or 0)


async def check_record(session: AsyncSession, store: BlobStore) -> tuple[int, Discrepancy | None]:
    """Check every meeting's stored record against its chain: (meetings checked, first discrepancy)."""
    entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.meeting_id, AuditEntry.seq)))
    chains: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        chains.setdefault(entry.meeting_id, []).append(entry)
    meetings = {m.id: m for m in await session.scalars(select(Meeting))}
    for meeting_id in sorted(set(chains) | set(meetings)):
        meeting = meetings.get(meeting_id)
        if meeting is None:
            # The chain outlives what it records, but a meeting is never deleted through the server.
            return len(meetings), Discrepancy(meeting_id, "the meeting", None, "a meeting")
        found = await _Checker(session, store, meeting, replay(chains.get(meeting_id, []))).first()
        if found is not None:
            return len(meetings), found
    return len(meetings), None
