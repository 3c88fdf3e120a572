"""Shared msgspec bases: camelCase structs that refuse unknown fields."""

from __future__ import annotations

import msgspec


class Schema(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request and response bodies: camelCase on the wire, unknown fields refused."""


class ErrorBody(Schema):
    """The JSON body of every 4xx/5xx response."""

    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


# Reusable length limits keep bodies bounded; the database columns match them.
ShortText = msgspec.Meta(min_length=1, max_length=200)
LongText = msgspec.Meta(max_length=20_000)
