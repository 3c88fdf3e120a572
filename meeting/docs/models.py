"""Tables of meeting materials: documents, their versions, page text, and the download audit log."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, UtcDateTime, utcnow


class DocumentClassification(enum.StrEnum):
    """How a document is to be handled; only confidential ones carry the "Tài liệu mật" stamp."""

    ordinary = "ordinary"
    confidential = "confidential"


class Document(Base):
    """A material of a meeting, optionally bound to an agenda item; its content lives in versions."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    classification: Mapped[DocumentClassification] = mapped_column(
        # Checked strings, as in the other domains' tables: portable and easy to migrate.
        Enum(DocumentClassification, native_enum=False, length=20, validate_strings=True),
        default=DocumentClassification.ordinary,
    )
    # A resolution (nghị quyết): the chair signs its current version, which becomes the next version.
    resolution: Mapped[bool] = mapped_column(Boolean, default=False)
    # No foreign key: versions point at their document, and a cycle would complicate deletes.
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Deleted documents leave listings and search; their versions stay for the audit trail.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DocumentVersion(Base):
    """One uploaded content of a document: an immutable PDF blob named by its sha256."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int] = mapped_column(Integer)
    # Pages rendered at the default width by the background renderer (on-demand renders are not counted).
    rendered_pages: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str] = mapped_column(String(255))
    # The file as received when it is not the PDF served (an Office file converted to PDF, a damaged PDF
    # stored repaired): kept for the chair and secretary; None when the PDF is what was uploaded.
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(255))
    original_type: Mapped[str | None] = mapped_column(String(100))
    # The signature field this version was made by adding ("chu-toa"); None for an uploaded version.
    signature_field: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DocumentPage(Base):
    """One page of a version: its size and text, plus a folded copy of the text for search."""

    __tablename__ = "document_pages"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    width_pt: Mapped[float] = mapped_column(Float)
    height_pt: Mapped[float] = mapped_column(Float)
    # False for scanned pages without a text layer (no OCR yet).
    has_text: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, default="")
    # Lower case, diacritics stripped, đ → d: accent-insensitive LIKE on SQLite and PostgreSQL alike.
    folded: Mapped[str] = mapped_column(Text, default="")


class DocumentDownload(Base):
    """Who downloaded which version, when, and whether watermarked or original."""

    __tablename__ = "document_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
