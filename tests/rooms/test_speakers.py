"""Speakers per agenda item, with speaking time: queues kept per item, limits, "+1 phút", the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meeting.rooms import speeches
from tests.support.sockets import join

if TYPE_CHECKING:
    from tests.support.api import Council
    from tests.support.servers import Server


async def test_queues_stay_with_their_item_and_speeches_are_timed(server: Server, room: Council) -> None:
    api, ids = room.api, room.api.ids
    # The meeting's speaking time, and an item that overrides it; both set in the editor.
    await api.ok("PATCH", room.url, "secretary", json={"speakingLimitSeconds": 180})
    budget = await api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Dự toán ngân sách"})
    report = await api.ok("POST", f"{room.url}/agenda", "secretary", json={"title": "Báo cáo kinh tế"})
    changed = await api.ok(
        "PATCH", f"{room.url}/agenda/{report['id']}", "secretary", json={"speakingLimitSeconds": 300}
    )
    assert changed["speakingLimitSeconds"] == 300
    refused = await api.call("PATCH", room.url, "delegate1", json={"speakingLimitSeconds": 60})
    assert refused.status_code == 403
    too_short = await api.call("PATCH", room.url, "secretary", json={"speakingLimitSeconds": 5})
    assert too_short.status_code == 400
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "scheduled"})
    await api.ok("POST", f"{room.url}/status", "secretary", json={"status": "live"})
    chair, _ = await join(server, api, room.meeting_id, "chair")
    one, _ = await join(server, api, room.meeting_id, "delegate1")
    two, _ = await join(server, api, room.meeting_id, "delegate2")

    await chair.send({"type": "agenda.item", "itemId": budget["id"], "status": "active", "ref": "a"})
    await chair.until("ack", ref="a")
    await one.send({"type": "speaker.request", "ref": "r"})
    queued = await chair.until("speaker.queue", action="request")
    assert queued["speakers"]["itemId"] == budget["id"]
    assert [(w["userId"], w["itemId"]) for w in queued["speakers"]["waiting"]] == [
        (ids["delegate1"], budget["id"])
    ]

    # Another item: its queue is empty and worked; the budget item's request is kept.
    await chair.send({"type": "agenda.item", "itemId": report["id"], "status": "active", "ref": "b"})
    await chair.until("ack", ref="b")
    await chair.send({"type": "speaker.grant", "ref": "g0"})
    assert (await chair.until("error", ref="g0"))["code"] == "speaker.nobody_waiting"
    await two.send({"type": "speaker.request", "ref": "r"})
    await two.until("ack", ref="r")
    await one.send({"type": "speaker.request", "ref": "r2"})  # the same delegate, on this item too
    await one.until("ack", ref="r2")
    await chair.send({"type": "speaker.grant", "userId": ids["delegate2"], "ref": "g"})
    granted = await one.until("speaker.queue", action="grant")
    floor = granted["speakers"]
    assert floor["speaking"]["userId"] == ids["delegate2"] and floor["speaking"]["itemId"] == report["id"]
    assert floor["limitSeconds"] == 300 and floor["warningSeconds"] == 30  # the item's time
    assert sorted((w["userId"], w["itemId"]) for w in floor["waiting"]) == sorted(
        [(ids["delegate1"], budget["id"]), (ids["delegate1"], report["id"])]
    )

    # "+1 phút" is the chair's; a delegate is refused, even the speaker.
    await two.send({"type": "speaker.extend", "ref": "x"})
    assert (await two.until("error", ref="x"))["code"] == "meeting.chair_only"
    await chair.send({"type": "speaker.extend", "ref": "x"})
    extended = await one.until("speaker.queue", action="extend")
    assert extended["speakers"]["limitSeconds"] == 360
    assert extended["speakers"]["speaking"]["startedAt"] == floor["speaking"]["startedAt"]
    await chair.send({"type": "speaker.limit", "limitSeconds": None, "ref": "l"})
    assert (await one.until("speaker.queue", action="limit"))["speakers"]["limitSeconds"] is None
    await chair.send({"type": "speaker.extend", "ref": "x2"})
    assert (await chair.until("error", ref="x2"))["code"] == "speaker.untimed"

    # The chair sets the next speaker's own time when granting; the speech before ends.
    await chair.send({"type": "speaker.grant", "limitSeconds": 60, "ref": "g2"})
    second = await two.until("speaker.queue", action="grant")
    assert second["speakers"]["speaking"]["userId"] == ids["delegate1"]
    assert second["speakers"]["limitSeconds"] == 60
    # Back on the budget item, its queue is found again, with the same delegate's first request.
    await chair.send({"type": "agenda.item", "itemId": budget["id"], "status": "active", "ref": "c"})
    await chair.until("ack", ref="c")
    late, snapshot = await join(server, api, room.meeting_id, "delegate2")
    assert snapshot["speakers"]["itemId"] == budget["id"]
    assert [(w["userId"], w["itemId"]) for w in snapshot["speakers"]["waiting"]] == [
        (ids["delegate1"], budget["id"])
    ]
    assert snapshot["speakers"]["limitSeconds"] == 60
    await one.send({"type": "speaker.end", "ref": "e"})
    await one.until("ack", ref="e")

    # The record: who, on which item, the time each was given.
    spoken = await speeches(api.db, room.meeting_id)
    assert [(s.user_id, s.item_id, s.limit_seconds) for s in spoken] == [
        (ids["delegate2"], report["id"], None),
        (ids["delegate1"], report["id"], 60),
    ]
    assert all(s.ended_at is not None and s.overrun_seconds == 0 for s in spoken)
    for sock in (chair, one, two, late):
        await sock.close()
