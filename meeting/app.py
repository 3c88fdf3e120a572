"""The application factory: gathers each domain's routes, plugins, error handlers and the web client."""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response.base import ASGIResponse
from sqlalchemy import text

from meeting.agenda.controller import route_handlers as agenda_routes
from meeting.backup import schedule as backup_schedule
from meeting.broker import Broker
from meeting.db import (
    MAX_ID,
    close_sessions_middleware,
    create_engine,
    create_session_factory,
    provide_db_session,
)
from meeting.docs import DocsPlugin, office
from meeting.docs.controller import route_handlers as docs_routes
from meeting.errors import EXCEPTION_HANDLERS, Code, DomainError, document_errors, error_body
from meeting.mail import MailPlugin
from meeting.mail.controller import route_handlers as mail_routes
from meeting.observability import ObservabilityPlugin, logging_config, observe
from meeting.rooms import RoomsPlugin
from meeting.rooms.controller import route_handlers as rooms_routes
from meeting.schemas import Schema
from meeting.users import LoginLimiter, provide_auth, provide_current_user
from meeting.users.controller import route_handlers as users_routes
from meeting.voting.controller import route_handlers as voting_routes
from meeting.voting.sealing import Sealer
from meeting.web import ca_certificate, web_routes

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from meeting.settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
JSON_BODY_LIMIT = 1024 * 1024


class Health(Schema):
    """Whether the server and its backing services answer."""

    status: str
    database: str
    broker: str
    # "available" where LibreOffice converts Office uploads, "unavailable" where it is not installed.
    office: str


@get("/health", tags=["operations"])
async def health(state: State) -> Response[Health]:
    """200 when the database answers, 503 when it does not; the broker's state is reported too."""
    database = "up"
    try:
        async with state.session_factory() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        database = "down"
    broker: Broker = state.broker
    broker_state = ("up" if await broker.healthy() else "down") if broker.redis is not None else "memory"
    ok = database == "up"
    body = Health(
        status="ok" if ok else "degraded",
        database=database,
        broker=broker_state,
        office="available" if office.available(state.settings.office_program) else "unavailable",
    )
    return Response(body, status_code=200 if ok else 503)


class MeetingRequest(Request[Any, Any, Any]):
    """A request whose JSON body may be hostile."""

    async def json(self) -> Any:
        """The decoded body; nesting past the decoder's recursion limit is a 400, not a 500."""
        try:
            return await super().json()
        except RecursionError:
            raise DomainError(Code.REQUEST_MALFORMED, "the JSON body is nested too deeply") from None


def _names_no_row(path: str) -> bool:
    # Negative ones too: past 64 bits either way, the database would fail on the number itself.
    return any(
        len(part) > 18 and part.removeprefix("-").isdigit() and abs(int(part)) > MAX_ID
        for part in path.split("/")
    )


def oversized_id_middleware(app: ASGIApp) -> ASGIApp:
    """A path id past 64 bits (either sign) names nothing: 404 before a database sees it (the socket
    checks its own)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _names_no_row(scope["path"]):
            body = json.dumps(error_body(404, Code.REQUEST_NOT_FOUND, "no such id")).encode()
            await ASGIResponse(body=body, status_code=404, media_type=MediaType.JSON)(scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


# Sent with every response. The client is only files of this origin: no inline script or style sheet,
# no other host; images may be blob:/data: (rendered pages, the empty favicon); nobody may frame it.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# Over HTTPS only (browsers ignore it over HTTP): half a year, this host only. A box that goes back to
# plain HTTP stays unreachable from tablets that saw this until it expires (docs/operations.md, "TLS").
HSTS = (b"strict-transport-security", b"max-age=15552000")


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Adds SECURITY_HEADERS to every HTTP response: pages, API answers, downloads and errors alike."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        headers = [*SECURITY_HEADERS, HSTS] if scope.get("scheme") == "https" else SECURITY_HEADERS

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware


class DocumentedErrorsJson(JsonRenderPlugin):
    """/schema/openapi.json with the real error bodies on every operation (`document_errors`).

    Litestar builds the document when it is first asked for; the errors are added then, once, rather
    than in `create_app`, where building it was a third of the time an app took to make (every start,
    and every test's app).
    """

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """Render the app's document, with the error bodies documented (Litestar's dict lacks them)."""
        document = request.app.openapi_schema  # built once and kept by Litestar
        if "ErrorBody" not in (document.components.schemas or {}):
            document_errors(document)
        return self.render_json(request, document.to_schema())


def create_app(settings: Settings) -> Litestar:
    """Build the application for these settings."""
    engine = create_engine(settings)
    broker = Broker(settings)
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "session_factory": create_session_factory(engine),
            "signing_key": settings.resolved_secret_key(),
            "sealer": Sealer(settings.resolved_secret_key()),
            "login_limiter": LoginLimiter(settings, broker.redis),
            "broker": broker,
        }
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncGenerator[None, None]:
        backups = asyncio.create_task(backup_schedule(settings)) if settings.backup_dir else None
        try:
            yield
        finally:
            if backups is not None:
                # An archive being written finishes in its thread; its file appears only when complete.
                backups.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await backups
            await engine.dispose()
            if broker.redis is not None:
                await broker.redis.aclose()

    def provide_broker() -> Broker:
        return broker

    route_handlers: list[Any] = [
        health,
        ca_certificate,
        *users_routes,
        *agenda_routes,
        *rooms_routes,
        *docs_routes,
        *voting_routes,
        *mail_routes,
    ]
    if (WEB_DIR / "index.html").is_file():
        route_handlers.extend(web_routes(WEB_DIR))

    app = Litestar(
        route_handlers=route_handlers,
        state=state,
        lifespan=[lifespan],
        plugins=[broker.channels, DocsPlugin(), RoomsPlugin(), MailPlugin(), ObservabilityPlugin()],
        dependencies={
            "db_session": Provide(provide_db_session),
            "auth": Provide(provide_auth),
            "current_user": Provide(provide_current_user),
            "broker": Provide(provide_broker, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            security_headers_middleware,
            oversized_id_middleware,
            close_sessions_middleware,
        ],
        request_class=MeetingRequest,
        cors_config=CORSConfig(allow_origins=list(settings.allowed_origins))
        if settings.allowed_origins
        else None,
        request_max_body_size=JSON_BODY_LIMIT,
        openapi_config=OpenAPIConfig(
            title="Phòng họp không giấy",
            version="0.1.0",
            path="/schema",
            # Only the document: the documentation UIs load scripts and fonts from CDNs, which a room's
            # LAN cannot reach and which must not run next to the session cookie.
            render_plugins=[DocumentedErrorsJson()],
        ),
        logging_config=logging_config(settings),
        debug=False,
    )
    return observe(app)
