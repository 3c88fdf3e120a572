"""Signing on this server: where a signer's key comes from, and the chair's signature on resolutions.

The minutes (`meeting.voting.approval.sign_minutes`) and resolutions share what is here: the sources a
signer may choose (`signing_sources`), and the one function that turns a `SignatureRequest` into
credentials (`credentials_for`). The credentials serve one signature: nothing of them is stored.

A resolution (nghị quyết) is a document marked so by the chair or secretary. The chair signs its current
version; the signed PDF becomes the document's next version through the path of an uploaded one
(`service.add_version`: inspected in the worker, rendered, searchable, chained as `document.version`,
announced to the room), so the unsigned draft stays readable beside it.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from meeting.agenda.models import ParticipantRole
from meeting.docs import service
from meeting.docs.demo_ca import DEMO_CA_DIR
from meeting.docs.schemas import SigningSource
from meeting.docs.signing import (
    Credentials,
    Pkcs12File,
    SignatureReport,
    TokenKey,
    configured_trust_roots,
    sign_pdf_async,
    verify_pdf_async,
)
from meeting.docs.upload import Incoming, Upload
from meeting.errors import Code, Forbidden, InvalidInput, InvalidState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker
    from meeting.docs.render import DocsRuntime
    from meeting.docs.schemas import DocumentRead, SignatureRequest
    from meeting.settings import Settings
    from meeting.users.models import User

# The chair's field, as on the minutes: one signature of the chair per signed version.
RESOLUTION_FIELD = "chu-toa"
RESOLUTION_REASON = "Chủ tọa ký nghị quyết"
SIGNED_SUFFIX = " (đã ký)"


def signing_sources(settings: Settings) -> list[SigningSource]:
    """How signers may sign on this server."""
    sources = [SigningSource.pkcs12]
    if settings.pkcs11_module and settings.pkcs11_token:
        sources.append(SigningSource.token)
    if settings.demo_signing:
        sources.append(SigningSource.demo)
    return sources


def credentials_for(settings: Settings, user: User, request: SignatureRequest) -> Credentials:
    """The key a signer chose: their own PKCS#12 file, the server token's key labelled with their
    username, or (demo mode only) the demo CA's certificate issued to them.

    Raises:
        InvalidInput: no file sent, or no demo certificate for this user.
        Unavailable: no token is configured.
    """
    username = user.username
    if request.source == SigningSource.token:
        return TokenKey.from_settings(settings, username)
    if request.source == SigningSource.demo:
        path = settings.data_dir / DEMO_CA_DIR / f"{username}.p12"
        if not settings.demo_signing or not path.is_file():
            raise InvalidInput(Code.SIGNING_NO_CERTIFICATE, f"there is no demo certificate for {username}")
        return Pkcs12File(path.read_bytes(), request.password)
    if not request.pkcs12:
        raise InvalidInput(Code.SIGNING_NO_CERTIFICATE, "pkcs12 (the signer's .p12/.pfx file) is missing")
    return Pkcs12File(request.pkcs12, request.password)


def _signed_name(file_name: str) -> str:
    stem = PurePosixPath(file_name).stem or "nghi-quyet"
    return f"{stem if stem.endswith(SIGNED_SUFFIX) else stem + SIGNED_SUFFIX}.pdf"


async def sign_resolution(
    session: AsyncSession,
    broker: Broker,
    runtime: DocsRuntime,
    settings: Settings,
    access: MeetingAccess,
    document_id: int,
    request: SignatureRequest,
) -> DocumentRead:
    """The chair signs a resolution's current version; the signed PDF is stored as the next version.

    Only the meeting's chair: a signature is personal, so an administrator who is not the chair may not
    sign in their place. A version the chair has signed already is refused by pyHanko's check
    (`signing.field_taken`): the same field cannot be signed twice.
    """
    meeting = access.meeting
    if access.role != ParticipantRole.chair:
        raise Forbidden(
            Code.RESOLUTION_CHAIR_ONLY, f"only the chair of meeting {meeting.id} signs its resolutions"
        )
    access.require_open_record()
    document = await service.load_document(session, access, document_id)
    if not document.resolution:
        raise InvalidState(
            Code.RESOLUTION_NOT_MARKED,
            f"document {document.id} is not marked as a resolution; mark it first, then sign it",
        )
    version = await service.load_version(session, document, None)
    credentials = credentials_for(settings, access.user, request)
    signed = await sign_pdf_async(
        runtime.store.blob_path(version.sha256).read_bytes(),
        credentials,
        field_name=RESOLUTION_FIELD,
        signer_name=access.user.display_name,
        reason=RESOLUTION_REASON,
        location=meeting.location,
        trust_roots=configured_trust_roots(settings, demo=settings.demo_signing),
    )
    path = runtime.store.temporary(".pdf")
    path.write_bytes(signed)
    digest = hashlib.sha256(signed).hexdigest()
    incoming = Incoming(path, _signed_name(version.file_name), "application/pdf", len(signed), digest)
    return await service.add_version(
        session, broker, runtime, access, document, Upload(files=[incoming]), signature_field=RESOLUTION_FIELD
    )


async def document_signatures(
    session: AsyncSession, runtime: DocsRuntime, settings: Settings, access: MeetingAccess, document_id: int
) -> SignatureReport:
    """The signatures of a document's current version, each checked (an empty report when unsigned)."""
    document = await service.load_document(session, access, document_id)
    version = await service.load_version(session, document, None)
    pdf = runtime.store.blob_path(version.sha256).read_bytes()
    return await verify_pdf_async(pdf, configured_trust_roots(settings, demo=settings.demo_signing))
