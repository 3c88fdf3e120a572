"""Fixtures for voting: a live council session with delegates checked in and an agenda item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.support.api import Api, Council


@dataclass
class Session:
    """A live meeting with an agenda item; delegate1 and delegate2 checked in, voting."""

    council: Council
    item_id: int

    @property
    def api(self) -> Api:
        return self.council.api

    @property
    def polls(self) -> str:
        return f"{self.council.url}/polls"

    async def create(self, as_: str = "secretary", **body: Any) -> dict[str, Any]:
        """A draft poll on the item."""
        data = {"itemId": self.item_id, "question": "Thông qua nghị quyết số 12?", **body}
        created: dict[str, Any] = await self.api.ok("POST", self.polls, as_, json=data)
        return created

    async def opened(self, **body: Any) -> dict[str, Any]:
        """A poll created and opened by the chair."""
        poll = await self.create(**body)
        opened: dict[str, Any] = await self.api.ok("POST", f"{self.polls}/{poll['id']}/open", "chair")
        return opened

    async def vote(self, poll_id: int, as_: str, *choice: int) -> Any:
        """Cast a ballot; returns the response."""
        return await self.api.call(
            "POST", f"{self.polls}/{poll_id}/ballots", as_, json={"choice": list(choice)}
        )

    async def close(self, poll_id: int) -> dict[str, Any]:
        closed: dict[str, Any] = await self.api.ok("POST", f"{self.polls}/{poll_id}/close", "chair")
        return closed

    async def publish(self, poll_id: int) -> dict[str, Any]:
        published: dict[str, Any] = await self.api.ok("POST", f"{self.polls}/{poll_id}/publish", "chair")
        return published

    async def check_in(self, name: str, where: str = "in_room") -> None:
        await self.api.ok("PUT", f"{self.council.url}/attendance/me", name, json={"attendance": where})

    async def add_delegate(self, name: str) -> int:
        """Invite one more delegate (not checked in)."""
        await self.api.user(name)
        created = await self.api.ok(
            "POST",
            f"{self.council.url}/participants",
            "secretary",
            json={"userId": self.api.ids[name], "role": "delegate"},
        )
        pid: int = created["id"]
        self.council.participant_ids[name] = pid
        return pid


@pytest.fixture
async def session(council: Council) -> Session:
    """The council's meeting made live, with one agenda item and both delegates checked in."""
    api = council.api
    item = await api.ok(
        "POST", f"{council.url}/agenda", "secretary", json={"title": "Dự thảo nghị quyết về ngân sách"}
    )
    await api.ok("POST", f"{council.url}/status", "secretary", json={"status": "scheduled"})
    await api.ok("POST", f"{council.url}/status", "secretary", json={"status": "live"})
    live = Session(council=council, item_id=item["id"])
    await live.check_in("delegate1")
    await live.check_in("delegate2", "online")
    return live
