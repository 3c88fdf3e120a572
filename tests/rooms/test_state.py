"""Pure room rules, by tables of cases."""

from __future__ import annotations

import pytest

from meeting.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from meeting.rooms import state
from meeting.rooms.state import Floor, Presenter, Request, Speech, Viewport

CHAIR, ALICE, BOB, CAROL = 1, 2, 3, 4


@pytest.mark.parametrize(
    ("presenter", "actor", "is_chair", "page", "zoom", "outcome"),
    [
        (None, CHAIR, True, 3, 1.0, CHAIR),  # nobody presents: the chair may, and becomes presenter
        (None, ALICE, False, 3, 1.0, Forbidden),
        (ALICE, ALICE, False, 5, 2.0, ALICE),
        (ALICE, BOB, False, 5, 1.0, Forbidden),
        (ALICE, CHAIR, True, 5, 1.0, Forbidden),  # the chair takes the room back with presenter.set
        (ALICE, ALICE, False, 0, 1.0, InvalidInput),
        (ALICE, ALICE, False, 1, 50.0, InvalidInput),
    ],
)
def test_turn_page(
    presenter: int | None, actor: int, is_chair: bool, page: int, zoom: float, outcome: object
) -> None:
    current = Presenter(user_id=presenter)
    kwargs = {"document_id": 7, "version_id": 12, "page": page, "viewport": Viewport(zoom=zoom)}
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            state.turn_page(current, actor_id=actor, actor_is_chair=is_chair, **kwargs)  # type: ignore[arg-type]
        return
    moved = state.turn_page(current, actor_id=actor, actor_is_chair=is_chair, **kwargs)  # type: ignore[arg-type]
    assert moved == Presenter(
        user_id=outcome, document_id=7, version_id=12, page=page, viewport=Viewport(zoom=zoom)
    )  # type: ignore[arg-type]


def test_only_the_chair_sets_the_presenter_and_the_page_stays() -> None:
    shown = Presenter(user_id=CHAIR, document_id=7, version_id=12, page=4)
    assert state.set_presenter(shown, actor_is_chair=True, user_id=ALICE) == Presenter(
        user_id=ALICE, document_id=7, version_id=12, page=4
    )
    with pytest.raises(Forbidden):
        state.set_presenter(shown, actor_is_chair=False, user_id=ALICE)
    assert state.may_point(shown, CHAIR) and not state.may_point(shown, ALICE)


def test_floor_requests_queue_in_order_and_grant_takes_the_next() -> None:
    floor = state.request_floor(Floor(), ALICE, 10.0)
    floor = state.request_floor(floor, BOB, 11.0)
    assert floor.waiting == (Request(ALICE, 10.0), Request(BOB, 11.0))
    floor, ended = state.grant_floor(floor, None, 20.0)
    assert ended is None and floor.speaking == Speech(ALICE, 20.0) and floor.position(BOB) == 0
    assert state.elapsed(floor.speaking, 95.5) == 75.5
    floor, ended = state.grant_floor(floor, BOB, 100.0)
    assert ended == Speech(ALICE, 20.0) and floor.speaking == Speech(BOB, 100.0) and floor.waiting == ()
    floor, speech = state.end_speech(floor)
    assert speech == Speech(BOB, 100.0) and floor == Floor()
    assert state.elapsed(None, 5.0) == 0.0


@pytest.mark.parametrize(
    ("floor", "action", "error"),
    [
        (Floor(waiting=(Request(ALICE, 1),)), lambda f: state.request_floor(f, ALICE, 2), Conflict),
        (Floor(speaking=Speech(ALICE, 1)), lambda f: state.request_floor(f, ALICE, 2), Conflict),
        (Floor(), lambda f: state.withdraw_floor(f, ALICE), NotFound),
        (Floor(), lambda f: state.grant_floor(f, None, 1), InvalidState),
        (Floor(waiting=(Request(ALICE, 1),)), lambda f: state.grant_floor(f, BOB, 1), NotFound),
        (Floor(), state.end_speech, InvalidState),
        (
            Floor(waiting=(Request(ALICE, 1), Request(BOB, 2))),
            lambda f: state.reorder_floor(f, [BOB]),
            InvalidInput,
        ),
        (Floor(waiting=(Request(ALICE, 1),)), lambda f: state.reorder_floor(f, [ALICE, ALICE]), InvalidInput),
    ],
)
def test_floor_refusals(floor: Floor, action: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        action(floor)  # type: ignore[operator]


def test_reorder_and_withdraw() -> None:
    floor = Floor(waiting=(Request(ALICE, 1), Request(BOB, 2), Request(CAROL, 3)))
    reordered = state.reorder_floor(floor, [CAROL, ALICE, BOB])
    assert [e.user_id for e in reordered.waiting] == [CAROL, ALICE, BOB]
    assert [e.user_id for e in state.withdraw_floor(reordered, ALICE).waiting] == [CAROL, BOB]


@pytest.mark.parametrize(
    ("times", "allowed"),
    [
        ([0.0] * 5, [True, True, True, False, False]),  # a burst of 3, then nothing
        ([0.0, 0.0, 0.0, 0.0, 1.0], [True, True, True, False, True]),  # refilled at 1 a second
    ],
)
def test_token_bucket(times: list[float], allowed: list[bool]) -> None:
    bucket = state.TokenBucket(rate=1.0, burst=3.0)
    assert [bucket.allow(t) for t in times] == allowed


def test_throttle_lets_one_through_per_interval() -> None:
    throttle = state.Throttle(0.05)
    assert [throttle.allow(t) for t in (0.0, 0.01, 0.049, 0.05, 0.06, 0.2)] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]


POINTER = '{"type":"pointer.move","seq":0,"userId":1,"x":0.1,"y":0.2}'


def event(seq: int) -> str:
    return f'{{"type":"page.turn","seq":{seq}}}'


@pytest.mark.parametrize(
    ("queued", "offered", "accepted", "after"),
    [
        ([event(1)], event(2), True, [event(1), event(2)]),  # room left
        ([event(1), event(2)], POINTER, True, [event(1), event(2)]),  # full: the new pointer is skipped
        ([POINTER, event(2)], event(3), True, [event(2), event(3)]),  # full: a queued pointer makes room
        ([event(1), event(2)], event(3), False, [event(1), event(2)]),  # full of events: resync
    ],
)
def test_outbox_drops_pointer_events_first(
    queued: list[str], offered: str, accepted: bool, after: list[str]
) -> None:
    outbox = state.Outbox(limit=2)
    for item in queued:
        assert outbox.offer(item)
    assert outbox.offer(offered) is accepted
    assert list(outbox.items) == after
    assert outbox.take() == after[0] and len(outbox) == len(after) - 1
