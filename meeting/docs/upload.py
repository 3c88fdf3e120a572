"""Streaming multipart parsing: file parts go straight to temporary files, never whole into memory."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multipart import (  # type: ignore[import-untyped]
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

from meeting.errors import Code, InvalidInput, TooLarge, UnsupportedMedia

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from meeting.docs.storage import BlobStore

# Headroom for part headers and small fields on top of the file-size limit.
ENVELOPE_BYTES = 64 * 1024
FIELD_LIMIT = 4096
# Room for the most scanned images of one upload (service.MAX_IMAGES, 200) and the form fields.
MAX_PARTS = 256


@dataclass
class Incoming:
    """One uploaded file, already on disk, with its hash and what the client said it is."""

    path: Path
    file_name: str
    content_type: str
    size: int
    sha256: str


@dataclass
class Upload:
    """The files and text fields of a multipart upload."""

    files: list[Incoming] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove the temporary files."""
        for incoming in self.files:
            incoming.path.unlink(missing_ok=True)


async def receive_upload(
    stream: AsyncIterator[bytes], content_type: str, content_length: int | None, limit: int, store: BlobStore
) -> Upload:
    """Parse a multipart body into temporary files; 413 once the files pass `limit` bytes in total.

    Raises:
        TooLarge: the files are larger than allowed.
        UnsupportedMedia: the body is not multipart/form-data.
        InvalidInput: the body is malformed.
    """
    kind, options = parse_options_header(content_type or "")
    if kind != "multipart/form-data" or not options.get("boundary"):
        raise UnsupportedMedia(
            Code.DOCUMENT_NOT_MULTIPART, "send the file as multipart/form-data (field 'file')"
        )
    if content_length is not None and content_length > limit + ENVELOPE_BYTES:
        raise TooLarge(
            Code.DOCUMENT_TOO_LARGE, f"the upload is {content_length} bytes; at most {limit} are accepted"
        )
    upload = Upload()
    total = 0
    handle: Any = None
    digest: Any = None
    segment: MultipartSegment | None = None
    text = bytearray()
    try:
        with PushMultipartParser(options["boundary"], max_segment_count=MAX_PARTS) as parser:
            async for chunk in _chunks(stream):
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment = part
                        if part.filename is not None:
                            path = store.temporary()
                            handle = path.open("wb")
                            digest = hashlib.sha256()
                            upload.files.append(
                                Incoming(path, part.filename, (part.content_type or "").lower(), 0, "")
                            )
                        text.clear()
                    elif part:
                        if handle is not None:
                            total += len(part)
                            if total > limit:
                                raise TooLarge(
                                    Code.DOCUMENT_TOO_LARGE, f"the upload is larger than {limit} bytes"
                                )
                            handle.write(part)
                            digest.update(part)
                            upload.files[-1].size += len(part)
                        else:
                            text.extend(part)
                            if len(text) > FIELD_LIMIT:
                                raise InvalidInput(
                                    Code.DOCUMENT_MALFORMED_UPLOAD,
                                    f"form field {segment.name if segment else '?'} is too long",
                                )
                    elif segment is not None:  # end of a part
                        if handle is not None:
                            handle.close()
                            handle = None
                            upload.files[-1].sha256 = digest.hexdigest()
                        else:
                            upload.fields[segment.name] = text.decode(segment.charset or "utf-8", "replace")
                        segment = None
                if parser.closed:
                    break
            if not parser.closed:
                raise InvalidInput(Code.DOCUMENT_MALFORMED_UPLOAD, "the multipart body ended early")
    except (ParserError, ParserLimitReached) as exc:
        _close(handle)
        upload.discard()
        raise InvalidInput(Code.DOCUMENT_MALFORMED_UPLOAD, f"malformed multipart body: {exc}") from exc
    except BaseException:
        _close(handle)
        upload.discard()
        raise
    return upload


async def _chunks(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in stream:
        if chunk:
            yield chunk
    yield b""  # tells the parser the body has ended


def _close(handle: Any) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            handle.close()
