"""Pure room rules: presenter and page, the speaker queue, pacing of inbound and outbound messages.

No session, no socket, no clock: every function takes values (and `now`, in seconds) and returns values,
so the rules are tested with tables of cases in milliseconds.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from typing import TYPE_CHECKING

from meeting.errors import Code, Conflict, Forbidden, InvalidInput, InvalidState, NotFound

if TYPE_CHECKING:
    from collections.abc import Sequence

# ------------------------------------------------------------------------------------ follow the presenter


@dataclasses.dataclass(frozen=True)
class Viewport:
    """What part of the page the presenter shows: scroll offsets (fractions of the page) and zoom."""

    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0


@dataclasses.dataclass(frozen=True)
class Presenter:
    """Who moves the room, and what they show."""

    user_id: int | None = None
    document_id: int | None = None
    version_id: int | None = None
    page: int = 1
    viewport: Viewport = Viewport()


def set_presenter(state: Presenter, *, actor_is_chair: bool, user_id: int | None) -> Presenter:
    """The chair hands the room to a participant (or takes it back with None); what is shown stays."""
    if not actor_is_chair:
        raise Forbidden(Code.PRESENTER_CHAIR_ONLY, "only the chair can choose who presents")
    return dataclasses.replace(state, user_id=user_id)


def turn_page(
    state: Presenter,
    *,
    actor_id: int,
    actor_is_chair: bool,
    document_id: int,
    version_id: int,
    page: int,
    viewport: Viewport,
) -> Presenter:
    """Move the room to a document page; only the presenter may (the chair too while nobody presents)."""
    if state.user_id != actor_id and not (state.user_id is None and actor_is_chair):
        who = f"user {state.user_id} presents" if state.user_id is not None else "nobody presents"
        raise Forbidden(Code.PRESENTER_ONLY, f"only the presenter moves the room ({who})")
    if page < 1:
        raise InvalidInput(Code.PAGE_OUT_OF_RANGE, f"page {page} is out of range (pages start at 1)")
    if not (0.1 <= viewport.zoom <= 10):
        raise InvalidInput(Code.PAGE_ZOOM_OUT_OF_RANGE, f"zoom {viewport.zoom} is out of range (0.1 to 10)")
    return Presenter(
        user_id=actor_id, document_id=document_id, version_id=version_id, page=page, viewport=viewport
    )


def may_point(state: Presenter, actor_id: int) -> bool:
    """Only the presenter's laser pointer is shown to the room."""
    return state.user_id == actor_id


# ---------------------------------------------------------------------------------------- speaker queue


# A speech's time: the most specific limit set wins (the speaker's, else the item's, else the meeting's).
WARNING_SECONDS = 30  # the countdown turns amber this long before the end
EXTEND_SECONDS = 60  # the chair's "+1 phút"


@dataclasses.dataclass(frozen=True)
class Request:
    """A delegate waiting for the floor on an agenda item (None: asked while no item was active)."""

    user_id: int
    requested_at: float
    item_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Speech:
    """The delegate who has the floor, since when, on which item, and for how long (None: untimed)."""

    user_id: int
    started_at: float
    item_id: int | None = None
    limit: int | None = None


@dataclasses.dataclass(frozen=True)
class Floor:
    """The speaker queues of every agenda item, the active item's shown; and who speaks now.

    `waiting` holds the requests of all items, each in its item's order: a request stays with the item
    it was made on, so an item's queue is kept while another item is active and found again on return.
    """

    waiting: tuple[Request, ...] = ()
    speaking: Speech | None = None
    item_id: int | None = None  # the active agenda item: the queue the room sees and the chair works

    @property
    def queue(self) -> tuple[Request, ...]:
        """The active item's queue, in order."""
        return tuple(e for e in self.waiting if e.item_id == self.item_id)

    def position(self, user_id: int) -> int | None:
        """Where a user waits in the active item's queue (0 is next), or None."""
        for index, entry in enumerate(self.queue):
            if entry.user_id == user_id:
                return index
        return None


