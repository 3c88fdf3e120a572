"""Guests follow the meeting and may keep private notes; speaking and sharing are for its members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support.sockets import join

if TYPE_CHECKING:
    from tests.support.api import Council, DocumentRef
    from tests.support.servers import Server


def annotation(doc: DocumentRef, visibility: str, annotation_id: str) -> dict[str, Any]:
    """An annotation.add: a note on page 1 of the document."""
    return {
        "type": "annotation.add",
        "id": annotation_id,
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 1,
        "kind": "note",
        "visibility": visibility,
        "payload": {"x": 0.5, "y": 0.5, "text": "Hỏi lại số liệu"},
        "ref": annotation_id,
    }


async def test_a_guest_cannot_ask_for_the_floor(server: Server, room: Council) -> None:
    guest, _ = await join(server, room.api, room.meeting_id, "guest")
    await guest.send({"type": "speaker.request", "ref": "r"})
    refused = await guest.until("error", ref="r")
    assert (refused["status"], refused["code"]) == (4403, "participant.guest_reads_only")
    delegate, _ = await join(server, room.api, room.meeting_id, "delegate1")
    await delegate.send({"type": "speaker.request", "ref": "r"})
    await delegate.until("ack", ref="r")
    await guest.close()
    await delegate.close()


async def test_a_guest_keeps_private_notes_but_cannot_share_one(
    server: Server, room: Council, doc: DocumentRef
) -> None:
    guest, _ = await join(server, room.api, room.meeting_id, "guest")
    await guest.send(annotation(doc, "shared", "guestshared1"))
    refused = await guest.until("error", ref="guestshared1")
    assert (refused["status"], refused["code"]) == (4403, "participant.guest_reads_only")
    await guest.send(annotation(doc, "private", "guestprivate1"))
    kept = await guest.until("ack", ref="guestprivate1")
    assert kept["result"]["visibility"] == "private"
    await guest.send({"type": "annotation.update", "id": "guestprivate1", "visibility": "shared", "ref": "u"})
    refused = await guest.until("error", ref="u")
    assert refused["code"] == "participant.guest_reads_only"
    listed = await room.api.ok("GET", doc.annotations_url, "chair")
    assert listed["pages"] == []  # nothing of the guest's reached the room
    await guest.close()
