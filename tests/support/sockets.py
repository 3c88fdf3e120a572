"""The room WebSocket as the tests use it: JSON in and out, every wait bounded so a missing message fails."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from litestar import Litestar

    from tests.support.api import Api, DocumentRef
    from tests.support.servers import Server

TIMEOUT = 5.0
# How long closing waits for the server's close frame. A client that stopped reading (as tests of
# backpressure make) cannot see it behind its full queue; websockets' default would wait 10 s for it.
CLOSE_TIMEOUT = 1.0


def shared_highlight(doc: DocumentRef, page: int) -> dict[str, Any]:
    """An `annotation.add` message: a shared highlight on `page` of `doc`, with a fresh id."""
    return {
        "type": "annotation.add",
        "id": secrets.token_hex(8),
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": page,
        "kind": "highlight",
        "visibility": "shared",
        "payload": {"rects": [[0.1, 0.1, 0.2, 0.2]]},
    }


class Socket:
    """A test's WebSocket client: JSON in, JSON out, with timeouts so a missing message fails the test."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a message (a dict is JSON-encoded; a str goes as is)."""
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message."""
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message: dict[str, Any] = json.loads(raw)
        self.seen.append(message)
        return message

    async def until(self, type_: str, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """Skip messages until one of this type (and these top-level field values) arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            if message["type"] == type_ and all(message.get(k) == v for k, v in match.items()):
                return message

    async def acked(self, message: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
        """Send a room message and wait for its ack: from then on the client counts on it."""
        ref = secrets.token_hex(4)
        await self.send({**message, "ref": ref})
        while (reply := await self.recv(timeout)).get("ref") != ref:
            pass
        assert reply["type"] == "ack", reply
        return reply

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (to check that something did NOT arrive)."""
        got: list[dict[str, Any]] = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except TimeoutError:
            return got

    async def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close; returns (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")

    async def close(self) -> None:
        """Close from the client side."""
        await self.connection.close()


async def open_socket(
    server: Server, meeting_id: int, *, headers: dict[str, str] | None = None, origin: str | None = None
) -> Socket:
    """Open a raw socket to a meeting (not yet authenticated)."""
    connection = await connect(
        f"{server.ws}/api/meetings/{meeting_id}/socket",
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=CLOSE_TIMEOUT,
        max_size=None,
    )
    return Socket(connection)


async def join(
    server: Server, api: Api, meeting_id: int, username: str, last_seq: int | None = None
) -> tuple[Socket, dict[str, Any]]:
    """Open a socket, authenticate as a user, and return it with the first message (snapshot or replay)."""
    sock = await open_socket(server, meeting_id)
    auth: dict[str, Any] = {"type": "auth", "token": api.tokens[username]}
    if last_seq is not None:
        auth["lastSeq"] = last_seq
    await sock.send(auth)
    return sock, await sock.recv()


async def first_answer(
    app: Litestar, path: str, token: str | None, timeout: float = TIMEOUT
) -> dict[str, Any]:
    """Open the socket at `path` on an app running in this process (its lifespan started), authenticate
    with `token` (none: an `auth` message without one) and hang up after the first answer.

    Returns that first message (a `room.snapshot` for whoever is let in), or `{"closed": code}` when the
    app closed the socket instead. The app is called as an ASGI server would call it, so the handler
    runs its whole course, refusal or clean-up, before this returns.
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
    }
    await inbox.put({"type": "websocket.connect"})
    handler = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    try:
        opened = await asyncio.wait_for(outbox.get(), timeout)
        assert opened["type"] == "websocket.accept", opened
        auth = {"type": "auth"} if token is None else {"type": "auth", "token": token}
        await inbox.put({"type": "websocket.receive", "text": json.dumps(auth)})
        answer = await asyncio.wait_for(outbox.get(), timeout)
        if answer["type"] == "websocket.close":
            return {"closed": answer.get("code", 1000)}
        assert answer["type"] == "websocket.send", answer
        first: dict[str, Any] = json.loads(answer.get("text") or answer["bytes"])
        return first
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(handler, timeout)
