"""Request dependencies of the voting domain: the sealer of secret ballots."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency

from meeting.voting.sealing import Sealer

Sealing: TypeAlias = NamedDependency[Sealer]


def provide_sealer(request: Request[Any, Any, Any]) -> Sealer:
    """Dependency: the app's sealer, keyed by the server's secret key."""
    sealer: Sealer = request.app.state.sealer
    return sealer
