"""Request, response and event shapes of meeting materials."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

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
    created_at: dt.datetime
    created_by_id: int | None
    # Pages without a text layer (scans): not searchable until OCR exists.
    textless_pages: list[int]
    # Append "/{page}?width=200|1280|2048"; the session cookie authenticates <img> requests.
    pages_url: str


class DocumentRead(Schema):
    """A document with its current version."""

    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    classification: DocumentClassification
    created_at: dt.datetime
    current_version: VersionRead
    version_ids: list[int]


class DocumentUpdate(Schema):
    """Changes to a document's title or classification (its content changes by a new version)."""

    title: Annotated[str, ShortText] | None = None
    classification: DocumentClassification | None = None


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
    score: int


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
