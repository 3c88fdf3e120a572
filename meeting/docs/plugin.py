"""Wires the documents runtime into an app: state, worker warm-up, resumed rendering, its shutdown."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar.plugins import InitPluginProtocol

from meeting.docs.render import DocsRuntime

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig


class DocsPlugin(InitPluginProtocol):
    """Puts a DocsRuntime at `app.state.docs`; needs `settings`, `session_factory`, `broker` in the state."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Create the runtime from the app's state and tie it to the app's lifespan."""
        state = app_config.state
        runtime = DocsRuntime(state["settings"], state["session_factory"], state["broker"])
        state["docs"] = runtime

        @asynccontextmanager
        async def lifespan(_: Litestar) -> AsyncIterator[None]:
            await runtime.pool.warm_up()
            runtime.resume()  # in the background: startup does not wait for old documents
            try:
                yield
            finally:
                # Lifespans exit in reverse order: this runs before the app's own lifespan disposes the
                # engine, so no background render is left holding a database connection.
                await runtime.close()

        app_config.lifespan.append(lifespan)
        return app_config
