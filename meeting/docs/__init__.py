"""Meeting materials: upload, safe parsing in workers, page rendering, search, watermarked downloads.

`meeting.docs.signing` (digital signatures) and `meeting.docs.demo_ca` are imported by their own path,
not from here: pyHanko takes ~0.4 s to import, paid only by what signs or verifies.
"""

from meeting.docs.deps import Docs, provide_docs
from meeting.docs.models import (
    Document,
    DocumentClassification,
    DocumentDownload,
    DocumentPage,
    DocumentVersion,
)
from meeting.docs.plugin import DocsPlugin
from meeting.docs.render import DocsRuntime
from meeting.docs.schemas import DocumentProgress, DocumentRead, DocumentRenderProgress, SearchHit
from meeting.docs.service import VersionRef, document_progress, find_version, titles_by_item
from meeting.docs.text import fold

__all__ = [
    "Docs",
    "DocsPlugin",
    "DocsRuntime",
    "Document",
    "DocumentClassification",
    "DocumentDownload",
    "DocumentPage",
    "DocumentProgress",
    "DocumentRead",
    "DocumentRenderProgress",
    "DocumentVersion",
    "SearchHit",
    "VersionRef",
    "document_progress",
    "find_version",
    "fold",
    "provide_docs",
    "titles_by_item",
]
