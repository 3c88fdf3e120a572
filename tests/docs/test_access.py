"""Only a meeting's participants reach its documents; everyone else gets 404 for every URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meeting.users.models import GlobalRole
from tests.support.api import MEETING, upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from tests.support.api import Council


async def test_outsider_gets_404_for_every_document_url(council: Council) -> None:
    document = (await upload(council, make_pdf(pages=1))).json()
    base = f"{council.url}/documents"
    doc = f"{base}/{document['id']}"
    pages = document["currentVersion"]["pagesUrl"]
    files = [("file", ("x.pdf", make_pdf(pages=1), "application/pdf"))]
    requests = [
        ("GET", base, {}),
        ("GET", doc, {}),
        ("GET", f"{doc}/status", {}),
        ("GET", f"{pages}/1", {}),
        ("GET", f"{pages}/1?width=200", {}),
        ("GET", f"{doc}/download", {}),
        ("GET", f"{doc}/download?original=true", {}),
        ("GET", f"{council.url}/search?q=quyet", {}),
        ("POST", base, {"files": files}),
        ("POST", f"{doc}/versions", {"files": files}),
        ("DELETE", doc, {}),
    ]
    for method, url, kwargs in requests:
        response = await council.api.call(method, url, "outsider", **kwargs)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"


async def test_participant_of_another_meeting_cannot_reach_its_pages(council: Council) -> None:
    document = (await upload(council, make_pdf(pages=1))).json()
    api = council.api
    await api.user("other_secretary", GlobalRole.secretary)
    other = await api.ok("POST", "/api/meetings", "other_secretary", json=MEETING)
    # Their own meeting id with this meeting's document and version ids.
    url = document["currentVersion"]["pagesUrl"].replace(
        f"/meetings/{council.meeting_id}/", f"/meetings/{other['id']}/"
    )
    for target in (f"{url}/1", f"/api/meetings/{other['id']}/documents/{document['id']}/download"):
        response = await api.call("GET", target, "other_secretary")
        assert response.status_code == 404, target
    assert (
        await api.call("GET", f"{document['currentVersion']['pagesUrl']}/1", "other_secretary")
    ).status_code == 404


async def test_anonymous_requests_get_401(council: Council) -> None:
    document = (await upload(council, make_pdf(pages=1))).json()
    response = await council.api.call("GET", f"{document['currentVersion']['pagesUrl']}/1", None)
    assert response.status_code == 401
