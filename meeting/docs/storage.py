"""Content-addressed storage: PDFs named by their sha256, the files they were made from (an Office file,
a damaged PDF as received) beside them, rendered pages cached apart."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

IMAGE_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
CHUNK = 1024 * 1024


class BlobStore:
    """Files under `<data_dir>/documents`: blobs/, pages/ (cache) and tmp/ (uploads in progress)."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "documents"
        self.tmp = self.root / "tmp"

    def temporary(self, suffix: str = "") -> Path:
        """A fresh path in the temporary folder (same file system as the blobs, so os.replace is atomic)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{uuid.uuid4().hex}{suffix}"

    def blob_path(self, sha256: str) -> Path:
        """Where the PDF with this hash lives."""
        return self.root / "blobs" / sha256[:2] / f"{sha256}.pdf"

    def original_path(self, sha256: str) -> Path:
        """Where a received file that is not itself the served PDF lives (kept for managers, backed up
        with the blobs)."""
        return self.root / "blobs" / sha256[:2] / f"{sha256}.original"

    def has(self, sha256: str) -> bool:
        """Whether this content is already stored."""
        return self.blob_path(sha256).exists()

    def put(self, source: Path, sha256: str, *, original: bool = False) -> bool:
        """Move a verified temporary file into place atomically (as a PDF blob, or as an original);
        False if the content was already there."""
        target = self.original_path(sha256) if original else self.blob_path(sha256)
        if target.exists():
            source.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)
        return True

    def remove(self, sha256: str) -> None:
        """Delete a blob and its cached pages (used to undo a store whose database write failed)."""
        self.blob_path(sha256).unlink(missing_ok=True)
        pages = self.pages_dir(sha256)
        if pages.is_dir():
            for path in pages.iterdir():
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                pages.rmdir()

    def remove_original(self, sha256: str) -> None:
        """Delete a stored original (used to undo a store whose database write failed)."""
        self.original_path(sha256).unlink(missing_ok=True)

    def pages_dir(self, sha256: str) -> Path:
        """The cache folder of one blob's rendered pages."""
        return self.root / "pages" / sha256[:2] / sha256

    def page_path(self, sha256: str, page: int, width: int, fmt: str) -> Path:
        """The cached image of a page: keyed by (content hash, page, width, format)."""
        return self.pages_dir(sha256) / f"{page}-{width}.{IMAGE_EXTENSIONS[fmt]}"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