def activate_item(floor: Floor, item_id: int | None) -> Floor:
    """Show another item's queue; every item's requests are kept."""
    return dataclasses.replace(floor, item_id=item_id)


def _without(floor: Floor, user_id: int) -> tuple[Request, ...]:
    """Every queue but with `user_id` taken off the active item's."""
    return tuple(e for e in floor.waiting if e.user_id != user_id or e.item_id != floor.item_id)


def request_floor(floor: Floor, user_id: int, now: float) -> Floor:
    """Join the end of the active item's queue."""
    if floor.speaking is not None and floor.speaking.user_id == user_id:
        raise Conflict(Code.SPEAKER_ALREADY_SPEAKING, f"user {user_id} already has the floor")
    if floor.position(user_id) is not None:
        raise Conflict(Code.SPEAKER_ALREADY_WAITING, f"user {user_id} already asked for the floor")
    return dataclasses.replace(floor, waiting=(*floor.waiting, Request(user_id, now, floor.item_id)))


def withdraw_floor(floor: Floor, user_id: int) -> Floor:
    """Leave the active item's queue before being given the floor."""
    if floor.position(user_id) is None:
        raise NotFound(Code.SPEAKER_NOT_WAITING, f"user {user_id} is not waiting for the floor")
    return dataclasses.replace(floor, waiting=_without(floor, user_id))


def speaking_limit(meeting: int | None, item: int | None, speaker: int | None) -> int | None:
    """Seconds a speech may last: the speaker's limit, else the item's, else the meeting's (None: untimed)."""
    for limit in (speaker, item, meeting):
        if limit is not None:
            return limit
    return None


def grant_floor(
    floor: Floor, user_id: int | None, now: float, limit: int | None = None
) -> tuple[Floor, Speech | None]:
    """Give the floor to a user waiting on the active item (the next one for None); a running speech ends.

    `limit` is the speech's time in seconds (see `speaking_limit`). Returns the new floor and the speech
    that was ended, if any.
    """
    queue = floor.queue
    if user_id is None:
        if not queue:
            raise InvalidState(Code.SPEAKER_NOBODY_WAITING, "nobody is waiting for the floor")
        user_id = queue[0].user_id
    elif floor.position(user_id) is None:
        raise NotFound(Code.SPEAKER_NOT_WAITING, f"user {user_id} is not waiting for the floor")
    ended = floor.speaking
    speech = Speech(user_id, now, floor.item_id, limit)
    return dataclasses.replace(floor, waiting=_without(floor, user_id), speaking=speech), ended


def end_speech(floor: Floor) -> tuple[Floor, Speech]:
    """Take the floor back from the current speaker."""
    if floor.speaking is None:
        raise InvalidState(Code.SPEAKER_NOBODY_SPEAKING, "nobody has the floor")
    return dataclasses.replace(floor, speaking=None), floor.speaking


def reorder_floor(floor: Floor, user_ids: Sequence[int]) -> Floor:
    """Put the active item's queue in the chair's order; it must name every waiting user exactly once."""
    current = {e.user_id: e for e in floor.queue}
    if sorted(user_ids) != sorted(current) or len(set(user_ids)) != len(user_ids):
        raise InvalidInput(
            Code.SPEAKER_INVALID_ORDER,
            f"the order must list every waiting user exactly once: {sorted(current)}",
        )
    others = tuple(e for e in floor.waiting if e.item_id != floor.item_id)
    return dataclasses.replace(floor, waiting=(*others, *(current[u] for u in user_ids)))


def elapsed(speech: Speech | None, now: float) -> float:
    """Seconds the current speaker has spoken (0 when nobody speaks)."""
    return max(0.0, now - speech.started_at) if speech is not None else 0.0


def set_speech_limit(floor: Floor, limit: int | None) -> Floor:
    """The chair sets the current speech's time (None: untimed), counted from its start."""
    if floor.speaking is None:
        raise InvalidState(Code.SPEAKER_NOBODY_SPEAKING, "nobody has the floor")
    return dataclasses.replace(floor, speaking=dataclasses.replace(floor.speaking, limit=limit))


