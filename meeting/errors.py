"""Domain errors, mapped once to HTTP responses and WebSocket close codes."""

from __future__ import annotations

import logging
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from litestar import MediaType, Response
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

if TYPE_CHECKING:
    from litestar import Request
    from litestar.openapi.spec import OpenAPI
    from litestar.types import ExceptionHandlersMap

log = logging.getLogger("meeting.errors")


class Code(StrEnum):
    """Every stable error code: `code` in HTTP error bodies and in the socket's `error` events.

    Clients translate the code (web/i18n: `error.<code>`), never the English `detail`; a test checks
    that each one has a Vietnamese and an English text. A code names what went wrong, not where.
    """

    # Requests in general (also raised by the framework: validation, routing, limits)
    REQUEST_MALFORMED = "request.malformed"
    REQUEST_INVALID = "request.invalid"
    REQUEST_FORBIDDEN = "request.forbidden"
    REQUEST_NOT_FOUND = "request.not_found"
    REQUEST_METHOD_NOT_ALLOWED = "request.method_not_allowed"
    REQUEST_TOO_LARGE = "request.too_large"
    REQUEST_UNSUPPORTED_MEDIA = "request.unsupported_media"
    REQUEST_RATE_LIMITED = "request.rate_limited"
    REQUEST_FAILED = "request.failed"
    SERVER_ERROR = "server.error"
    SERVER_UNAVAILABLE = "server.unavailable"
    # Logging in and tokens
    AUTH_REQUIRED = "auth.required"
    AUTH_WRONG_LOGIN = "auth.wrong_login"
    AUTH_RATE_LIMITED = "auth.rate_limited"
    AUTH_TOKEN_EXPIRED = "auth.token_expired"
    AUTH_TOKEN_INVALID = "auth.token_invalid"
    AUTH_LOGGED_OUT = "auth.logged_out"
    AUTH_ACCOUNT_DISABLED = "auth.account_disabled"
    # Accounts
    USER_NOT_FOUND = "user.not_found"
    USER_LIST_FORBIDDEN = "user.list_forbidden"
    USER_CREATE_FORBIDDEN = "user.create_forbidden"
    USER_CHANGE_FORBIDDEN = "user.change_forbidden"
    USER_CANNOT_DEMOTE_SELF = "user.cannot_demote_self"
    USER_USERNAME_TAKEN = "user.username_taken"
    USER_DISPLAY_NAME_INVALID = "user.display_name_invalid"
    USER_DISPLAY_NAME_TAKEN = "user.display_name_taken"
    USER_EMAIL_INVALID = "user.email_invalid"
    # Meetings
    MEETING_NOT_FOUND = "meeting.not_found"
    MEETING_CREATE_FORBIDDEN = "meeting.create_forbidden"
    MEETING_CHAIR_ONLY = "meeting.chair_only"
    MEETING_CHAIR_OR_SECRETARY_ONLY = "meeting.chair_or_secretary_only"
    MEETING_NOT_PARTICIPANT = "meeting.not_participant"
    MEETING_ENDS_BEFORE_STARTS = "meeting.ends_before_starts"
    MEETING_TIME_OUT_OF_RANGE = "meeting.time_out_of_range"
    MEETING_UNKNOWN_TIMEZONE = "meeting.unknown_timezone"
    MEETING_NOT_EDITABLE = "meeting.not_editable"
    MEETING_INVALID_TRANSITION = "meeting.invalid_transition"
    MEETING_NOT_LIVE = "meeting.not_live"
    MEETING_ATTENDANCE_CLOSED = "meeting.attendance_closed"
    MEETING_ONLINE_NOT_ALLOWED = "meeting.online_not_allowed"
    MEETING_RECORD_FROZEN = "meeting.record_frozen"
    MEETING_MINUTES_NOT_APPROVED = "meeting.minutes_not_approved"
    MEETING_MINUTES_SUBMITTED = "meeting.minutes_submitted"
    MEETING_NOT_ARCHIVED = "meeting.not_archived"
    MINUTES_NOT_ENDED = "minutes.meeting_not_ended"
    MINUTES_INVALID_TRANSITION = "minutes.invalid_transition"
    MINUTES_NOT_APPROVED = "minutes.not_approved"
    MINUTES_SIGNERS_ONLY = "minutes.signers_only"
    MINUTES_SECRETARY_SIGNS_FIRST = "minutes.secretary_signs_first"
    MINUTES_SIGNED_MEANWHILE = "minutes.signed_meanwhile"
    # Agenda items
    AGENDA_ITEM_NOT_FOUND = "agenda_item.not_found"
    AGENDA_ITEM_NESTED_TOO_DEEP = "agenda_item.nested_too_deep"
    AGENDA_ITEM_ACTIVE = "agenda_item.active"
    AGENDA_ITEM_INVALID_ORDER = "agenda_item.invalid_order"
    AGENDA_ITEM_INVALID_TRANSITION = "agenda_item.invalid_transition"
    # Participants and attendance
    PARTICIPANT_NOT_FOUND = "participant.not_found"
    PARTICIPANT_UNKNOWN_USER = "participant.unknown_user"
    PARTICIPANT_ALREADY_ADDED = "participant.already_added"
    PARTICIPANT_CANNOT_REMOVE_SELF = "participant.cannot_remove_self"
    PARTICIPANT_GUEST_CANNOT_VOTE = "participant.guest_cannot_vote"
    PARTICIPANT_SELF_CHECK_IN_ONLY = "participant.self_check_in_only"
    PARTICIPANT_GUEST_READS_ONLY = "participant.guest_reads_only"
    PARTICIPANT_CANNOT_CHANGE_SELF = "participant.cannot_change_self"
    PARTICIPANT_CHAIR_DECIDES = "participant.chair_decides"
    # The room: presenter, pages, annotations, speakers
    ROOM_ALREADY_AUTHENTICATED = "room.already_authenticated"
    ROOM_RESYNC_TOO_OFTEN = "room.resync_too_often"
    ROOM_UNKNOWN_DOCUMENT = "room.unknown_document"
    PRESENTER_CHAIR_ONLY = "presenter.chair_only"
    PRESENTER_NOT_PARTICIPANT = "presenter.not_participant"
    PRESENTER_ONLY = "presenter.only"
    PAGE_OUT_OF_RANGE = "page.out_of_range"
    PAGE_ZOOM_OUT_OF_RANGE = "page.zoom_out_of_range"
    ANNOTATION_NOT_FOUND = "annotation.not_found"
    ANNOTATION_NOT_YOURS = "annotation.not_yours"
    ANNOTATION_AUTHOR_ONLY = "annotation.author_only"
    ANNOTATION_ID_TAKEN = "annotation.id_taken"
    ANNOTATION_TOO_LARGE = "annotation.too_large"
    SPEAKER_ALREADY_SPEAKING = "speaker.already_speaking"
    SPEAKER_ALREADY_WAITING = "speaker.already_waiting"
    SPEAKER_NOT_WAITING = "speaker.not_waiting"
    SPEAKER_NOBODY_WAITING = "speaker.nobody_waiting"
    SPEAKER_NOBODY_SPEAKING = "speaker.nobody_speaking"
    SPEAKER_END_FORBIDDEN = "speaker.end_forbidden"
    SPEAKER_INVALID_ORDER = "speaker.invalid_order"
    SPEAKER_UNTIMED = "speaker.untimed"
    # Documents
    DOCUMENT_CHANGED_MEANWHILE = "document.changed_meanwhile"
    DOCUMENT_NOT_FOUND = "document.not_found"
    DOCUMENT_VERSION_NOT_FOUND = "document.version_not_found"
    DOCUMENT_NO_FILE = "document.no_file"
    DOCUMENT_EMPTY_FILE = "document.empty_file"
    DOCUMENT_UNSUPPORTED_TYPE = "document.unsupported_type"
    DOCUMENT_MIXED_FILES = "document.mixed_files"
    DOCUMENT_TOO_MANY_IMAGES = "document.too_many_images"
    DOCUMENT_UNREADABLE = "document.unreadable"
    DOCUMENT_CONVERSION_FAILED = "document.conversion_failed"
    DOCUMENT_OFFICE_UNAVAILABLE = "document.office_unavailable"
    DOCUMENT_TOO_LARGE = "document.too_large"
    DOCUMENT_NOT_MULTIPART = "document.not_multipart"
    DOCUMENT_MALFORMED_UPLOAD = "document.malformed_upload"
    DOCUMENT_UNKNOWN_AGENDA_ITEM = "document.unknown_agenda_item"
    DOCUMENT_INVALID_CLASSIFICATION = "document.invalid_classification"
    RESOLUTION_CHAIR_ONLY = "resolution.chair_only"
    RESOLUTION_NOT_MARKED = "resolution.not_marked"
    SEARCH_QUERY_EMPTY = "search.query_empty"
    # Polls, ballots, conclusions
    POLL_NOT_FOUND = "poll.not_found"
    POLL_INVALID_OPTIONS = "poll.invalid_options"
    POLL_SECRET_CANNOT_CHANGE = "poll.secret_cannot_change"
    POLL_UNKNOWN_AGENDA_ITEM = "poll.unknown_agenda_item"
    POLL_NOT_DRAFT = "poll.not_draft"
    POLL_INVALID_TRANSITION = "poll.invalid_transition"
    POLL_ANOTHER_OPEN = "poll.another_open"
    POLL_NOT_OPEN = "poll.not_open"
    POLL_RESULT_NOT_READY = "poll.result_not_ready"
    POLL_NOT_PUBLISHED = "poll.not_published"
    POLL_NOT_SECRET = "poll.not_secret"
    POLL_DELEGATES_ONLY = "poll.delegates_only"
    POLL_NOT_ELIGIBLE = "poll.not_eligible"
    POLL_INVALID_CHOICE = "poll.invalid_choice"
    POLL_ALREADY_VOTED = "poll.already_voted"
    POLL_BALLOTS_UNREADABLE = "poll.ballots_unreadable"
    CONCLUSION_NOT_FOUND = "conclusion.not_found"
    CONCLUSION_STALE = "conclusion.stale"
    # Digital signatures of the minutes and resolutions
    SIGNING_NOT_A_PDF = "signing.not_a_pdf"
    SIGNING_NOT_PKCS12 = "signing.not_pkcs12"
    SIGNING_BAD_PASSWORD = "signing.bad_password"
    SIGNING_CERTIFICATE_EXPIRED = "signing.certificate_expired"
    SIGNING_CERTIFICATE_NOT_YET_VALID = "signing.certificate_not_yet_valid"
    SIGNING_CERTIFICATE_UNTRUSTED = "signing.certificate_untrusted"
    SIGNING_FIELD_TAKEN = "signing.field_taken"
    SIGNING_TOKEN_UNAVAILABLE = "signing.token_unavailable"
    SIGNING_KEY_NOT_FOUND = "signing.key_not_found"
    SIGNING_NO_CERTIFICATE = "signing.no_certificate"
    # Operations: HTTPS on the LAN, metrics
    TLS_NO_CA = "tls.no_ca"
    METRICS_FORBIDDEN = "metrics.forbidden"


