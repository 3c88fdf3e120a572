"""The tablet web client: `index.html` at `/`, every other file under a content-versioned, cached path."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.static_files import create_static_files_router

from meeting.errors import Code, NotFound

if TYPE_CHECKING:
    from pathlib import Path

# index.html names its assets with this placeholder; the server fills in the version at start-up.
VERSION_PLACEHOLDER = "{{version}}"
ONE_YEAR = 365 * 24 * 3600


def asset_version(web_dir: Path) -> str:
    """A short hash of every file's path and content: it changes whenever any asset changes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in web_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(web_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def web_routes(web_dir: Path) -> list[Any]:
    """Routes serving the client: an uncached index that points at immutable, versioned assets."""
    version = asset_version(web_dir)
    # Relative imports inside the ES modules resolve under the same versioned prefix, so one
    # version in index.html versions every module, stylesheet and translation file.
    index_html = (web_dir / "index.html").read_text(encoding="utf-8").replace(VERSION_PLACEHOLDER, version)

    @get("/", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
    async def index() -> Response[str]:
        """The client's shell; revalidated every time so a new version is picked up at once."""
        return Response(index_html, media_type=MediaType.HTML)

    assets = create_static_files_router(
        path=f"/assets/{version}",
        directories=[web_dir],
        name="web_assets",
        cache_control=CacheControlHeader(public=True, max_age=ONE_YEAR, immutable=True),
    )
    return [index, assets]


# Android's and iPadOS's browsers hand this type to the certificate installer (iPadOS as a profile).
CA_MEDIA_TYPE = "application/x-x509-ca-cert"


@get("/tls/ca.crt", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
async def ca_certificate(state: State) -> Response[bytes]:
    """The local CA's certificate for tablets to trust (public by nature; the keys are never served).

    Its SHA-256 fingerprint goes along in a header, for the instructions screen to show next to the
    one `meeting tls init` printed for the operator.
    """
    from meeting.tls import ca_cert_path, ca_fingerprint

    path = ca_cert_path(state.settings)
    try:
        pem = path.read_bytes()
        fingerprint = ca_fingerprint(pem)
    except (OSError, ValueError):
        raise NotFound(
            Code.TLS_NO_CA, "this server has no local CA certificate (run `meeting tls init`)"
        ) from None
    return Response(
        pem,
        media_type=CA_MEDIA_TYPE,
        headers={
            "content-disposition": 'attachment; filename="ca.crt"',
            "x-certificate-sha256": fingerprint,
        },
    )
