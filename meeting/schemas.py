"""Shared msgspec bases: camelCase structs that refuse unknown fields."""

from __future__ import annotations

from typing import Self

import msgspec


class Schema(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request and response bodies: camelCase on the wire, unknown fields refused."""

    @classmethod
    def from_row(cls, row: object, **computed: object) -> Self:
        """This schema filled from a row's attributes of the same names; `computed` gives the fields the
        row has not (the caller's role, a count) or holds in another form (a JSON column, a relation's
        column). Every value is checked against the field's type, computed ones included."""
        return msgspec.convert(_Overlay(row, computed) if computed else row, cls, from_attributes=True)


class _Overlay:
    """A row seen through a few computed attributes, which take precedence over the row's own."""

    __slots__ = ("_computed", "_row")

    def __init__(self, row: object, computed: dict[str, object]) -> None:
        self._row = row
        self._computed = computed

    def __getattr__(self, name: str) -> object:
        # Called only for names that are not slots: the schema's fields.
        if name in self._computed:
            return self._computed[name]
        return getattr(self._row, name)


class ErrorBody(Schema):
    """The JSON body of every 4xx/5xx response: `code` is stable (meeting/errors.py `Code`)."""

    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] | None = None


# Reusable length limits keep bodies bounded; the database columns match them.
ShortText = msgspec.Meta(min_length=1, max_length=200)
LongText = msgspec.Meta(max_length=20_000)
