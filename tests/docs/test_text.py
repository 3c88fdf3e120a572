"""Pure rules: Vietnamese folding, snippets, file names in headers."""

from __future__ import annotations

import pytest

from meeting.docs.text import ascii_fallback, content_disposition, fold, score, snippet


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Quyết định", "quyet dinh"),
        ("QUYẾT ĐỊNH", "quyet dinh"),
        ("Đà Nẵng", "da nang"),
        ("Nghị\nquyết   số 12", "nghi quyet so 12"),
        ("Quye\u0302\u0301t", "quyet"),  # decomposed input folds the same
    ],
)
def test_fold_ignores_case_diacritics_and_spacing(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_snippet_marks_hits_in_the_original_spelling() -> None:
    text = "Căn cứ Luật. QUYẾT ĐỊNH: Điều 1. Phê duyệt quyết định số 12."
    assert snippet(text, "quyet dinh") == (
        "Căn cứ Luật. <mark>QUYẾT ĐỊNH</mark>: Điều 1. Phê duyệt <mark>quyết định</mark> số 12."
    )


def test_snippet_escapes_html() -> None:
    assert snippet("a <b>dự toán</b>", "du toan") == "a &lt;b&gt;<mark>dự toán</mark>&lt;/b&gt;"


def test_phrase_hits_rank_above_scattered_words() -> None:
    assert score(fold("quyết định về dự toán"), "quyết định") > score(fold("quyết, rồi định"), "quyết định")


def test_content_disposition_has_utf8_name_and_ascii_fallback() -> None:
    header = content_disposition('Tờ trình số 12 "mật".pdf')
    assert header == (
        'attachment; filename="To trinh so 12 _mat_.pdf"; '
        "filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20s%E1%BB%91%2012%20%22m%E1%BA%ADt%22.pdf"
    )
    assert ascii_fallback("Đề án") == "De an"


@pytest.mark.parametrize(
    ("query", "better", "worse"),
    [
        # Typed with diacritics: the exact spelling first, whatever the counts of near misses.
        ("đậm thử", "đậm thử", "đảm thư đảm thư đảm thư"),
        ("đậm thử", "đậm thử", "dam thu dam thu"),
        ("đậm thử", "ĐẬM THỬ", "đám thú"),
        ("đậm thử", "đậm thử", "đậm thư"),
        ("đậm thử", "đậm thư", "đảm thư"),  # one word exact beats none
        ("Quyết định", "QUYẾT ĐỊNH số 12", "quyet dinh quyet dinh"),
        ("quyết định", "quyết định", "quyết, rồi định"),  # the exact phrase above scattered exact words
        # Only the words typed with diacritics must be exact.
        ("đậm thu", "đậm thư", "đảm thử"),
        # Typed without: no spelling is preferred, hits count.
        ("dam thu", "đảm thư đảm thư", "đậm thử"),
        # Whole words only: "thu" is not in "thực", so "đảm thực" gets nothing for it.
        ("dam thu", "đảm thư", "đảm thực"),
    ],
)
def test_ranking_prefers_the_exact_diacritics_typed(query: str, better: str, worse: str) -> None:
    assert score(better, query) > score(worse, query)


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("ĐỀ THỰC HIỆN THỰ", "thự", "ĐỀ THỰC HIỆN <mark>THỰ</mark>"),
        ("thực thu thuế", "thu", "thực <mark>thu</mark> thuế"),
        ("đảm thực, đậm thử", "đậm thử", "<mark>đảm</mark> thực, <mark>đậm thử</mark>"),
        ("Số 12/2026", "12", "Số <mark>12</mark>/2026"),
        ("Quye\u0302\u0301t định", "quyet", "<mark>Quyết</mark> định"),  # decomposed text, marked whole
        ("không có gì", "thu", ""),
        ("thuc", "!!!", ""),
    ],
)
def test_snippet_marks_whole_words_only(text: str, query: str, expected: str) -> None:
    assert snippet(text, query) == expected


def test_snippet_window_never_cuts_a_word() -> None:
    text = "mở đầu " * 30 + "quyết định" + " kết thúc" * 30
    excerpt = snippet(text, "quyet dinh", radius=20)
    assert excerpt.startswith("… ") and excerpt.endswith(" …")
    inner = excerpt[2:-2]
    assert inner.split(" ")[0] in ("mở", "đầu") and inner.split(" ")[-1] in ("kết", "thúc")
