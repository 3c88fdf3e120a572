"""Pure voting rules: counting ballots, quorum and majority. Values in, values out; no session, no clock.

A ballot is the tuple of option indexes the voter selected. For a motion (options yes / no / abstain)
it holds exactly one index; for a choice between custom options at most one; for an election up to
`max_selections` distinct candidates. An empty ballot, or the motion's "abstain" option, is an abstention.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class PollKind(enum.StrEnum):
    """Who may know what: `open` publishes totals, `named` who voted what, `secret` nothing linkable."""

    open = "open"
    named = "named"
    secret = "secret"


class PollMethod(enum.StrEnum):
    """The shape of the options: a yes/no/abstain motion, one of several options, or an election."""

    motion = "motion"
    choice = "choice"
    election = "election"


class MajorityRule(enum.StrEnum):
    """When a motion (or an option, or a candidate) passes."""

    simple = "simple"  # yes > no
    absolute = "absolute"  # yes > half of the ballots cast, abstentions included
    members = "members"  # yes > half of all voting members of the meeting
    two_thirds = "two_thirds"  # yes >= two thirds of the ballots cast


MOTION_OPTIONS = ("yes", "no", "abstain")
YES, NO, ABSTAIN = 0, 1, 2


@dataclass(frozen=True)
class PollSpec:
    """What a poll asks: its method, options, rule and whether quorum is required."""

    method: PollMethod
    options: tuple[str, ...]
    rule: MajorityRule
    max_selections: int = 1
    quorum_required: bool = True


@dataclass(frozen=True)
class Outcome:
    """The counted result of one poll."""

    counts: tuple[int, ...]  # per option, in option order (a motion's abstentions are its third count)
    ballots: int  # ballots cast, abstentions included
    abstentions: int
    eligible: int
    members: int
    turnout: float  # ballots / eligible (0 when nobody was eligible)
    quorum_needed: int
    quorum_met: bool
    passed: bool  # a motion passed; for a choice or an election: somebody/something was chosen
    chosen: tuple[int, ...]  # indexes of the options or candidates that won
    tie: bool  # a tie kept a seat (or the single choice) undecided


def check_ballot(spec: PollSpec, selection: Sequence[int]) -> tuple[int, ...]:
    """The ballot as a sorted tuple of distinct indexes; ValueError with a reason if it breaks the spec."""
    picked = tuple(sorted(set(selection)))
    if len(picked) != len(selection):
        raise ValueError("an option is selected more than once")
    if any(i < 0 or i >= len(spec.options) for i in picked):
        raise ValueError(f"options are numbered 0 to {len(spec.options) - 1}")
    if spec.method == PollMethod.motion and len(picked) != 1:
        raise ValueError("a motion takes exactly one of yes, no or abstain")
    limit = spec.max_selections if spec.method == PollMethod.election else 1
    if len(picked) > limit:
        raise ValueError(f"at most {limit} selection(s) allowed")
    return picked


def quorum_needed(members: int, fraction: float) -> int:
    """Ballots needed for quorum: the fraction of voting members, rounded up (the same rule as roll call)."""
    return max(1, math.ceil(members * fraction - 1e-9))


def reaches(votes: int, rule: MajorityRule, ballots: int, members: int, against: int) -> bool:
    """Whether `votes` in favour meet the rule; integers only, so "exactly half" is never a float accident."""
    if votes <= 0:
        return False
    if rule == MajorityRule.simple:
        return votes > against
    if rule == MajorityRule.absolute:
        return 2 * votes > ballots
    if rule == MajorityRule.members:
        return 2 * votes > members
    return 3 * votes >= 2 * ballots


def count(spec: PollSpec, ballots: Iterable[Sequence[int]]) -> tuple[tuple[int, ...], int, int]:
    """Counts per option, ballots cast and abstentions."""
    counts = [0] * len(spec.options)
    cast = abstentions = 0
    for ballot in ballots:
        cast += 1
        if not ballot or (spec.method == PollMethod.motion and tuple(ballot) == (ABSTAIN,)):
            abstentions += 1
        for index in ballot:
            counts[index] += 1
    return tuple(counts), cast, abstentions


def decide(
    spec: PollSpec, ballots: Iterable[Sequence[int]], eligible: int, members: int, quorum_fraction: float
) -> Outcome:
    """Count the ballots and apply quorum and the majority rule."""
    counts, cast, abstentions = count(spec, ballots)
    needed = quorum_needed(members, quorum_fraction)
    quorum_met = cast >= needed
    valid = quorum_met or not spec.quorum_required
    chosen: tuple[int, ...] = ()
    tie = False
    if spec.method == PollMethod.motion:
        passed = valid and reaches(counts[YES], spec.rule, cast, members, counts[NO])
        chosen = (YES,) if passed else ()
    else:
        chosen, tie = _winners(spec, counts, cast, members) if valid else ((), False)
        passed = bool(chosen)
    return Outcome(
        counts=counts,
        ballots=cast,
        abstentions=abstentions,
        eligible=eligible,
        members=members,
        turnout=round(cast / eligible, 4) if eligible else 0.0,
        quorum_needed=needed,
        quorum_met=quorum_met,
        passed=passed,
        chosen=chosen,
        tie=tie,
    )


def _winners(
    spec: PollSpec, counts: tuple[int, ...], cast: int, members: int
) -> tuple[tuple[int, ...], bool]:
    """Winners: the most voted, up to the seats, each meeting the rule; a tie at the cut wins nothing."""
    seats = spec.max_selections if spec.method == PollMethod.election else 1
    ranked = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    winners: list[int] = []
    tie = False
    for position, index in enumerate(ranked[:seats]):
        votes = counts[index]
        # Under the simple rule an option must beat the strongest option that does not win.
        runner_up = counts[ranked[seats]] if len(ranked) > seats else 0
        if not reaches(
            votes, spec.rule, cast, members, runner_up if spec.rule == MajorityRule.simple else -1
        ):
            if len(ranked) > seats and votes == counts[ranked[seats]] and votes > 0:
                tie = True
            continue
        # Candidates tied across the last seat share it with nobody: the seat stays open.
        if position < seats and len(ranked) > seats and votes == counts[ranked[seats]]:
            tie = True
            continue
        winners.append(index)
    return tuple(sorted(winners)), tie
