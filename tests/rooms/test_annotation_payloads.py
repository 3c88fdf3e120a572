"""Each annotation kind has a typed payload: what the tablet sends is accepted, anything else refused.

The shapes are a table of cases checked in milliseconds; the socket tests show a refused payload gets an
`error`, the socket stays open, nothing is stored and nobody else hears of it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from meeting.rooms import AnnotationKind
from meeting.rooms.schemas import annotation_payload
from tests.support.sockets import join

if TYPE_CHECKING:
    from tests.support.api import Council, DocumentRef
    from tests.support.servers import Server

STROKE = [[0.2, 0.3], [0.5, 0.35], [0.7, 0.32]]

# What web/js/viewer.js sends today (pen, highlighter, a highlighter tap, note), what docs/protocol.md
# shows, and the edges of each bound.
VALID: list[tuple[str, dict[str, Any]]] = [
    ("ink", {"points": STROKE, "width": 3}),
    ("ink", {"points": [[0.1, 0.2], [0.15, 0.22]], "color": "#d00", "width": 2}),
    ("ink", {"points": [[0, 0], [1, 1]], "color": "#C62828"}),
    ("ink", {"points": [[0.5, 0.5]] * 2000}),
    ("highlight", {"points": STROKE, "width": 18}),
    ("highlight", {"points": [[0.4, 0.4]], "width": 18}),
    ("highlight", {"rects": [[0.1, 0.2, 0.5, 0.23]]}),
    ("highlight", {"rects": [[0.1, 0.2, 0.5, 0.23]] * 200, "color": "#f5c400"}),
    ("note", {"x": 0.6, "y": 0.25, "text": "Đề nghị bổ sung số liệu quý IV"}),
    ("note", {"x": 0, "y": 1, "text": "ý" * 2000}),
]

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("highlight", {"rects": 5, "points": [7]}, "$.rects"),
    ("highlight", {"points": [7]}, "$.points[0]"),
    ("highlight", {}, "points or rects"),
    ("highlight", {"rects": [[0.1, 0.2, 0.5]]}, "$.rects[0]"),
    ("highlight", {"rects": [[0.1, 0.2, 0.5, 0.23]] * 201}, "$.rects"),
    ("ink", {"points": []}, "$.points"),
    ("ink", {"points": [[0.5, 0.5]] * 2001}, "$.points"),
    ("ink", {"points": [[1.5, 0.2]]}, "$.points[0][0]"),
    ("ink", {"points": [[0.5, -0.01]]}, "$.points[0][1]"),
    ("ink", {"points": [["0.1", 0.2]]}, "$.points[0][0]"),
    ("ink", {"points": [[0.1, 0.2, 0.3]]}, "$.points[0]"),
    ("ink", {"points": STROKE, "color": "red"}, "$.color"),
    ("ink", {"points": STROKE, "color": "#d00;stroke:url(#x)"}, "$.color"),
    ("ink", {"points": STROKE, "width": 0}, "$.width"),
    ("ink", {"points": STROKE, "width": 5000}, "$.width"),
    ("ink", {"rects": [[0.1, 0.2, 0.5, 0.23]]}, "rects"),  # a highlight's shape under another kind
    ("ink", {"points": STROKE, "onclick": "alert(1)"}, "onclick"),
    ("note", {"text": "hỏi lại"}, "`x`"),
    ("note", {"x": 0.5, "y": 0.5, "text": ""}, "$.text"),
    ("note", {"x": 0.5, "y": 0.5, "text": "ý" * 2001}, "$.text"),
    ("note", {"x": 0.5, "y": 0.5, "text": ["a"]}, "$.text"),
    ("note", {"x": 2, "y": 0.5, "text": "ngoài trang"}, "$.x"),
]


@pytest.mark.parametrize(("kind", "payload"), VALID, ids=[f"{k}-{i}" for i, (k, _) in enumerate(VALID)])
def test_payloads_the_tablet_sends_fit_their_kind(kind: str, payload: dict[str, Any]) -> None:
    checked = msgspec.to_builtins(annotation_payload(AnnotationKind(kind), payload))
    assert msgspec.json.decode(msgspec.json.encode(checked)) == payload  # stored as sent


@pytest.mark.parametrize(
    ("kind", "payload", "named"), INVALID, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(INVALID)]
)
def test_malformed_payloads_are_refused_naming_the_field(
    kind: str, payload: dict[str, Any], named: str
) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        annotation_payload(AnnotationKind(kind), payload)
    assert named in str(refused.value)


def add(doc: DocumentRef, kind: str, payload: dict[str, Any], visibility: str = "shared") -> dict[str, Any]:
    """An annotation.add message on page 2 of the document."""
    return {
        "type": "annotation.add",
        "id": uuid.uuid4().hex,
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 2,
        "kind": kind,
        "visibility": visibility,
        "payload": payload,
        "ref": "a",
    }


@pytest.mark.parametrize("visibility", ["shared", "private"])
async def test_malformed_payload_is_refused_and_the_room_goes_on(
    server: Server, room: Council, doc: DocumentRef, visibility: str
) -> None:
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    laptop, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    await author.send({**add(doc, "highlight", {"rects": 5, "points": [7]}, visibility), "ref": "bad"})
    error = await author.until("error", ref="bad")
    assert (error["status"], error["code"]) == (4422, "request.invalid"), error
    assert "$.payload.rects" in error["detail"] and "highlight" in error["detail"]
    for sock in (other, laptop):
        assert not [m for m in await sock.quiet() if m["type"].startswith("annotation.")]
    # The socket is open and the next valid annotation is stored and delivered as ever.
    good = add(doc, "highlight", {"points": STROKE, "width": 18}, visibility)
    ack = await author.acked(good)
    assert ack["result"]["payload"] == {"points": STROKE, "width": 18}
    mirrored = await laptop.until("annotation.add")
    assert mirrored["annotation"]["id"] == good["id"]
    listed = await room.api.ok("GET", doc.annotations_url, "delegate1")
    assert [a["id"] for p in listed["pages"] for a in p["annotations"]] == [good["id"]]
    for sock in (author, laptop, other):
        await sock.close()


async def test_every_kind_the_tablet_draws_is_stored_and_broadcast_as_sent(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    for kind, payload in VALID[:1] + VALID[4:7] + VALID[8:9]:
        message = add(doc, kind, payload)
        assert (await author.acked(message))["result"]["payload"] == payload
        received = await other.until("annotation.add")
        assert (received["annotation"]["kind"], received["annotation"]["payload"]) == (kind, payload)
    for sock in (author, other):
        await sock.close()


async def test_update_is_checked_against_the_annotations_kind(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    stroke = add(doc, "ink", {"points": STROKE, "width": 3})
    await author.acked(stroke)
    await other.until("annotation.add")
    for payload in ({"x": 0.5, "y": 0.5, "text": "một ghi chú"}, {"points": [[3, 3]]}):
        await author.send({"type": "annotation.update", "id": stroke["id"], "payload": payload, "ref": "u"})
        error = await author.until("error", ref="u")
        assert (error["status"], error["code"]) == (4422, "request.invalid"), error
    assert not [m for m in await other.quiet() if m["type"].startswith("annotation.")]
    listed = await room.api.ok("GET", doc.annotations_url, "delegate2")
    assert listed["pages"][0]["annotations"][0]["payload"] == {"points": STROKE, "width": 3}
    # A payload of the right shape replaces the stored one.
    longer = {"points": [*STROKE, [0.8, 0.3]], "width": 3}
    await author.acked({"type": "annotation.update", "id": stroke["id"], "payload": longer})
    assert (await other.until("annotation.update"))["annotation"]["payload"] == longer
    for sock in (author, other):
        await sock.close()
