"""The room checks what a message refers to: a page of a version of a document of this meeting.

A page turn or annotation naming anything else is refused with an `error` naming the problem; nothing
is stored or broadcast, and the socket goes on.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.api import MEETING, add_document
from tests.support.sockets import join

if TYPE_CHECKING:
    from tests.support.api import Council, DocumentRef
    from tests.support.servers import Server
    from tests.support.sockets import Socket


def turn(document_id: int, version_id: int, page: int, ref: str = "t") -> dict[str, Any]:
    """A page.turn message."""
    return {"type": "page.turn", "documentId": document_id, "versionId": version_id, "page": page, "ref": ref}


def highlight(document_id: int, version_id: int, page: int, ref: str = "a") -> dict[str, Any]:
    """An annotation.add message: a shared highlight, as the tablet's tool draws it."""
    return {
        "type": "annotation.add",
        "id": uuid.uuid4().hex,
        "documentId": document_id,
        "versionId": version_id,
        "page": page,
        "kind": "highlight",
        "visibility": "shared",
        "payload": {"points": [[0.1, 0.2], [0.4, 0.2]], "width": 18},
        "ref": ref,
    }


async def other_meetings_document(room: Council) -> DocumentRef:
    """A document of a second meeting of the same secretary (the council's people are not in it)."""
    other = await room.api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    return await add_document(room.api, other["id"], pages=3, title="Tài liệu cuộc họp khác")


async def refused(sock: Socket, ref: str) -> dict[str, Any]:
    """The `error` answering `ref`; the socket is still open (a ping is answered)."""
    error = await sock.until("error", ref=ref)
    await sock.send({"type": "ping", "ref": f"{ref}-after"})
    assert (await sock.until("pong"))["ref"] == f"{ref}-after"
    return error


@pytest.mark.parametrize(
    ("where", "code", "named"),
    [
        ("page 9 of 3", "page.out_of_range", "page 9 is out of range (document has 3 pages)"),
        ("unknown document", "room.unknown_document", "document 99999"),
        ("another meeting's document", "room.unknown_document", "is not in meeting"),
        ("a version of another document", "room.unknown_document", "is not in meeting"),
        ("removed document", "room.unknown_document", "is not in meeting"),
    ],
)
async def test_page_turn_to_a_page_that_is_not_there_is_refused(
    server: Server, room: Council, where: str, code: str, named: str
) -> None:
    doc = await add_document(room.api, room.meeting_id, pages=3)
    second = await add_document(room.api, room.meeting_id, pages=5, title="Báo cáo")
    target = {
        "page 9 of 3": (doc.document_id, doc.version_id, 9),
        "unknown document": (99999, doc.version_id, 1),
        "a version of another document": (doc.document_id, second.version_id, 1),
        "removed document": (second.document_id, second.version_id, 1),
    }.get(where)
    if where == "another meeting's document":
        foreign = await other_meetings_document(room)
        target = (foreign.document_id, foreign.version_id, 1)
    if where == "removed document":
        await room.api.ok("DELETE", f"{room.url}/documents/{second.document_id}", "secretary")
    assert target is not None
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await chair.acked(turn(doc.document_id, doc.version_id, 2))
    await delegate.until("page.turn")

    await chair.send(turn(*target, ref="bad"))
    error = await refused(chair, "bad")
    assert (error["status"], error["code"]) == (4422, code), error
    assert named in error["detail"]
    # Nobody's tablet moved, and the room still shows page 2.
    assert not [m for m in await delegate.quiet() if m["type"] == "page.turn"]
    late, snapshot = await join(server, room.api, room.meeting_id, "delegate2")
    assert (snapshot["presenter"]["documentId"], snapshot["presenter"]["page"]) == (doc.document_id, 2)
    # The next valid turn goes through as ever.
    await chair.acked(turn(doc.document_id, doc.version_id, 3))
    assert (await delegate.until("page.turn"))["presenter"]["page"] == 3
    for sock in (chair, delegate, late):
        await sock.close()


async def test_page_turn_to_every_page_of_a_document_is_acked(server: Server, room: Council) -> None:
    doc = await add_document(room.api, room.meeting_id, pages=3)
    chair, _ = await join(server, room.api, room.meeting_id, "chair")
    for page in (1, 3, 2):
        await chair.acked(turn(doc.document_id, doc.version_id, page))
    await chair.close()
    # The stored position is what a tablet joining now is shown.
    late, snapshot = await join(server, room.api, room.meeting_id, "delegate1")
    assert snapshot["presenter"]["page"] == 2 and snapshot["presenter"]["versionId"] == doc.version_id
    await late.close()


async def test_non_presenter_is_told_so_before_anything_about_the_page(server: Server, room: Council) -> None:
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await delegate.send(turn(99999, 1, 9, ref="x"))
    assert (await refused(delegate, "x"))["code"] == "presenter.only"
    await delegate.close()


@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("page 77 of 3", "page.out_of_range"),
        ("unknown document", "room.unknown_document"),
        ("another meeting's document", "room.unknown_document"),
    ],
)
async def test_annotation_on_a_page_that_is_not_there_is_refused(
    server: Server, room: Council, where: str, code: str
) -> None:
    doc = await add_document(room.api, room.meeting_id, pages=3)
    target = {"page 77 of 3": (doc.document_id, doc.version_id, 77), "unknown document": (424242, 1, 77)}.get(
        where
    )
    if target is None:
        foreign = await other_meetings_document(room)
        target = (foreign.document_id, foreign.version_id, 1)
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    other, _ = await join(server, room.api, room.meeting_id, "delegate2")
    await author.send(highlight(*target, ref="bad"))
    error = await refused(author, "bad")
    assert (error["status"], error["code"]) == (4422, code), error
    assert not [m for m in await other.quiet() if m["type"].startswith("annotation.")]
    # Nothing stored: the next valid one is the only annotation listed.
    good = highlight(doc.document_id, doc.version_id, 3)
    ack = await author.acked(good)
    assert ack["result"]["id"] == good["id"]
    assert (await other.until("annotation.add"))["annotation"]["id"] == good["id"]
    listed = await room.api.ok("GET", doc.annotations_url, "delegate1")
    assert [a["id"] for p in listed["pages"] for a in p["annotations"]] == [good["id"]]
    for sock in (author, other):
        await sock.close()


async def test_annotation_on_a_removed_documents_version_is_still_kept(server: Server, room: Council) -> None:
    # A note drawn just before the secretary removed the document, sent again after a reconnect, is not
    # lost: the version stays in the record, though the room no longer shows it.
    doc = await add_document(room.api, room.meeting_id, pages=3)
    await room.api.ok("DELETE", f"{room.url}/documents/{doc.document_id}", "secretary")
    author, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await author.acked(highlight(doc.document_id, doc.version_id, 2))
    await author.close()


async def test_annotations_of_a_version_that_is_not_in_the_meeting_are_not_found(room: Council) -> None:
    mine = await add_document(room.api, room.meeting_id, pages=2)
    theirs = await other_meetings_document(room)
    listed = await room.api.ok("GET", mine.annotations_url, "delegate1")
    assert (listed["versionId"], listed["pages"]) == (mine.version_id, [])
    for document_id, version_id in ((theirs.document_id, theirs.version_id), (mine.document_id, 999_999)):
        url = f"{room.url}/documents/{document_id}/versions/{version_id}/annotations"
        response = await room.api.call("GET", url, "delegate1")
        assert (response.status_code, response.json()["code"]) == (404, "document.version_not_found")
