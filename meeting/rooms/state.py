"""Pure room rules: presenter and page, the speaker queue, pacing of inbound and outbound messages.

No session, no socket, no clock: every function takes values (and `now`, in seconds) and returns values,
so the rules are tested with tables of cases in milliseconds.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class Request:
    """A delegate waiting for the floor."""

    user_id: int
    requested_at: float


@dataclasses.dataclass(frozen=True)
class Speech:
    """The delegate who has the floor, since when."""

    user_id: int
    started_at: float


@dataclasses.dataclass(frozen=True)
class Floor:
    """The speaker queue: who speaks now and who waits, in order."""

    waiting: tuple[Request, ...] = ()
    speaking: Speech | None = None

    def position(self, user_id: int) -> int | None:
        """Where a user waits (0 is next), or None."""
        for index, entry in enumerate(self.waiting):
            if entry.user_id == user_id:
                return index
        return None


def request_floor(floor: Floor, user_id: int, now: float) -> Floor:
    """Join the end of the queue."""
    if floor.speaking is not None and floor.speaking.user_id == user_id:
        raise Conflict(Code.SPEAKER_ALREADY_SPEAKING, f"user {user_id} already has the floor")
    if floor.position(user_id) is not None:
        raise Conflict(Code.SPEAKER_ALREADY_WAITING, f"user {user_id} already asked for the floor")
    return dataclasses.replace(floor, waiting=(*floor.waiting, Request(user_id, now)))


def withdraw_floor(floor: Floor, user_id: int) -> Floor:
    """Leave the queue before being given the floor."""
    if floor.position(user_id) is None:
        raise NotFound(Code.SPEAKER_NOT_WAITING, f"user {user_id} is not waiting for the floor")
    return dataclasses.replace(floor, waiting=tuple(e for e in floor.waiting if e.user_id != user_id))


def grant_floor(floor: Floor, user_id: int | None, now: float) -> tuple[Floor, Speech | None]:
    """Give the floor to a waiting user (the next one for None); a running speech ends first.

    Returns the new floor and the speech that was ended, if any.
    """
    if user_id is None:
        if not floor.waiting:
            raise InvalidState(Code.SPEAKER_NOBODY_WAITING, "nobody is waiting for the floor")
        user_id = floor.waiting[0].user_id
    elif floor.position(user_id) is None:
        raise NotFound(Code.SPEAKER_NOT_WAITING, f"user {user_id} is not waiting for the floor")
    ended = floor.speaking
    waiting = tuple(e for e in floor.waiting if e.user_id != user_id)
    return Floor(waiting=waiting, speaking=Speech(user_id, now)), ended


def end_speech(floor: Floor) -> tuple[Floor, Speech]:
    """Take the floor back from the current speaker."""
    if floor.speaking is None:
        raise InvalidState(Code.SPEAKER_NOBODY_SPEAKING, "nobody has the floor")
    return dataclasses.replace(floor, speaking=None), floor.speaking


def reorder_floor(floor: Floor, user_ids: Sequence[int]) -> Floor:
    """Put the waiting list in the chair's order; it must name every waiting user exactly once."""
    current = {e.user_id: e for e in floor.waiting}
    if sorted(user_ids) != sorted(current) or len(set(user_ids)) != len(user_ids):
        raise InvalidInput(
            Code.SPEAKER_INVALID_ORDER,
            f"the order must list every waiting user exactly once: {sorted(current)}",
        )
    return dataclasses.replace(floor, waiting=tuple(current[u] for u in user_ids))


def elapsed(speech: Speech | None, now: float) -> float:
    """Seconds the current speaker has spoken (0 when nobody speaks)."""
    return max(0.0, now - speech.started_at) if speech is not None else 0.0


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
