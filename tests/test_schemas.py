"""Schema.from_row: the one way a row becomes a response shape."""

from __future__ import annotations

import dataclasses
import datetime as dt

import msgspec
import pytest

from meeting.schemas import Schema


class PageRead(Schema):
    id: int
    title: str
    page_count: int
    read_at: dt.datetime | None = None


@dataclasses.dataclass
class PageRow:
    id: int
    title: str
    page_count: str  # stored in another form than the schema shows
    secret: str = "never shown"


def test_from_row_copies_the_attributes_of_the_schemas_fields_only() -> None:
    read = PageRead.from_row(PageRow(1, "Báo cáo", "3"), page_count=3)
    assert read == PageRead(id=1, title="Báo cáo", page_count=3)


def test_computed_fields_take_precedence_over_the_rows_attributes() -> None:
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    read = PageRead.from_row(PageRow(1, "Báo cáo", "3"), title="Tờ trình", page_count=3, read_at=when)
    assert (read.title, read.read_at) == ("Tờ trình", when)


def test_computed_fields_are_checked_against_the_fields_types() -> None:
    with pytest.raises(msgspec.ValidationError, match="page_count"):
        PageRead.from_row(PageRow(1, "Báo cáo", "3"))
    with pytest.raises(msgspec.ValidationError, match="page_count"):
        PageRead.from_row(PageRow(1, "Báo cáo", "3"), page_count="three")
