"""Request, response and event shapes of meeting materials."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import msgspec

from meeting.broker import Event
from meeting.docs.models import DocumentClassification
from meeting.schemas import Schema, ShortText

RENDER_WIDTHS = (200, 1280, 2048)
DEFAULT_WIDTH = 1280


class VersionRead(Schema):
    """One version of a document."""

    id: int
    number: int
    page_count: int
    rendered_pages: int
    size_bytes: int
    sha256: str
    file_name: str
    # The file as received when it is not this PDF (an Office file; a damaged PDF, stored repaired):
    # the chair and secretary download it with ?original=true. None: the PDF is what was uploaded.
    original_name: str | None
    created_at: dt.datetime
    created_by_id: int | None
    # Pages without a text layer (scans): not searchable until OCR exists.
    textless_pages: list[int]
    # Made here by a signature (the chair's, on a resolution); an uploaded signed PDF does not count.
    signed: bool
    # Append "/{page}?width=200|1280|2048"; the session cookie authenticates <img> requests.
    pages_url: str


class DocumentRead(Schema):
    """A document with its current version."""

    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    classification: DocumentClassification
    # A resolution (nghị quyết) of the council: the chair signs it (POST …/sign).
    resolution: bool
    created_at: dt.datetime
    current_version: VersionRead
    version_ids: list[int]


class DocumentUpdate(Schema):
    """Changes to a document's title, classification or resolution mark (its content changes by a new
    version)."""

    title: Annotated[str, ShortText] | None = None
    classification: DocumentClassification | None = None
    resolution: bool | None = None


class SigningSource(enum.StrEnum):
    """Where the key of a signature comes from."""

    pkcs12 = "pkcs12"  # the signer's own file, sent with this request only
    token = "token"  # the PKCS#11 token configured on the server
    demo = "demo"  # the demo CA's certificate for this user (demo mode only)


class SignatureRequest(Schema):
    """A signature on the minutes or a resolution; `pkcs12` (base64) and `password` are used once, never
    kept."""

    source: SigningSource
    pkcs12: Annotated[bytes, msgspec.Meta(max_length=64 * 1024)] | None = None
    password: Annotated[str, msgspec.Meta(max_length=200)] = ""


class DocumentProgress(Schema):
    """How far the background rendering of a document's current version has come."""

    document_id: int
    version_id: int
    title: str
    agenda_item_id: int | None
    page_count: int
    rendered_pages: int
    done: bool


class SearchHit(Schema):
    """A page matching a search, with an HTML-escaped snippet whose hits are wrapped in <mark>."""

    document_id: int
    version_id: int
    title: str
    page: int
    snippet: str
    # Higher first: words spelled with the query's exact diacritics, then phrase and word hits.
    score: int
    meeting_id: int
    meeting_title: str
    classification: DocumentClassification


class DocumentAdded(Event, tag="document.added"):
    """A document was uploaded to the meeting."""

    document: DocumentRead


class DocumentChanged(Event, tag="document.changed"):
    """A document got a new version (earlier ones stay readable), or a new title or classification."""

    document: DocumentRead


class DocumentRemoved(Event, tag="document.removed"):
    """A document was deleted: it leaves listings and search."""

    document_id: int


class DocumentRenderProgress(Event, tag="document.render_progress"):
    """Pages of a version rendered so far in the background (throttled to a few per second)."""

    document_id: int
    version_id: int
    page_count: int
    rendered_pages: int
