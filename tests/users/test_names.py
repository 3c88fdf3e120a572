"""The display-name rule, table-tested: what is normalised, what is refused."""

from __future__ import annotations

import re

import pytest

from meeting.users.names import clean_display_name, same_name


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("  Nguyễn   Văn\tAn ", "Nguyễn Văn An"),
        ("Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An"),  # decomposed marks become NFC
        ("Trần Thị Bình (Thư ký)", "Trần Thị Bình (Thư ký)"),
        ("Hai\ndòng", "Hai dòng"),
        ("Dòng\u2028mới", "Dòng mới"),
    ],
)
def test_names_are_normalised(raw: str, stored: str) -> None:
    assert clean_display_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("Nguyễn\u202eVăn", "U+202E"),  # right-to-left override
        ("Văn\u200bEvil", "U+200B"),  # zero-width space
        ("An\u200d", "U+200D"),  # zero-width joiner
        ("Bình\u2066", "U+2066"),  # left-to-right isolate
        ("Chủ\x00tọa", "U+0000"),
        ("\ue000Riêng", "U+E000"),  # private use
        ("   ", "empty"),
    ],
)
def test_names_that_would_not_show_as_themselves_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        clean_display_name(raw)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Nguyễn Văn An", "nguyễn văn an", True),
        ("Nguyễn Văn An", "Nguyễn Văn Ân", False),
        ("Đại biểu 1", "Đại biểu 2", False),
    ],
)
def test_names_that_read_the_same_are_the_same(one: str, other: str, same: bool) -> None:
    assert same_name(one, other) is same
