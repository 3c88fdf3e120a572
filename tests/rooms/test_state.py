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


ITEM_3, ITEM_4 = 30, 40


def test_a_request_stays_with_the_item_it_was_made_on() -> None:
    on_3 = state.activate_item(Floor(), ITEM_3)
    on_3 = state.request_floor(state.request_floor(on_3, ALICE, 1.0), BOB, 2.0)
    on_4 = state.activate_item(on_3, ITEM_4)
    assert on_4.queue == () and on_4.position(ALICE) is None
    # Alice may ask again on item 4; her place on item 3 is kept.
    on_4 = state.request_floor(on_4, ALICE, 3.0)
    assert on_4.queue == (Request(ALICE, 3.0, ITEM_4),)
    on_4, _ = state.grant_floor(on_4, None, 4.0, limit=120)
    assert on_4.speaking == Speech(ALICE, 4.0, ITEM_4, 120) and on_4.queue == ()
    back = state.activate_item(on_4, ITEM_3)
    assert back.queue == (Request(ALICE, 1.0, ITEM_3), Request(BOB, 2.0, ITEM_3))
    # The speech goes on under its own item while another item's queue is shown.
    assert back.speaking == on_4.speaking
    # Reordering and withdrawing act on the shown queue only.
    shown = state.reorder_floor(state.activate_item(on_3, ITEM_3), [BOB, ALICE])
    assert [e.user_id for e in shown.queue] == [BOB, ALICE]
    assert state.withdraw_floor(back, BOB).queue == (Request(ALICE, 1.0, ITEM_3),)
    with pytest.raises(NotFound):
        state.grant_floor(state.activate_item(on_3, ITEM_4), ALICE, 5.0)


@pytest.mark.parametrize(
    ("meeting", "item", "speaker", "limit"),
    [
        (None, None, None, None),  # untimed
        (180, None, None, 180),
        (180, 300, None, 300),  # the item's override
        (180, 300, 60, 60),  # the speaker's override
        (None, None, 90, 90),
        (180, None, 0, 0),  # zero is a limit, not "unset"
    ],
)
def test_speaking_limit_takes_the_most_specific(
    meeting: int | None, item: int | None, speaker: int | None, limit: int | None
) -> None:
    assert state.speaking_limit(meeting, item, speaker) == limit


@pytest.mark.parametrize(
    ("limit", "at", "phase", "left"),
    [
        (None, 500.0, state.TimerPhase.untimed, None),
        (120, 0.0, state.TimerPhase.running, 120.0),
        (120, 89.0, state.TimerPhase.running, 31.0),
        (120, 90.0, state.TimerPhase.warning, 30.0),  # 30 s left: amber
        (120, 120.0, state.TimerPhase.warning, 0.0),  # the last second still counts down
        (120, 132.0, state.TimerPhase.overrun, -12.0),  # red, "+0:12"
    ],
)
def test_timer_phase(limit: int | None, at: float, phase: state.TimerPhase, left: float | None) -> None:
    speech = Speech(ALICE, 1000.0, ITEM_3, limit)
    assert state.timer_phase(speech, 1000.0 + at) == phase
    assert state.remaining(speech, 1000.0 + at) == left


@pytest.mark.parametrize(
    ("limit", "at", "after"),
    [
        (120, 30.0, 180),  # within the limit: a minute more at the end
        (120, 119.5, 180),
        (120, 140.0, 200),  # overrun by 20 s: a minute from now
        (120, 140.2, 201),  # whole seconds, rounded up
    ],
)
def test_extend_speech_adds_a_minute_to_finish(limit: int, at: float, after: int) -> None:
    floor = Floor(speaking=Speech(ALICE, 0.0, ITEM_3, limit))
    extended = state.extend_speech(floor, state.EXTEND_SECONDS, at)
    assert extended.speaking == Speech(ALICE, 0.0, ITEM_3, after)


def test_speech_time_refusals_and_changes() -> None:
    with pytest.raises(InvalidState):
        state.extend_speech(Floor(), 60, 1.0)
    with pytest.raises(InvalidState):
        state.extend_speech(Floor(speaking=Speech(ALICE, 0.0)), 60, 1.0)  # untimed
    with pytest.raises(InvalidState):
        state.set_speech_limit(Floor(), 60)
    floor = Floor(speaking=Speech(ALICE, 0.0, ITEM_3, 120))
    assert state.set_speech_limit(floor, 300).speaking == Speech(ALICE, 0.0, ITEM_3, 300)
    assert state.set_speech_limit(floor, None).speaking == Speech(ALICE, 0.0, ITEM_3, None)


@pytest.mark.parametrize(
    ("limit", "duration", "over"),
    [(None, 500.0, 0.0), (120, 100.0, 0.0), (120, 120.0, 0.0), (120, 132.5, 12.5)],
)
def test_overrun(limit: int | None, duration: float, over: float) -> None:
    assert state.overrun(limit, duration) == over


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
