"""Wires the room hub into an app: every room socket of this process, closed with the app."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar.plugins import InitPluginProtocol

from meeting.rooms.hub import Hub

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig


class RoomsPlugin(InitPluginProtocol):
    """Puts a Hub at `app.state.room_hub`; needs `settings`, `session_factory`, `broker` in the state."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Create the hub from the app's state and tie it to the app's lifespan."""
        state = app_config.state
        hub = Hub(state["settings"], state["broker"], state["session_factory"])
        state["room_hub"] = hub

        @asynccontextmanager
        async def lifespan(_: Litestar) -> AsyncIterator[None]:
            try:
                yield
            finally:
                # Before the app's own lifespan disposes the engine and the broker's Redis connection:
                # closing sockets still announces presence through both.
                await hub.close()

        app_config.lifespan.append(lifespan)
        return app_config
