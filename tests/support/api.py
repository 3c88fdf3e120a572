"""The tests' HTTP client: it acts as named users, whose tokens it mints with the app's signing key.

Logging in costs an argon2 verification and counts against the login limiter; a council of seven
people in every test would spend most of the suite there. The token minted here is the one the login
endpoint issues (`meeting.users.service.new_token`: signed, with a jti, the user's token version), so
the server checks it exactly as it checks a real one. tests/users/test_auth.py and the browser login
test log in for real.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from argon2 import PasswordHasher

from meeting.db import create_engine, create_session_factory
from meeting.users.models import GlobalRole, User
from meeting.users.service import new_token
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings

PASSWORD = "correct horse battery"
# One argon2id hash for every test user, made with the cheapest parameters: a hash carries its own
# parameters, so the server verifies it as it verifies any other, in a millisecond instead of 0.3 s
# (the production parameters are meant to be slow). Unknown names still cost a full verification.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

MEETING = {
    "title": "Kỳ họp thứ 12 — HĐND huyện",
    "startsAt": "2026-12-01T08:00:00+07:00",
    "endsAt": "2026-12-01T17:00:00+07:00",
    "location": "Hội trường tầng 3",
}


@dataclass
class Api:
    """An HTTP client plus one bearer token per user, so tests read like the people acting.

    `db` is a session on the server's database and `settings` carry its signing key: users are
    created as rows and given tokens the server accepts.
    """

    client: httpx.AsyncClient
    db: AsyncSession
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    async def user(self, username: str, role: GlobalRole = GlobalRole.user) -> int:
        """Create an account directly in the database and issue it a token."""
        user = User(username=username, display_name=username.title(), role=role, password_hash=PASSWORD_HASH)
        self.db.add(user)
        await self.db.commit()
        self.ids[username] = user.id
        self.tokens[username] = self._issue(user)
        return user.id

    async def mint(self, username: str) -> str:
        """Another token for an existing user (a second device), without replacing the stored one."""
        user = await self.db.get(User, self.ids[username], populate_existing=True)
        assert user is not None, username
        return self._issue(user)

    def _issue(self, user: User) -> str:
        return new_token(self.settings, self.settings.resolved_secret_key(), user)[0]

    def headers(self, username: str | None) -> dict[str, str]:
        """Authorization headers for a user (none for None)."""
        return {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}

    async def call(self, method: str, url: str, as_: str | None, **kwargs: Any) -> Any:
        """Send a request as a user."""
        headers = {**self.headers(as_), **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def ok(self, method: str, url: str, as_: str | None, **kwargs: Any) -> Any:
        """Send a request that must succeed; return its JSON body (None for 204)."""
        response = await self.call(method, url, as_, **kwargs)
        assert response.status_code < 300, f"{method} {url} as {as_}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@contextlib.asynccontextmanager
async def api_for(settings: Settings, base_url: str, timeout: float = 10) -> AsyncIterator[Api]:
    """An Api on a server running elsewhere (a process, a socket) whose database and key are `settings`'s,
    with `admin` already there."""
    engine = create_engine(settings)
    try:
        async with (
            create_session_factory(engine)() as session,
            httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        ):
            api = Api(client=client, db=session, settings=settings)
            await api.user("admin", GlobalRole.admin)
            yield api
    finally:
        await engine.dispose()


@dataclass
class Council:
    """A meeting with one person in each role, plus an outsider who is not invited."""

    api: Api
    meeting_id: int
    participant_ids: dict[str, int]

    @property
    def url(self) -> str:
        """The meeting's API path."""
        return f"/api/meetings/{self.meeting_id}"


async def build_council(api: Api) -> Council:
    """A meeting created by `secretary`, with `chair`, `delegate1`, `delegate2` and `guest` invited;
    `outsider` has an account but is not invited."""
    await api.user("secretary", GlobalRole.secretary)
    for name in ("chair", "delegate1", "delegate2", "guest", "outsider"):
        await api.user(name)
    meeting = await api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    url = f"/api/meetings/{meeting['id']}"
    participant_ids = {}
    for name, role in (
        ("chair", "chair"),
        ("delegate1", "delegate"),
        ("delegate2", "delegate"),
        ("guest", "guest"),
    ):
        created = await api.ok(
            "POST", f"{url}/participants", "secretary", json={"userId": api.ids[name], "role": role}
        )
        participant_ids[name] = created["id"]
    listed = await api.ok("GET", f"{url}/participants", "secretary")
    participant_ids["secretary"] = next(p["id"] for p in listed if p["username"] == "secretary")
    return Council(api=api, meeting_id=meeting["id"], participant_ids=participant_ids)


async def upload(
    council: Council,
    files: list[tuple[str, bytes, str]] | bytes,
    as_: str = "secretary",
    **fields: Any,
) -> Any:
    """POST files to the meeting's documents; returns the raw response."""
    if isinstance(files, bytes):
        files = [("Nghị quyết số 12.pdf", files, "application/pdf")]
    form = {key: str(value) for key, value in fields.items()}
    return await council.api.call(
        "POST",
        f"{council.url}/documents",
        as_,
        files=[("file", (name, data, media)) for name, data, media in files],
        data=form,
    )


@dataclass(frozen=True)
class DocumentRef:
    """A document uploaded to a meeting: what the room's messages refer to (page turns, annotations)."""

    meeting_id: int
    document_id: int
    version_id: int
    page_count: int

    @property
    def annotations_url(self) -> str:
        """The path listing the version's annotations."""
        return (
            f"/api/meetings/{self.meeting_id}/documents/{self.document_id}"
            f"/versions/{self.version_id}/annotations"
        )


async def add_document(
    api: Api, meeting_id: int, pages: int = 3, title: str = "Nghị quyết số 12", as_: str = "secretary"
) -> DocumentRef:
    """Upload a generated PDF of `pages` pages to a meeting; its document and current version."""
    response = await api.call(
        "POST",
        f"/api/meetings/{meeting_id}/documents",
        as_,
        files=[("file", (f"{title}.pdf", make_pdf(title, pages=pages), "application/pdf"))],
    )
    assert response.status_code == 201, response.text
    created = response.json()
    version = created["currentVersion"]
    assert version["pageCount"] == pages, version
    return DocumentRef(meeting_id, created["id"], version["id"], pages)


@contextlib.asynccontextmanager
async def api_as(
    settings: Settings, base_url: str, ids: dict[str, int], timeout: float = 10
) -> AsyncIterator[Api]:
    """An Api on a server whose users already exist (a restored or upgraded database): no new admin,
    a token minted for each of `ids` (username → user id) with the key in `settings`."""
    engine = create_engine(settings)
    try:
        async with (
            create_session_factory(engine)() as session,
            httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        ):
            api = Api(client=client, db=session, settings=settings, ids=dict(ids))
            for name in ids:
                api.tokens[name] = await api.mint(name)
            yield api
    finally:
        await engine.dispose()
