"""Request, response and event shapes for polls, ballots, receipts, conclusions and minutes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from meeting.agenda.models import MinutesStatus
from meeting.broker import Event
from meeting.docs.schemas import SigningSource
from meeting.schemas import LongText, Schema
from meeting.voting.models import PollState
from meeting.voting.tally import MajorityRule, PollKind, PollMethod

Question = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
OptionLabel = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Options = Annotated[list[OptionLabel], msgspec.Meta(min_length=2, max_length=50)]
Selections = Annotated[int, msgspec.Meta(ge=1, le=50)]
Selection = Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=49)]], msgspec.Meta(max_length=50)]
Id = Annotated[int, msgspec.Meta(ge=1)]


class PollCreate(Schema):
    """A new draft poll on an agenda item; a motion (yes / no / abstain) unless options are given."""

    item_id: Id
    question: Question
    kind: PollKind = PollKind.named
    method: PollMethod = PollMethod.motion
    options: Options | None = None
    max_selections: Selections = 1
    rule: MajorityRule = MajorityRule.simple
    quorum_required: bool = True
    allow_change: bool = False


class PollUpdate(Schema):
    """Changes to a draft poll."""

    question: Question | None = None
    kind: PollKind | None = None
    method: PollMethod | None = None
    options: Options | None = None
    max_selections: Selections | None = None
    rule: MajorityRule | None = None
    quorum_required: bool | None = None
    allow_change: bool | None = None


class NamedChoice(Schema):
    """Who chose what, in a named poll."""

    participant_id: int
    display_name: str
    choice: list[int]


class PollResult(Schema):
    """The counted result, frozen when the poll closes."""

    counts: list[int]
    ballots: int
    abstentions: int
    eligible: int
    members: int
    turnout: float
    quorum_required: bool
    quorum_needed: int
    quorum_met: bool
    passed: bool
    chosen: list[int]
    tie: bool
    # Named polls only: every voter and their choice.
    voters: list[NamedChoice] | None = None
    # Secret polls only: digest of the sorted published ballot list, also written to the audit chain.
    ballots_digest: str | None = None


class PollRead(Schema):
    """A poll; `result` only once it is closed, and for managers or everyone once published."""

    id: int
    meeting_id: int
    item_id: int
    question: str
    kind: PollKind
    method: PollMethod
    options: list[str]
    max_selections: int
    rule: MajorityRule
    quorum_required: bool
    allow_change: bool
    state: PollState
    eligible: int
    cast: int
    created_at: dt.datetime
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    published_at: dt.datetime | None
    result: PollResult | None = None


class BallotCast(Schema):
    """A ballot: the indexes of the selected options (empty abstains in a choice or election)."""

    choice: Selection


class BallotReceipt(Schema):
    """What the voter gets back; `receipt` only for secret polls, shown once and stored nowhere in clear."""

    poll_id: int
    choice: list[int]
    changed: bool
    receipt: str | None = None


class BallotStatus(Schema):
    """My standing in a poll: eligible or not, voted or not, my choice when it is not secret."""

    poll_id: int
    eligible: bool
    voted: bool
    can_change: bool
    choice: list[int] | None = None


class PublishedBallots(Schema):
    """A published secret poll's ballots: the counted receipts' hashes and the counted choices.

    Two lists, each sorted on its own, so anyone can recount and each voter can find their receipt,
    but nothing pairs a receipt with a choice.
    """

    receipt_hashes: list[str]
    choices: list[list[int]]


class ReceiptCheck(Schema):
    """A receipt code to look up in the published list."""

    receipt: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ReceiptVerdict(Schema):
    """Whether the receipt's ballot was counted; never its choice (see docs/voting.md, Receipts)."""

    found: bool
    receipt_hash: str


class ConclusionWrite(Schema):
    """A new version of an item's conclusion; `baseVersion` refuses it if someone saved meanwhile."""

    text: Annotated[str, LongText]
    base_version: int | None = None


class ConclusionRead(Schema):
    """One version of a conclusion, with the item's poll results."""

    item_id: int
    version: int
    text: str
    author_id: int | None
    author_name: str
    created_at: dt.datetime
    polls: list[PollRead] = msgspec.field(default_factory=list)


class PollOpened(Event, tag="poll.opened"):
    """A poll opened; eligible delegates see the vote panel."""

    poll: PollRead


class PollProgress(Event, tag="poll.progress"):
    """Ballots cast so far out of eligible; never their content."""

    poll_id: int
    cast: int
    eligible: int


class PollClosed(Event, tag="poll.closed"):
    """A poll closed; the result waits for publication."""

    poll_id: int
    cast: int
    eligible: int


class PollPublished(Event, tag="poll.published"):
    """A poll's result was published."""

    poll: PollRead


class ConclusionChanged(Event, tag="conclusion.changed"):
    """An item's conclusion has a new version."""

    conclusion: ConclusionRead


class MinutesCopyRead(Schema):
    """A stored PDF of the approved minutes: the approved original (number 1), then signed copies."""

    number: int
    sha256: str
    size_bytes: int
    signer_role: str  # "" for the approved original, else "secretary" or "chair"
    signer_name: str
    created_at: dt.datetime


class MinutesState(Schema):
    """Where a meeting's minutes stand: draft, submitted to the chair, approved (and stored)."""

    status: MinutesStatus
    copies: list[MinutesCopyRead]
    # How a signer may sign here: their own PKCS#12 file, the server's token, the demo certificates.
    signing_sources: list[SigningSource]
