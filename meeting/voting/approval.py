"""Approving the minutes: the secretary submits, the chair approves (or returns them), the record freezes.

After the meeting has ended the minutes are a draft that follows every change of the record. The
secretary submits them; the chair returns them for corrections or approves them. Approval renders the
PDF once, stores it content-addressed with the documents, writes its hash into the audit chain, and
makes the whole meeting read-only (`MeetingAccess.require_open_record`). From then on the minutes are
served as stored, byte for byte, never regenerated; signed copies (see docs/signatures.md) are stored the
same way, each one a new numbered copy.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from meeting import audit
from meeting.agenda.models import Meeting, MeetingStatus, MinutesStatus, ParticipantRole
from meeting.agenda.schemas import MeetingChanged, MeetingRead
from meeting.db import utcnow
from meeting.docs.signatures import credentials_for, signing_sources
from meeting.docs.signing import SignatureReport, configured_trust_roots, sign_pdf_async, verify_pdf_async
from meeting.errors import Code, Conflict, Forbidden, InvalidState
from meeting.voting import minutes
from meeting.voting.models import MinutesCopy
from meeting.voting.schemas import MinutesCopyRead, MinutesState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker
    from meeting.docs import DocsRuntime
    from meeting.docs.schemas import SignatureRequest
    from meeting.settings import Settings


async def _copies(session: AsyncSession, meeting_id: int) -> list[MinutesCopy]:
    return list(
        await session.scalars(
            select(MinutesCopy).where(MinutesCopy.meeting_id == meeting_id).order_by(MinutesCopy.number)
        )
    )


async def minutes_state(session: AsyncSession, settings: Settings, access: MeetingAccess) -> MinutesState:
    """Where the minutes stand, the stored copies once approved, and how they may be signed."""
    return MinutesState(
        status=access.meeting.minutes_status,
        copies=[MinutesCopyRead.from_row(c) for c in await _copies(session, access.meeting.id)],
        signing_sources=signing_sources(settings),
    )


def _require_step(access: MeetingAccess, source: MinutesStatus, target: MinutesStatus) -> str:
    """Refuse a step the meeting is not at; returns the refusal to give if a concurrent step wins."""
    meeting = access.meeting
    if meeting.status != MeetingStatus.ended:
        raise InvalidState(
            Code.MINUTES_NOT_ENDED,
            f"meeting {meeting.id} is {meeting.status}; its minutes are submitted once it has ended",
        )
    refused = f"the minutes of meeting {meeting.id} are {meeting.minutes_status}; they cannot become {target}"
    if meeting.minutes_status != source:
        raise InvalidState(Code.MINUTES_INVALID_TRANSITION, refused)
    return refused


async def _claim(
    session: AsyncSession, access: MeetingAccess, source: MinutesStatus, target: MinutesStatus
) -> None:
    """The one gate of the minutes' steps: a conditional UPDATE, so two chairs cannot both approve."""
    refused = _require_step(access, source, target)
    meeting = access.meeting
    moved = await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.minutes_status == source)
        .values(minutes_status=target)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise InvalidState(Code.MINUTES_INVALID_TRANSITION, refused)
    meeting.minutes_status = target


async def _record(
    session: AsyncSession, broker: Broker, access: MeetingAccess, action: str, details: dict[str, object]
) -> None:
    """Chain the step and commit it, announcing the meeting's new state."""
    meeting = access.meeting
    await audit.append(session, meeting.id, action, {**details, "by": access.user.id})
    await broker.commit(
        session, meeting.id, [MeetingChanged(meeting=MeetingRead.from_row(meeting, my_role=None))]
    )


async def submit_minutes(
    session: AsyncSession, broker: Broker, settings: Settings, access: MeetingAccess
) -> MinutesState:
    """draft → submitted (secretary, or chair): the minutes go to the chair for approval."""
    access.require_manager()
    await _claim(session, access, MinutesStatus.draft, MinutesStatus.submitted)
    await _record(session, broker, access, "minutes.submit", {})
    return await minutes_state(session, settings, access)


async def return_minutes(
    session: AsyncSession, broker: Broker, settings: Settings, access: MeetingAccess
) -> MinutesState:
    """submitted → draft (chair): back to the secretary for corrections."""
    access.require_chair()
    await _claim(session, access, MinutesStatus.submitted, MinutesStatus.draft)
    await _record(session, broker, access, "minutes.return", {})
    return await minutes_state(session, settings, access)


