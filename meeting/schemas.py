"""Shared msgspec bases: camelCase structs that refuse unknown fields."""

from __future__ import annotations

from typing import Self

import msgspec


class Schema(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request and response bodies: camelCase on the wire, unknown fields refused."""

    @classmethod
    def from_row(cls, row: object) -> Self:
        """This schema filled from a table row's attributes of the same names."""
        return msgspec.convert(row, cls, from_attributes=True)


class ErrorBody(Schema):
    """The JSON body of every 4xx/5xx response: `code` is stable (meeting/errors.py `Code`)."""

    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] | None = None


# Reusable length limits keep bodies bounded; the database columns match them.
ShortText = msgspec.Meta(min_length=1, max_length=200)
LongText = msgspec.Meta(max_length=20_000)
