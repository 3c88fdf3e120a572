"""Votes, conclusions and minutes: open, named and secret polls, the audit chain, the biên bản."""

from meeting.voting.models import PollState
from meeting.voting.schemas import PollRead, PollResult
from meeting.voting.service import current_poll
from meeting.voting.tally import MajorityRule, PollKind, PollMethod

__all__ = [
    "MajorityRule",
    "PollKind",
    "PollMethod",
    "PollRead",
    "PollResult",
    "PollState",
    "current_poll",
]
