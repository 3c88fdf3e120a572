"""Search across a meeting's documents, ignoring case and Vietnamese diacritics, on every database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.api import upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from tests.support.api import Council

RESOLUTION = [
    "Căn cứ Luật Tổ chức chính quyền địa phương;",
    "QUYẾT ĐỊNH: Điều 1. Phê duyệt dự toán ngân sách huyện Đông Anh năm 2027.",
    "Điều 2. Quyết định này có hiệu lực kể từ ngày ký. Quyết định số 12 thay thế quyết định số 7.",
]
REPORT = ["Báo cáo tình hình kinh tế - xã hội.", "Tổng giá trị sản xuất tăng 8,2%; thu ngân sách đạt 112%."]


async def _search(council: Council, q: str, as_: str = "delegate1") -> list[dict[str, object]]:
    return list(await council.api.ok("GET", f"{council.url}/search", as_, params={"q": q}))


@pytest.fixture
async def documents(council: Council) -> dict[str, int]:
    """A resolution (1 page per paragraph) and a report."""
    resolution = await upload(
        council, [("Nghị quyết.pdf", make_pdf("Nghị quyết", RESOLUTION, 3), "application/pdf")]
    )
    report = await upload(council, [("Báo cáo.pdf", make_pdf("Báo cáo", REPORT, 1), "application/pdf")])
    return {"resolution": resolution.json()["id"], "report": report.json()["id"]}


@pytest.mark.parametrize("query", ["quyet dinh", "Quyết định", "QUYẾT ĐỊNH", "quyẾt ĐịNH", "QUYET DINH"])
async def test_search_ignores_case_and_diacritics_both_ways(
    council: Council, documents: dict[str, int], query: str
) -> None:
    hits = await _search(council, query)
    assert {(h["documentId"], h["page"]) for h in hits} == {
        (documents["resolution"], 2),
        (documents["resolution"], 3),
    }


async def test_d_with_stroke_folds_to_d(council: Council, documents: dict[str, int]) -> None:
    assert [h["page"] for h in await _search(council, "dong anh")] == [2]
    assert [h["page"] for h in await _search(council, "ĐÔNG ANH")] == [2]


async def test_best_page_comes_first_with_a_highlighted_snippet(
    council: Council, documents: dict[str, int]
) -> None:
    hits = await _search(council, "quyết định")
    # Page 3 says "quyết định" three times, page 2 once.
    assert [h["page"] for h in hits] == [3, 2]
    assert "<mark>Quyết định</mark> này" in str(hits[0]["snippet"])
    assert hits[0]["title"] == "Nghị quyết"


async def test_every_word_must_appear(council: Council, documents: dict[str, int]) -> None:
    assert [(h["documentId"], h["page"]) for h in await _search(council, "ngan sach 2027")] == [
        (documents["resolution"], 2)
    ]
    assert {h["documentId"] for h in await _search(council, "ngan sach")} == set(documents.values())
    assert await _search(council, "ngân sách xã hội chủ nghĩa") == []


async def test_like_wildcards_in_the_query_are_literal(council: Council, documents: dict[str, int]) -> None:
    # Only the report holds a literal "%"; nothing holds "_".
    assert [h["documentId"] for h in await _search(council, "%")] == [documents["report"]]
    assert await _search(council, "_") == []
    assert [h["page"] for h in await _search(council, "8,2%")] == [1]


async def test_empty_query_is_refused(council: Council, documents: dict[str, int]) -> None:
    response = await council.api.call("GET", f"{council.url}/search", "delegate1", params={"q": "  "})
    assert response.status_code == 422


async def test_search_sees_only_the_current_version(council: Council, documents: dict[str, int]) -> None:
    files = [("file", ("v2.pdf", make_pdf("Nghị quyết", ["Văn bản đã sửa."], 1), "application/pdf"))]
    await council.api.ok(
        "POST", f"{council.url}/documents/{documents['resolution']}/versions", "secretary", files=files
    )
    assert await _search(council, "quyet dinh") == []
    assert [h["documentId"] for h in await _search(council, "van ban da sua")] == [documents["resolution"]]
