"""A room's LAN has no internet: nothing the server sends asks the browser to fetch from elsewhere."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

EXTERNAL = re.compile(rb"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


async def test_the_api_documentation_is_the_document_alone(client: httpx.AsyncClient) -> None:
    # The documentation UIs load their scripts and fonts from CDNs: none is served.
    for path in ("/schema/redoc", "/schema/swagger", "/schema/elements", "/schema/rapidoc"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert not EXTERNAL.search(response.content), path
    for path in ("/schema", "/schema/openapi.json"):
        document = await client.get(path)
        assert document.status_code == 200
        assert "openapi+json" in document.headers["content-type"]
        assert document.json()["info"]["title"] == "Phòng họp không giấy"


async def test_the_web_client_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    index = await client.get("/")
    assert index.status_code == 200
    assert b"<script" in index.content  # the page itself, so the check below looks at something
    assert not EXTERNAL.search(index.content)