async def _store_copy(
    session: AsyncSession, docs: DocsRuntime, access: MeetingAccess, pdf: bytes, number: int, signer_role: str
) -> MinutesCopy:
    """Keep a PDF of the minutes as copy `number` (in the caller's transaction).

    UNIQUE(meeting, number) refuses a second copy with the same number: of two signatures made at
    once on the same copy, the second fails instead of hiding the first.
    """
    digest = hashlib.sha256(pdf).hexdigest()
    temporary = docs.store.temporary(".pdf")
    temporary.write_bytes(pdf)
    docs.store.put(temporary, digest)
    copy = MinutesCopy(
        meeting_id=access.meeting.id,
        number=number,
        sha256=digest,
        size_bytes=len(pdf),
        signer_role=signer_role,
        signer_name=access.user.display_name if signer_role else "",
        created_by_id=access.user.id,
        created_at=utcnow(),
    )
    session.add(copy)
    await session.flush()
    return copy


async def approve_minutes(
    session: AsyncSession, broker: Broker, docs: DocsRuntime, settings: Settings, access: MeetingAccess
) -> MinutesState:
    """submitted → approved (chair): render once, store, chain the hash; the meeting becomes read-only."""
    access.require_chair()
    _require_step(access, MinutesStatus.submitted, MinutesStatus.approved)  # before rendering for nothing
    pdf = await minutes.minutes_pdf(session, access, docs)
    # Claimed before the copy is numbered: a second approver waits here, then finds them approved.
    await _claim(session, access, MinutesStatus.submitted, MinutesStatus.approved)
    copy = await _store_copy(session, docs, access, pdf, number=1, signer_role="")
    await _record(session, broker, access, "minutes.approve", {"copy": copy.number, "sha256": copy.sha256})
    return await minutes_state(session, settings, access)


async def approved_pdf(session: AsyncSession, docs: DocsRuntime, access: MeetingAccess) -> bytes | None:
    """The newest stored copy of approved minutes, byte for byte; None while they are not approved."""
    if access.meeting.minutes_status != MinutesStatus.approved:
        return None
    copies = await _copies(session, access.meeting.id)
    return docs.store.blob_path(copies[-1].sha256).read_bytes() if copies else None


# The signature fields, in signing order: the secretary signs, then the chair countersigns.
SIGNATURE_FIELDS = {ParticipantRole.secretary: "thu-ky", ParticipantRole.chair: "chu-toa"}
REASONS = {ParticipantRole.secretary: "Thư ký ký biên bản", ParticipantRole.chair: "Chủ tọa ký biên bản"}


async def sign_minutes(
    session: AsyncSession,
    broker: Broker,
    docs: DocsRuntime,
    settings: Settings,
    access: MeetingAccess,
    data: SignatureRequest,
) -> MinutesState:
    """Add the caller's signature to the newest copy of the approved minutes, as the next copy.

    The secretary signs first, then the chair; each signature is an incremental update, so both stay
    valid. The credentials serve this signature only: nothing of them is stored.
    """
    meeting, role = access.meeting, access.role
    if role not in SIGNATURE_FIELDS:
        raise Forbidden(
            Code.MINUTES_SIGNERS_ONLY, f"only the secretary and chair of meeting {meeting.id} sign"
        )
    if meeting.minutes_status != MinutesStatus.approved:
        raise InvalidState(
            Code.MINUTES_NOT_APPROVED, f"the minutes of meeting {meeting.id} are {meeting.minutes_status}"
        )
    latest = (await _copies(session, meeting.id))[-1]
    roles = {c.signer_role for c in await _copies(session, meeting.id)}
    if role == ParticipantRole.chair and ParticipantRole.secretary not in roles:
        raise InvalidState(
            Code.MINUTES_SECRETARY_SIGNS_FIRST, f"the secretary of meeting {meeting.id} has not signed yet"
        )
    credentials = credentials_for(settings, access.user, data)
    signed = await sign_pdf_async(
        docs.store.blob_path(latest.sha256).read_bytes(),
        credentials,
        field_name=SIGNATURE_FIELDS[role],
        signer_name=access.user.display_name,
        reason=REASONS[role],
        location=meeting.location,
        trust_roots=configured_trust_roots(settings, demo=settings.demo_signing),
    )
    try:
        copy = await _store_copy(
            session, docs, access, signed, number=latest.number + 1, signer_role=str(role)
        )
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(
            Code.MINUTES_SIGNED_MEANWHILE, f"copy {latest.number + 1} of the minutes was stored meanwhile"
        ) from exc
    details = {"copy": copy.number, "sha256": copy.sha256, "role": str(role)}
    await _record(session, broker, access, "minutes.sign", details)
    return await minutes_state(session, settings, access)


async def minutes_signatures(
    session: AsyncSession, docs: DocsRuntime, settings: Settings, access: MeetingAccess
) -> SignatureReport:
    """The signatures of the newest stored copy, checked (none before approval)."""
    copies = await _copies(session, access.meeting.id)
    if not copies:
        return SignatureReport(signatures=[], valid=False)
    pdf = docs.store.blob_path(copies[-1].sha256).read_bytes()
    return await verify_pdf_async(pdf, configured_trust_roots(settings, demo=settings.demo_signing))
