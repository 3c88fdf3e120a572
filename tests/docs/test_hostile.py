"""Broken and hostile files are refused cleanly: clear 422/413, nothing stored, the server keeps serving."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from meeting.docs.models import Document, DocumentPage, DocumentVersion
from tests.support.api import upload
from tests.support.files import (
    blank_pdf,
    encrypted_pdf,
    make_pdf,
    slow_pdf,
    stored_files,
    zip_file,
)
from tests.support.servers import served_client

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.api import Council

HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    # Damaged files that MuPDF repairs are accepted (test_repair.py); one with nothing left is not.
    "header-only": (lambda: b"%PDF-1.7\n%%EOF\n", "damaged"),
    "encrypted": (encrypted_pdf, "password-protected"),
    "ten-thousand-pages": (lambda: blank_pdf(10_000), "10000 pages; at most 2000"),
    "huge-page": (lambda: blank_pdf(1, 20_000, 20_000), "20000 × 20000 pt"),
    "zero-bytes": (lambda: b"", "empty"),
    "zip-renamed-pdf": (zip_file, "not a valid PDF"),
}


async def _nothing_stored(db: AsyncSession, settings: Settings) -> None:
    for table in (Document, DocumentVersion, DocumentPage):
        assert await db.scalar(select(func.count()).select_from(table)) == 0
    assert stored_files(settings.data_dir) == []


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_file_is_refused_and_leaves_nothing(
    council: Council, db: AsyncSession, settings: Settings, name: str
) -> None:
    build, message = HOSTILE[name]
    response = await upload(council, [(f"{name}.pdf", build(), "application/pdf")])
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    await _nothing_stored(db, settings)
    # The workers survived (or were replaced): a good file still goes through.
    assert (await upload(council, make_pdf(pages=1))).status_code == 201


async def test_corrupt_image_is_refused(council: Council, db: AsyncSession, settings: Settings) -> None:
    files = [("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/jpeg")]
    response = await upload(council, files)
    assert response.status_code == 422
    assert "damaged" in response.json()["detail"]
    await _nothing_stored(db, settings)


async def test_slow_file_is_stopped_while_other_requests_are_served(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    data = slow_pdf()
    finished: dict[str, float] = {}
    async with served_client(dataclasses.replace(settings, worker_timeout_seconds=1.0)) as http:

        async def slow_upload() -> int:
            response = await http.post(
                f"{council.url}/documents",
                headers=council.api.headers("secretary"),
                files=[("file", ("cham.pdf", data, "application/pdf"))],
            )
            finished["upload"] = time.monotonic()
            return int(response.status_code)

        async def meanwhile() -> None:
            await asyncio.sleep(0.3)
            response = await http.get(f"{council.url}/documents", headers=council.api.headers("delegate1"))
            assert response.status_code == 200
            finished["list"] = time.monotonic()

        started = time.monotonic()
        status, _ = await asyncio.gather(slow_upload(), meanwhile())
        assert status == 422
        assert finished["list"] < finished["upload"]
        assert finished["upload"] - started >= 1.0
        await _nothing_stored(db, settings)
        good = await http.post(
            f"{council.url}/documents",
            headers=council.api.headers("secretary"),
            files=[("file", ("tot.pdf", make_pdf(pages=1), "application/pdf"))],
        )
        assert good.status_code == 201


@pytest.mark.docs_settings(max_pages=2)
async def test_page_limit_comes_from_settings(council: Council) -> None:
    response = await upload(council, make_pdf(pages=3))
    assert response.status_code == 422
    assert "3 pages; at most 2" in response.json()["detail"]
