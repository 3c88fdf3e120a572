"""Fault fixtures: the backends a deployment of real server processes runs on.

Deployments, server processes and the Api on them are in tests/support/servers.py and api.py.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.backends import TEST_DATABASE_URL, TEST_REDIS_URL, empty_tables

pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded"] + (["postgresql+redis"] if TEST_DATABASE_URL and TEST_REDIS_URL else []))
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra environment for `deployment`: the embedded default, or production's PostgreSQL and Redis
    (this run's own emptied database; the deployment's own channel and key namespace)."""
    if request.param == "embedded":
        return {}
    postgres_url: str = request.getfixturevalue("postgres_url")
    asyncio.run(empty_tables(postgres_url))
    assert TEST_REDIS_URL is not None
    return {"DATABASE_URL": postgres_url, "REDIS_URL": TEST_REDIS_URL}