class Close(IntEnum):
    """Application close codes of the room socket (docs/protocol.md); uvicorn sends 1012 on shutdown."""

    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    RESYNC = 4409
    TOO_MANY_SOCKETS = 4429


class DomainError(Exception):
    """Base of the errors services raise: a stable `code` and a short, concrete, human `detail`.

    The class sets the HTTP status and the `status` of the socket's `error` event (the close-code
    numbering of docs/protocol.md); this module is the one table of both.
    """

    status_code: ClassVar[int] = 400
    socket_status: ClassVar[int] = 4400

    def __init__(self, code: Code, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors


class Unauthenticated(DomainError):
    """No valid credentials."""

    status_code = 401
    socket_status = 4401


class Forbidden(DomainError):
    """Known user, not allowed to do this."""

    status_code = 403
    socket_status = 4403


class NotFound(DomainError):
    """Unknown id, or one the caller may not know exists."""

    status_code = 404
    socket_status = 4404


class Conflict(DomainError):
    """The request clashes with stored state (duplicate, already done)."""

    status_code = 409
    socket_status = 4409


class InvalidState(Conflict):
    """A transition that the current state does not allow."""


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule."""

    status_code = 422
    socket_status = 4422


class TooLarge(DomainError):
    """A body or file past the configured limit."""

    status_code = 413
    socket_status = 4413


class UnsupportedMedia(DomainError):
    """A file type the server does not accept."""

    status_code = 415
    socket_status = 4415


class RateLimited(DomainError):
    """Too many attempts; try again later."""

    status_code = 429
    socket_status = 4429


class Unavailable(DomainError):
    """A backing service is down; the request may be retried (nothing was saved)."""

    status_code = 503
    socket_status = 4503


class InternalError(DomainError):
    """A bug: logged with its traceback; the client may retry."""

    status_code = 500
    socket_status = 4500


DATABASE_DOWN = "the database is unavailable; please retry shortly"

# Errors the framework raises itself (routing, body limits, its own validation) get the generic code
# of their status.
_CODE_OF_STATUS: dict[int, Code] = {
    400: Code.REQUEST_INVALID,
    401: Code.AUTH_REQUIRED,
    403: Code.REQUEST_FORBIDDEN,
    404: Code.REQUEST_NOT_FOUND,
    405: Code.REQUEST_METHOD_NOT_ALLOWED,
    413: Code.REQUEST_TOO_LARGE,
    415: Code.REQUEST_UNSUPPORTED_MEDIA,
    429: Code.REQUEST_RATE_LIMITED,
    500: Code.SERVER_ERROR,
    503: Code.SERVER_UNAVAILABLE,
}


def code_of_status(status: int) -> Code:
    """The generic code for an error the framework raised with this HTTP status."""
    return _CODE_OF_STATUS.get(status, Code.SERVER_ERROR if status >= 500 else Code.REQUEST_FAILED)


def error_body(
    status: int, code: Code, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    body: dict[str, Any] = {"status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _json(
    status: int,
    code: Code,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Response(
        content=error_body(status, code, detail, errors),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _domain_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _json(exc.status_code, exc.code, exc.detail, exc.errors)


def _http_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The framework's own errors, validation (400 with `errors`) included; their headers kept (a 405's
    `Allow`, a 429's `Retry-After`)."""
    errors = exc.extra if isinstance(exc.extra, list) else None
    return _json(exc.status_code, code_of_status(exc.status_code), str(exc.detail), errors, exc.headers)


def is_database_down(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached (retry later), not a bug."""
    if isinstance(exc, DBAPIError):
        return _is_connection_error(exc)
    return isinstance(exc, (PoolTimeoutError, ConnectionError))


def _database_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _json(Unavailable.status_code, Code.SERVER_UNAVAILABLE, DATABASE_DOWN)


def _internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error during %s %s", request.method, request.url.path, exc_info=exc)
    return _json(InternalError.status_code, Code.SERVER_ERROR, "internal server error")


def _is_connection_error(exc: DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False)) or isinstance(exc, OperationalError)


def _dbapi_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if _is_connection_error(exc):
        return _database_down_handler(request, exc)
    return _internal_handler(request, exc)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: _domain_handler,
    HTTPException: _http_handler,
    DBAPIError: _dbapi_handler,
    PoolTimeoutError: _database_down_handler,
    ConnectionError: _database_down_handler,
    Exception: _internal_handler,
}


# The errors every operation may answer, as the OpenAPI document describes them.
DOCUMENTED_ERRORS = {
    400: "the request is malformed or fails validation (`errors` lists each problem)",
    401: "not logged in, or the token is expired or revoked",
    403: "logged in, but this role may not do this",
    404: "no such thing here (or not shown to you)",
    405: "the route does not take this method (`Allow` lists the ones it takes)",
    409: "the current state does not allow it (the detail names the state)",
    413: "the request body is too large",
    415: "the file type is not accepted",
    422: "well-formed, but it breaks a rule (the detail names it)",
    429: "too many requests; slow down",
    503: "the database or the broker is unavailable; try again shortly",
}


def document_errors(schema: OpenAPI) -> None:
    """Describe the real error body (`error_body`) and statuses on every operation of an OpenAPI document.

    Litestar documents only a 400 with its own `{status_code, detail, extra}` shape; the server sends
    `{status, code, detail, errors?}` for every error, with a `code` from `Code`.
    """
    components = schema.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["ErrorBody"] = Schema(
        type=OpenAPIType.OBJECT,
        required=["status", "code", "detail"],
        properties={
            "status": Schema(type=OpenAPIType.INTEGER, description="the HTTP status, again"),
            "code": Schema(type=OpenAPIType.STRING, enum=sorted(c.value for c in Code), description="stable"),
            "detail": Schema(type=OpenAPIType.STRING, description="in English, for people"),
            "errors": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(type=OpenAPIType.OBJECT),
                description="validation problems, one per field",
            ),
        },
    )
    body = {MediaType.JSON.value: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))}
    for path_item in (schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status, description in DOCUMENTED_ERRORS.items():
                responses[str(status)] = OpenAPIResponse(description=description, content=body)
            operation.responses = responses
