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
    # "%" and "_" are not words: alone they are an empty query; beside digits they separate words.
    for query in ("%", "_"):
        response = await council.api.call("GET", f"{council.url}/search", "delegate1", params={"q": query})
        assert (response.status_code, response.json()["code"]) == (422, "search.query_empty")
    assert [h["page"] for h in await _search(council, "8,2%")] == [1]


async def test_only_whole_words_are_found_and_highlighted(council: Council) -> None:
    await upload(council, make_pdf("Thực", ["ĐỀ ÁN THỰC HIỆN THỰ NGHIỆM."], 1))
    hits = await _search(council, "thự")
    assert len(hits) == 1
    assert "<mark>THỰ</mark> NGHIỆM" in str(hits[0]["snippet"])
    assert "<mark>THỰ</mark>C" not in str(hits[0]["snippet"])
    assert await _search(council, "thu nghiem de an thuc hien thuy") == []


async def test_a_query_with_diacritics_ranks_its_exact_spelling_first(council: Council) -> None:
    near = await upload(council, make_pdf("Gần", ["Trang đảm thư đảm thư đảm thư."], 1))
    exact = await upload(council, make_pdf("Đúng", ["Trang đậm thử."], 1))
    bare = await upload(council, make_pdf("Không dấu", ["Trang dam thu dam thu."], 1))
    ids = [h["documentId"] for h in await _search(council, "đậm thử")]
    assert ids[0] == exact.json()["id"]
    assert set(ids) == {near.json()["id"], exact.json()["id"], bare.json()["id"]}
    # Without diacritics every spelling is as good: the most hits come first.
    assert (await _search(council, "dam thu"))[0]["documentId"] == near.json()["id"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"quyết',
        "quyết*",
        "NEAR(quyết định)",
        "quyết NEAR định",
        "quyết AND OR NOT định",
        "folded : quyết",
        "spelled:định",
        "^quyết",
        "{folded spelled}: x",
        "quyết) OR (định",
        "'; DROP TABLE documents; --",
        "\\ \x00 ' \" ( ) [ ] { } : ; - + ~ < > & | !",
        "quyết " * 300,
        "𝓆𝓊𝓎ế𝓉 🏛️ 漢字",
    ],
)
async def test_hostile_queries_get_a_clean_answer(
    council: Council, documents: dict[str, int], query: str
) -> None:
    for url in (f"{council.url}/search", "/api/search"):
        response = await council.api.call("GET", url, "delegate1", params={"q": query})
        assert response.status_code in (200, 400, 422), (query, response.text)
        body = response.json()
        if response.status_code == 200:
            assert isinstance(body, list)
        else:
            assert body["code"] in ("search.query_empty", "request.invalid"), body


async def test_query_syntax_words_are_searched_as_plain_words(council: Council) -> None:
    await upload(council, make_pdf("Near", ["Khu vực NEAR cầu AND đường."], 1))
    assert len(await _search(council, "near cau")) == 1
    assert len(await _search(council, "and duong")) == 1
    assert len(await _search(council, '"near" cầu*')) == 1


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


async def _everywhere(council: Council, as_: str, **params: str) -> list[dict[str, object]]:
    return list(await council.api.ok("GET", "/api/search", as_, params=params))


@pytest.fixture
async def two_meetings(council: Council, documents: dict[str, int]) -> dict[str, int]:
    """Meeting B of January 2027 where only `outsider` is invited (as a delegate), with a confidential
    budget; the council's meeting A (December 2026) has the resolution and the report."""
    b = await council.api.ok(
        "POST",
        "/api/meetings",
        "secretary",
        json={
            "title": "Kỳ họp thứ 13",
            "startsAt": "2027-01-10T08:00:00+07:00",
            "endsAt": "2027-01-10T17:00:00+07:00",
            "location": "Phòng 2",
        },
    )
    url = f"/api/meetings/{b['id']}"
    await council.api.ok(
        "POST",
        f"{url}/participants",
        "secretary",
        json={"userId": council.api.ids["outsider"], "role": "delegate"},
    )
    files = [
        (
            "file",
            (
                "Dự toán.pdf",
                make_pdf("Dự toán", ["Dự toán ngân sách năm 2027, tài liệu mật."], 1),
                "application/pdf",
            ),
        )
    ]
    budget = await council.api.ok(
        "POST", f"{url}/documents", "secretary", files=files, data={"classification": "confidential"}
    )
    return {"a": council.meeting_id, "b": b["id"], "budget": budget["id"]}


async def test_search_everywhere_shows_only_my_meetings(
    council: Council, two_meetings: dict[str, int]
) -> None:
    mine = await _everywhere(council, "delegate1", q="ngan sach")
    assert {h["meetingId"] for h in mine} == {two_meetings["a"]}
    theirs = await _everywhere(council, "outsider", q="ngan sach")
    assert [(h["meetingId"], h["documentId"]) for h in theirs] == [
        (two_meetings["b"], two_meetings["budget"])
    ]
    assert theirs[0]["meetingTitle"] == "Kỳ họp thứ 13"
    # The confidential budget is read by its meeting's participants, so found by them, and marked.
    assert theirs[0]["classification"] == "confidential"
    # Both meetings: the secretary takes part in both, an admin sees all.
    for who in ("secretary", "admin"):
        assert {h["meetingId"] for h in await _everywhere(council, who, q="ngan sach")} == {
            two_meetings["a"],
            two_meetings["b"],
        }
    # A meeting id of someone else's meeting finds nothing rather than telling it exists.
    assert await _everywhere(council, "delegate1", q="ngan sach", meetingId=str(two_meetings["b"])) == []
    # Nor does the per-meeting search of a meeting one is not in.
    response = await council.api.call(
        "GET", f"/api/meetings/{two_meetings['b']}/search", "delegate1", params={"q": "ngan sach"}
    )
    assert response.status_code in (403, 404)


async def test_search_everywhere_filters_by_meeting_and_date(
    council: Council, two_meetings: dict[str, int]
) -> None:
    def meetings(hits: list[dict[str, object]]) -> set[object]:
        return {h["meetingId"] for h in hits}

    assert meetings(
        await _everywhere(council, "secretary", q="ngan sach", meetingId=str(two_meetings["b"]))
    ) == {two_meetings["b"]}
    january = {"from": "2027-01-01T00:00:00+07:00", "to": "2027-02-01T00:00:00+07:00"}
    assert meetings(await _everywhere(council, "secretary", q="ngan sach", **january)) == {two_meetings["b"]}
    before = {"to": "2027-01-01T00:00:00+07:00"}
    assert meetings(await _everywhere(council, "secretary", q="ngan sach", **before)) == {two_meetings["a"]}
    backwards = {"from": "2027-02-01T00:00:00+07:00", "to": "2027-01-01T00:00:00+07:00"}
    assert await _everywhere(council, "secretary", q="ngan sach", **backwards) == []


async def test_deleted_documents_leave_the_search_everywhere(
    council: Council, two_meetings: dict[str, int]
) -> None:
    await council.api.ok(
        "DELETE", f"/api/meetings/{two_meetings['b']}/documents/{two_meetings['budget']}", "secretary"
    )
    assert {h["meetingId"] for h in await _everywhere(council, "secretary", q="ngan sach")} == {
        two_meetings["a"]
    }


async def test_search_everywhere_needs_a_login(council: Council, documents: dict[str, int]) -> None:
    response = await council.api.call("GET", "/api/search", None, params={"q": "ngan sach"})
    assert response.status_code == 401
