"""Request dependencies of the documents domain: the runtime (workers, store, renderer) of the app."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency

from meeting.docs.render import DocsRuntime

Docs: TypeAlias = NamedDependency[DocsRuntime]


def provide_docs(request: Request[Any, Any, Any]) -> DocsRuntime:
    """Dependency: the documents runtime the DocsPlugin put in the app state."""
    runtime: DocsRuntime = request.app.state.docs
    return runtime
