"""The pure voting rules, as tables of cases."""

from __future__ import annotations

import pytest

from meeting.voting.tally import MOTION_OPTIONS, MajorityRule, PollMethod, PollSpec, check_ballot, decide

Y, N, A = (0,), (1,), (2,)


def motion(rule: MajorityRule, quorum_required: bool = True) -> PollSpec:
    return PollSpec(PollMethod.motion, MOTION_OPTIONS, rule, quorum_required=quorum_required)


def ballots(yes: int, no: int, abstain: int) -> list[tuple[int, ...]]:
    return [Y] * yes + [N] * no + [A] * abstain


@pytest.mark.parametrize(
    ("rule", "yes", "no", "abstain", "members", "passed"),
    [
        # simple: yes > no
        (MajorityRule.simple, 5, 4, 10, 20, True),
        (MajorityRule.simple, 5, 5, 0, 20, False),  # tie
        (MajorityRule.simple, 0, 0, 12, 20, False),  # all abstain
        (MajorityRule.simple, 1, 0, 11, 20, True),
        # absolute: yes > half of ballots cast, abstentions included
        (MajorityRule.absolute, 6, 2, 4, 20, False),  # exactly half
        (MajorityRule.absolute, 7, 1, 4, 20, True),
        (MajorityRule.absolute, 5, 4, 10, 20, False),  # simple would pass
        (MajorityRule.absolute, 0, 0, 12, 20, False),
        # members: yes > half of all voting members
        (MajorityRule.members, 10, 0, 0, 20, False),  # exactly half of the members
        (MajorityRule.members, 11, 0, 0, 20, True),
        (MajorityRule.members, 11, 9, 0, 21, True),
        (MajorityRule.members, 10, 0, 1, 21, False),
        # two thirds: yes >= two thirds of ballots cast
        (MajorityRule.two_thirds, 8, 4, 0, 20, True),  # exactly two thirds
        (MajorityRule.two_thirds, 7, 4, 1, 20, False),  # one short
        (MajorityRule.two_thirds, 10, 5, 0, 20, True),
        (MajorityRule.two_thirds, 9, 5, 0, 20, False),
        (MajorityRule.two_thirds, 0, 0, 12, 20, False),
    ],
)
def test_motion_rules(
    rule: MajorityRule, yes: int, no: int, abstain: int, members: int, passed: bool
) -> None:
    outcome = decide(
        motion(rule), ballots(yes, no, abstain), eligible=members, members=members, quorum_fraction=0.5
    )
    assert outcome.passed is passed
    assert outcome.counts == (yes, no, abstain)
    assert outcome.abstentions == abstain
    assert outcome.ballots == yes + no + abstain


def test_quorum_just_missed_fails_the_motion_and_just_met_passes_it() -> None:
    # 25 members, half of them rounded up: 13 ballots are needed.
    missed = decide(
        motion(MajorityRule.simple), ballots(12, 0, 0), eligible=20, members=25, quorum_fraction=0.5
    )
    assert (missed.quorum_needed, missed.quorum_met, missed.passed) == (13, False, False)
    met = decide(motion(MajorityRule.simple), ballots(12, 0, 1), eligible=20, members=25, quorum_fraction=0.5)
    assert (met.quorum_met, met.passed) == (True, True)


def test_quorum_not_required_lets_few_ballots_decide() -> None:
    outcome = decide(motion(MajorityRule.simple, quorum_required=False), ballots(2, 1, 0), 20, 25, 0.5)
    assert (outcome.quorum_met, outcome.passed) == (False, True)


def test_turnout_and_no_ballots_at_all() -> None:
    outcome = decide(motion(MajorityRule.simple), [], eligible=0, members=3, quorum_fraction=0.5)
    assert (outcome.turnout, outcome.ballots, outcome.passed) == (0.0, 0, False)
    outcome = decide(
        motion(MajorityRule.simple), ballots(3, 0, 0), eligible=4, members=4, quorum_fraction=0.5
    )
    assert outcome.turnout == 0.75


def test_election_fills_seats_by_votes_and_leaves_a_tied_seat_open() -> None:
    spec = PollSpec(PollMethod.election, ("An", "Bình", "Chi", "Dũng"), MajorityRule.simple, max_selections=2)
    clear = decide(spec, [(0, 1), (0, 2), (0, 1), (3,)], 4, 4, 0.5)
    assert clear.counts == (3, 2, 1, 1)
    assert (clear.chosen, clear.tie, clear.passed) == ((0, 1), False, True)
    tied = decide(spec, [(0, 1), (0, 2), ()], 3, 3, 0.5)
    assert tied.counts == (2, 1, 1, 0)
    assert (tied.chosen, tied.tie, tied.abstentions) == ((0,), True, 1)


def test_election_under_absolute_majority_needs_half_the_ballots_per_candidate() -> None:
    spec = PollSpec(PollMethod.election, ("An", "Bình", "Chi"), MajorityRule.absolute, max_selections=2)
    outcome = decide(spec, [(0, 1), (0, 2), (0,), (1, 2)], 4, 4, 0.5)
    assert outcome.counts == (3, 2, 2)
    assert outcome.chosen == (0,)  # Bình and Chi have exactly half: not more than half


def test_choice_between_options_with_a_tie_chooses_nothing() -> None:
    spec = PollSpec(PollMethod.choice, ("Phương án 1", "Phương án 2"), MajorityRule.simple)
    outcome = decide(spec, [(0,), (1,)], 2, 2, 0.5)
    assert (outcome.chosen, outcome.tie, outcome.passed) == ((), True, False)


@pytest.mark.parametrize(
    ("method", "selection", "reason"),
    [
        (PollMethod.motion, (), "exactly one"),
        (PollMethod.motion, (0, 1), "exactly one"),
        (PollMethod.motion, (3,), "numbered 0 to 2"),
        (PollMethod.election, (0, 1, 2), "at most 2"),
        (PollMethod.election, (1, 1), "more than once"),
        (PollMethod.choice, (0, 1), "at most 1"),
    ],
)
def test_malformed_ballots_are_refused(method: PollMethod, selection: tuple[int, ...], reason: str) -> None:
    spec = PollSpec(method, MOTION_OPTIONS, MajorityRule.simple, max_selections=2)
    with pytest.raises(ValueError, match=reason):
        check_ballot(spec, selection)


def test_an_empty_election_ballot_is_an_abstention() -> None:
    spec = PollSpec(PollMethod.election, ("An", "Bình"), MajorityRule.simple, max_selections=2)
    assert check_ballot(spec, [1, 0]) == (0, 1)
    assert check_ballot(spec, []) == ()
