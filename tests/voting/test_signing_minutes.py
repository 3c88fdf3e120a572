"""Signing the approved minutes: the secretary, then the chair; both signatures valid; nothing of the
credentials kept; every refusal clear and without a trace in the stored record."""

from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from meeting.docs.demo_ca import (
    DEMO_CA_DIR,
    DEMO_SIGNING_PASSWORD,
    create_authority,
    issue_pkcs12,
)
from meeting.docs.signing import configured_trust_roots, verify_pdf_async
from meeting.docs.storage import BlobStore
from meeting.voting.verify import check_record
from tests.support.files import needs_pdfsig, pdfsig
from tests.support.signing import with_demo_signing

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.voting.conftest import Session


@pytest.fixture
def settings(settings: Settings, demo_ca: Path) -> Settings:
    """Demo signing on, with demo certificates for the council's secretary and chair."""
    return with_demo_signing(settings, demo_ca)


def _p12(settings: Settings, username: str) -> str:
    return base64.b64encode((settings.data_dir / DEMO_CA_DIR / f"{username}.p12").read_bytes()).decode()


async def _approved(session: Session) -> str:
    url = session.council.url
    await session.api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})
    await session.api.ok("POST", f"{url}/minutes/submit", "secretary")
    await session.api.ok("POST", f"{url}/minutes/approve", "chair")
    return url


def _refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


@needs_pdfsig
async def test_the_secretary_signs_then_the_chair_countersigns(
    session: Session, db: AsyncSession, settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    url = await _approved(session)
    api = session.api
    state = await api.ok("GET", f"{url}/minutes", "secretary")
    assert state["signingSources"] == ["pkcs12", "demo"]
    early = await api.call(
        "POST", f"{url}/minutes/sign", "chair", json={"source": "demo", "password": "demo"}
    )
    _refused(early, 409, "minutes.secretary_signs_first")
    # The secretary with the certificate the server holds for the demo, the chair with their own file.
    signed = await api.ok(
        "POST", f"{url}/minutes/sign", "secretary", json={"source": "demo", "password": DEMO_SIGNING_PASSWORD}
    )
    assert [(c["number"], c["signerRole"]) for c in signed["copies"]] == [(1, ""), (2, "secretary")]
    body = {"source": "pkcs12", "pkcs12": _p12(settings, "chair"), "password": DEMO_SIGNING_PASSWORD}
    countersigned = await api.ok("POST", f"{url}/minutes/sign", "chair", json=body)
    assert [c["signerName"] for c in countersigned["copies"]] == ["", "Secretary", "Chair"]
    again = await api.call("POST", f"{url}/minutes/sign", "chair", json=body)
    _refused(again, 409, "signing.field_taken")

    report = await api.ok("GET", f"{url}/minutes/signatures", "delegate1")
    assert report["valid"] is True
    assert [
        (s["fieldName"], s["signer"], s["trusted"], s["intact"], s["modified"]) for s in report["signatures"]
    ] == [
        ("thu-ky", "Secretary", True, True, False),
        ("chu-toa", "Chair", True, True, False),
    ]
    # What is served is the countersigned copy, and it verifies on its own, offline.
    pdf = (await api.call("GET", f"{url}/minutes/pdf", "delegate1")).content
    assert (await verify_pdf_async(pdf, configured_trust_roots(settings, demo=True))).valid
    # And poppler, a second opinion that shares no code with pyHanko, finds both signatures valid.
    poppler = pdfsig(pdf, tmp_path)
    assert [s["Signature Validation"] for s in poppler] == ["Signature is Valid."] * 2
    assert [s["Signer Certificate Common Name"] for s in poppler] == ["Secretary", "Chair"]
    # Each signature is in the chain with the hash of its copy, and the record still checks.
    assert await check_record(db, BlobStore(settings.data_dir)) == (1, None)
    assert DEMO_SIGNING_PASSWORD not in caplog.text and body["pkcs12"][:40] not in caplog.text


async def test_refused_signatures_store_nothing(session: Session, settings: Settings, tmp_path: Path) -> None:
    api, url = session.api, session.council.url
    _refused(
        await api.call(
            "POST", f"{url}/minutes/sign", "secretary", json={"source": "demo", "password": "demo"}
        ),
        409,
        "minutes.not_approved",
    )
    await _approved(session)
    cases = [
        ("delegate1", {"source": "demo", "password": "demo"}, 403, "minutes.signers_only"),
        ("secretary", {"source": "demo", "password": "wrong"}, 422, "signing.bad_password"),
        ("secretary", {"source": "pkcs12", "password": "demo"}, 422, "signing.no_certificate"),
        ("secretary", {"source": "token"}, 503, "signing.token_unavailable"),
        (
            "secretary",
            {"source": "pkcs12", "pkcs12": "bm90IGEgcDEy", "password": "x"},
            422,
            "signing.not_pkcs12",
        ),
    ]
    # A certificate from a CA nobody configured.
    now = dt.datetime.now(dt.UTC)
    stranger = issue_pkcs12(
        create_authority("Một CA lạ", now=now),
        username="secretary",
        display_name="Secretary",
        password="p",
        not_before=now - dt.timedelta(hours=1),
        not_after=now + dt.timedelta(days=1),
    )
    untrusted = {"source": "pkcs12", "pkcs12": base64.b64encode(stranger).decode(), "password": "p"}
    cases.append(("secretary", untrusted, 422, "signing.certificate_untrusted"))
    for who, body, status, code in cases:
        _refused(await api.call("POST", f"{url}/minutes/sign", who, json=body), status, code)
    state = await api.ok("GET", f"{url}/minutes", "secretary")
    assert [c["number"] for c in state["copies"]] == [1]