def extend_speech(floor: Floor, seconds: int, now: float) -> Floor:
    """The chair gives the speaker more time ("+1 phút").

    An overrun speech gets `seconds` from now, not from its old end: "one more minute" said at +0:40
    means a minute to finish, not twenty seconds. An untimed speech has nothing to extend.
    """
    speech = floor.speaking
    if speech is None:
        raise InvalidState(Code.SPEAKER_NOBODY_SPEAKING, "nobody has the floor")
    if speech.limit is None:
        raise InvalidState(Code.SPEAKER_UNTIMED, f"user {speech.user_id} speaks without a time limit")
    spoken = elapsed(speech, now)
    limit = max(speech.limit, int(spoken + 0.999)) + seconds
    return dataclasses.replace(floor, speaking=dataclasses.replace(speech, limit=limit))


class TimerPhase(enum.StrEnum):
    """How a speech's countdown looks."""

    untimed = "untimed"  # no limit: the time spoken counts up
    running = "running"
    warning = "warning"  # WARNING_SECONDS or less left: amber
    overrun = "overrun"  # past the limit: red, counting up from the limit


def remaining(speech: Speech, now: float) -> float | None:
    """Seconds left of the speech's limit at `now` (negative once overrun; None when untimed)."""
    return None if speech.limit is None else speech.limit - elapsed(speech, now)


def timer_phase(speech: Speech, now: float) -> TimerPhase:
    """The countdown's look at `now`."""
    left = remaining(speech, now)
    if left is None:
        return TimerPhase.untimed
    if left < 0:
        return TimerPhase.overrun
    return TimerPhase.warning if left <= WARNING_SECONDS else TimerPhase.running


def overrun(limit: int | None, duration: float) -> float:
    """Seconds a speech of `duration` went past its limit (0 when within it, or untimed)."""
    return 0.0 if limit is None else max(0.0, duration - limit)


# ------------------------------------------------------------------------------------------------ pacing


@dataclasses.dataclass
class TokenBucket:
    """Inbound rate limit: `rate` messages per second on average, bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def allow(self, now: float) -> bool:
        """Whether one more message may pass at `now`."""
        if self.tokens < 0:  # first call: start full
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclasses.dataclass
class Throttle:
    """At most one message per `interval` seconds (the laser pointer: later positions supersede)."""

    interval: float
    last: float = float("-inf")

    def allow(self, now: float) -> bool:
        """Whether a message may pass at `now`."""
        if now - self.last < self.interval:
            return False
        self.last = now
        return True


POINTER_PREFIX = '{"type":"pointer.move"'


def is_ephemeral(payload: str) -> bool:
    """Pointer positions are never stored: the next one supersedes them, so they are the first to go."""
    return payload.startswith(POINTER_PREFIX)


class Outbox:
    """A connection's bounded outgoing queue.

    When full, queued pointer events are dropped first; if nothing can be dropped the connection
    has fallen too far behind and must resync (`offer` returns False and the caller closes it).
    """

    __slots__ = ("dropped", "items", "limit")

    def __init__(self, limit: int) -> None:
        self.items: deque[str] = deque()
        self.limit = limit
        self.dropped = 0  # pointer events skipped or removed so far (the metrics count them)

    def __len__(self) -> int:
        return len(self.items)

    def offer(self, payload: str) -> bool:
        """Queue a payload; False when the connection overflowed and must be closed for resync."""
        if len(self.items) < self.limit:
            self.items.append(payload)
            return True
        if is_ephemeral(payload):
            self.dropped += 1
            return True  # a pointer position for a client already behind: skip it, the next one supersedes
        for index, queued in enumerate(self.items):
            if is_ephemeral(queued):
                # Drop a stale pointer position to make room for an event the client must not miss.
                del self.items[index]
                self.items.append(payload)
                self.dropped += 1
                return True
        return False

    def take(self) -> str | None:
        """The next payload to send, or None."""
        return self.items.popleft() if self.items else None
