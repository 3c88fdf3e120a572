"""Approving the minutes freezes the record: stored once, served as stored, nothing in the meeting changes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from meeting.audit import AuditEntry
from meeting.voting.models import Conclusion
from tests.support.api import upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.voting.conftest import Session


async def _ended(session: Session) -> str:
    """The live session ended, with a document and a conclusion; returns the meeting's URL."""
    url = session.council.url
    assert (await upload(session.council, make_pdf())).status_code == 201
    conclusion = {"text": "Hội đồng thống nhất thông qua."}
    await session.api.ok("PUT", f"{url}/agenda/{session.item_id}/conclusion", "secretary", json=conclusion)
    await session.api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})
    return url


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == code, response.text


async def test_the_minutes_go_from_the_secretary_to_the_chair_once_the_meeting_has_ended(
    session: Session,
) -> None:
    url = session.council.url
    api = session.api
    _refused(await api.call("POST", f"{url}/minutes/submit", "secretary"), "minutes.meeting_not_ended")
    await _ended(session)
    state = await api.ok("GET", f"{url}/minutes", "delegate1")
    assert (state["status"], state["copies"], state["signingSources"]) == ("draft", [], ["pkcs12"])
    _refused(await api.call("POST", f"{url}/minutes/approve", "chair"), "minutes.invalid_transition")
    assert (await api.call("POST", f"{url}/minutes/submit", "delegate1")).status_code == 403
    assert (await api.ok("POST", f"{url}/minutes/submit", "secretary"))["status"] == "submitted"
    assert (await api.call("POST", f"{url}/minutes/approve", "secretary")).status_code == 403
    # With the chair, the record holds still: the chair approves exactly what was submitted.
    conclusion = {"text": "Sửa khi đã trình"}
    edit = await api.call("PUT", f"{url}/agenda/{session.item_id}/conclusion", "secretary", json=conclusion)
    _refused(edit, "meeting.minutes_submitted")
    # Returned for a correction, which is still allowed, then submitted again.
    assert (await api.ok("POST", f"{url}/minutes/return", "chair"))["status"] == "draft"
    body = {"text": "Hội đồng thống nhất thông qua, có sửa đổi."}
    await api.ok("PUT", f"{url}/agenda/{session.item_id}/conclusion", "secretary", json=body)
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    # Archiving waits for the approval.
    archive = await api.call("POST", f"{url}/status", "secretary", json={"status": "archived"})
    _refused(archive, "meeting.minutes_not_approved")
    approved = await api.ok("POST", f"{url}/minutes/approve", "chair")
    assert approved["status"] == "approved" and [c["number"] for c in approved["copies"]] == [1]
    assert (await api.ok("GET", url, "delegate1"))["minutesStatus"] == "approved"
    archived = await api.ok("POST", f"{url}/status", "secretary", json={"status": "archived"})
    assert archived["status"] == "archived"


async def test_approved_minutes_are_stored_once_and_served_byte_for_byte(
    session: Session, db: AsyncSession
) -> None:
    url = await _ended(session)
    api = session.api
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    copy = (await api.ok("POST", f"{url}/minutes/approve", "chair"))["copies"][0]
    first = await api.call("GET", f"{url}/minutes/pdf", "delegate1")
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert hashlib.sha256(first.content).hexdigest() == copy["sha256"]
    assert len(first.content) == copy["sizeBytes"]
    # Whatever happens to the rows afterwards, the approved minutes do not change.
    await db.execute(update(Conclusion).values(text="Sửa lén sau khi duyệt"))
    await db.commit()
    again = await api.call("GET", f"{url}/minutes/pdf", "chair")
    assert again.content == first.content
    # The approval is in the chain, with the hash of exactly what is served.
    entries = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.payload)
            .where(AuditEntry.meeting_id == session.council.meeting_id)
            .order_by(AuditEntry.seq)
        )
    ).all()
    actions = [action for action, _ in entries]
    assert actions[-2:] == ["minutes.submit", "minutes.approve"]
    assert json.loads(entries[-1][1])["sha256"] == copy["sha256"]


async def test_after_approval_nothing_in_the_meeting_changes(session: Session) -> None:
    url = await _ended(session)
    api = session.api
    documents = await api.ok("GET", f"{url}/documents", "secretary")
    document = documents[0]["id"]
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    await api.ok("POST", f"{url}/minutes/approve", "chair")
    frozen = "meeting.record_frozen"
    _refused(await upload(session.council, make_pdf("Phụ lục")), frozen)
    new_version = await api.call(
        "POST",
        f"{url}/documents/{document}/versions",
        "secretary",
        files=[("file", ("v2.pdf", make_pdf("Bản 2"), "application/pdf"))],
    )
    _refused(new_version, frozen)
    _refused(await api.call("DELETE", f"{url}/documents/{document}", "secretary"), frozen)
    rename = await api.call("PATCH", f"{url}/documents/{document}", "secretary", json={"title": "Khác"})
    _refused(rename, frozen)
    conclusion = {"text": "Sửa sau khi duyệt"}
    _refused(
        await api.call("PUT", f"{url}/agenda/{session.item_id}/conclusion", "chair", json=conclusion), frozen
    )
    _refused(await api.call("PATCH", url, "secretary", json={"location": "Phòng khác"}), frozen)
    # Agenda, participants and attendance were already frozen by the end of the meeting.
    _refused(
        await api.call("POST", f"{url}/agenda", "secretary", json={"title": "Mới"}), "meeting.not_editable"
    )
    delegate2 = session.council.participant_ids["delegate2"]
    removed = await api.call("DELETE", f"{url}/participants/{delegate2}", "secretary")
    _refused(removed, "meeting.not_editable")
    assert [d["id"] for d in await api.ok("GET", f"{url}/documents", "secretary")] == [document]
    conclusion_now = await api.ok("GET", f"{url}/agenda/{session.item_id}/conclusion", "delegate1")
    assert conclusion_now["text"] == "Hội đồng thống nhất thông qua."
    # Archived: the same.
    await api.ok("POST", f"{url}/status", "secretary", json={"status": "archived"})
    _refused(await upload(session.council, make_pdf("Phụ lục")), frozen)


async def test_two_chairs_approving_at_once_store_one_copy(session: Session) -> None:
    url = await _ended(session)
    api = session.api
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    answers = await asyncio.gather(
        api.call("POST", f"{url}/minutes/approve", "chair"),
        api.call("POST", f"{url}/minutes/approve", "admin"),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert len((await api.ok("GET", f"{url}/minutes", "chair"))["copies"]) == 1
