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
