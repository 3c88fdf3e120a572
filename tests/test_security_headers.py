"""Every answer carries the browser's locks: a strict CSP, nosniff, no framing, no referrer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from tests.support.api import Council

LOCKS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_locked(response: httpx.Response) -> None:
    """The response has every security header, and a CSP that allows only this origin's files."""
    for name, value in LOCKS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("path", ["/", "/api/meetings", "/schema/openapi.json", "/health"])
async def test_pages_api_and_errors_are_locked(client: httpx.AsyncClient, path: str) -> None:
    assert_locked(await client.get(path))


async def test_assets_downloads_and_minutes_are_locked(council: Council) -> None:
    api = council.api
    index = await api.client.get("/")
    script = re.search(rb'src="(/assets/[^"]+/main\.js)"', index.content)
    assert script is not None
    assert_locked(await api.client.get(script.group(1).decode()))
    minutes = await api.call("GET", f"{council.url}/minutes/markdown", "secretary")
    assert minutes.status_code == 200
    assert minutes.headers["content-type"] == "text/markdown; charset=utf-8"
    assert_locked(minutes)
