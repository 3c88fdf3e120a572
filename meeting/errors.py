"""Domain errors, mapped once to HTTP responses and WebSocket close codes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from litestar import MediaType, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ExceptionHandlersMap

log = logging.getLogger("meeting.errors")


class DomainError(Exception):
    """Base of the errors services raise; `detail` is a short, concrete, human sentence."""

    status_code: ClassVar[int] = 400
    close_code: ClassVar[int] = 4400

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class Unauthenticated(DomainError):
    """No valid credentials."""

    status_code = 401
    close_code = 4401


class Forbidden(DomainError):
    """Known user, not allowed to do this."""

    status_code = 403
    close_code = 4403


class NotFound(DomainError):
    """Unknown id, or one the caller may not know exists."""

    status_code = 404
    close_code = 4404


class Conflict(DomainError):
    """The request clashes with stored state (duplicate, already done)."""

    status_code = 409
    close_code = 4409


class InvalidState(Conflict):
    """A transition that the current state does not allow."""


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule."""

    status_code = 422
    close_code = 4422


class TooLarge(DomainError):
    """A body or file past the configured limit."""

    status_code = 413
    close_code = 4413


class UnsupportedMedia(DomainError):
    """A file type the server does not accept."""

    status_code = 415
    close_code = 4415


class RateLimited(DomainError):
    """Too many attempts; try again later."""

    status_code = 429
    close_code = 4429


class Unavailable(DomainError):
    """A backing service is down; the request may be retried."""

    status_code = 503
    close_code = 1013


def error_body(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    body: dict[str, Any] = {"status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _json(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> Response[Any]:
    return Response(content=error_body(status, detail, errors), status_code=status, media_type=MediaType.JSON)


def _domain_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _json(exc.status_code, exc.detail, exc.errors)


def _validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    return _json(exc.status_code, str(exc.detail), errors)


def _http_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    return _json(exc.status_code, str(exc.detail), errors)


DATABASE_DOWN = "the database is unavailable; please retry shortly"


def is_database_down(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached (retry later), not a bug."""
    if isinstance(exc, DBAPIError):
        return _is_connection_error(exc)
    return isinstance(exc, (PoolTimeoutError, ConnectionError))


def _database_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _json(503, DATABASE_DOWN)


def _internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error during %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, "internal server error")


def _is_connection_error(exc: DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False)) or isinstance(exc, OperationalError)


def _dbapi_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if _is_connection_error(exc):
        return _database_down_handler(request, exc)
    return _internal_handler(request, exc)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: _domain_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    DBAPIError: _dbapi_handler,
    PoolTimeoutError: _database_down_handler,
    ConnectionError: _database_down_handler,
    Exception: _internal_handler,
}
