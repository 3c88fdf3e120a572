"""Digital signatures of the minutes: real keys, real PDFs, pdfsig as a second opinion, a real SoftHSM token.

Nothing is mocked. The authorities are made by meeting/docs/demo_ca.py (as `serve --demo` will), the
PDF by the demo generator; pdfsig (poppler-utils) checks the cryptography independently of pyHanko.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pymupdf  # type: ignore[import-untyped]
import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from meeting.docs.demo_ca import (
    DEMO_SIGNING_PASSWORD,
    Authority,
    create_authority,
    ensure_demo_ca,
    issue_certificate,
    issue_pkcs12,
    new_key,
)
from meeting.docs.signing import (
    Credentials,
    Pkcs12File,
    SignatureReport,
    TokenKey,
    configured_trust_roots,
    describe,
    sign_pdf,
    sign_pdf_async,
    verify_pdf,
    verify_pdf_async,
)
from meeting.errors import Code, DomainError
from meeting.settings import Settings
from tests.support.files import make_pdf, needs_pdfsig, pdfsig

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.api import Council

PASSWORD = "Mật khẩu 2026!"
SECRETARY = ("secretary", "Nguyễn Thị Thu Hà")
CHAIR = ("chair", "Trần Văn Đức")
NOW = dt.datetime.now(dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Signers:
    """A test CA, its root as a trust anchor, and PKCS#12 files it issued."""

    authority: Authority
    roots: list[asn1_x509.Certificate]
    secretary: Pkcs12File
    chair: Pkcs12File


def as_root(authority: Authority) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(authority.certificate.public_bytes(serialization.Encoding.DER))


def pkcs12_of(
    authority: Authority,
    user: tuple[str, str],
    *,
    not_before: dt.datetime = NOW - dt.timedelta(days=1),
    not_after: dt.datetime = NOW + dt.timedelta(days=365),
) -> Pkcs12File:
    username, display_name = user
    data = issue_pkcs12(
        authority,
        username=username,
        display_name=display_name,
        password=PASSWORD,
        not_before=not_before,
        not_after=not_after,
    )
    return Pkcs12File(data=data, password=PASSWORD)


@pytest.fixture(scope="module")
def signers() -> Signers:
    """One authority for the module: RSA key generation is the slow part."""
    authority = create_authority("CA kiểm thử Hội đồng nhân dân", now=NOW)
    return Signers(
        authority=authority,
        roots=[as_root(authority)],
        secretary=pkcs12_of(authority, SECRETARY),
        chair=pkcs12_of(authority, CHAIR),
    )


@pytest.fixture(scope="module")
def minutes() -> bytes:
    """The approved minutes, unsigned."""
    return make_pdf("Biên bản Kỳ họp thứ Mười hai", pages=2)


def secretary_signs(pdf: bytes, signers: Signers) -> bytes:
    return sign_pdf(
        pdf,
        signers.secretary,
        field_name="Thu ky",
        signer_name=SECRETARY[1],
        reason="Thư ký kỳ họp ký biên bản",
        location="Thanh Trì, Hà Nội",
        trust_roots=signers.roots,
    )


def chair_signs(pdf: bytes, signers: Signers) -> bytes:
    return sign_pdf(
        pdf,
        signers.chair,
        field_name="Chu toa",
        signer_name=CHAIR[1],
        reason="Chủ tọa kỳ họp ký biên bản",
        location="Thanh Trì, Hà Nội",
        trust_roots=signers.roots,
    )


@pytest.fixture(scope="module")
def countersigned(minutes: bytes, signers: Signers) -> bytes:
    """Signed by the secretary, then countersigned by the chair."""
    return chair_signs(secretary_signs(minutes, signers), signers)


def sign_as(credentials: Credentials, roots: list[asn1_x509.Certificate], pdf: bytes) -> bytes:
    """The chair's signature with these credentials, checked against these roots."""
    return sign_pdf(
        pdf,
        credentials,
        field_name="Chu toa",
        signer_name=CHAIR[1],
        reason="Chủ tọa kỳ họp ký biên bản",
        location="Thanh Trì, Hà Nội",
        trust_roots=roots,
    )


def refusal(call: object) -> Code:
    """The code of the DomainError a signing call raised (the call must raise one)."""
    assert callable(call)
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


# Signing and countersigning


def test_secretary_signs_then_chair_countersigns_and_both_signatures_stay_valid(
    countersigned: bytes, signers: Signers
) -> None:
    report = verify_pdf(countersigned, signers.roots)
    assert [(check.field_name, check.signer) for check in report.signatures] == [
        ("Thu ky", SECRETARY[1]),
        ("Chu toa", CHAIR[1]),
    ]
    for check in report.signatures:
        assert (check.intact, check.trusted, check.modified, check.valid) == (True, True, False, True)
        assert check.signed_at is not None
        assert abs(check.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    # The secretary's revision was extended by a signature only; the chair's covers the whole file.
    assert [check.changes for check in report.signatures] == ["form_filling", "none"]
    assert report.valid


def test_countersigning_appends_and_keeps_the_signed_bytes(
    minutes: bytes, countersigned: bytes, signers: Signers
) -> None:
    once = secretary_signs(minutes, signers)
    assert once.startswith(minutes)
    twice = chair_signs(once, signers)
    assert twice.startswith(once)
    assert len(verify_pdf(once, signers.roots).signatures) == 1


@needs_pdfsig
def test_pdfsig_finds_both_signatures_cryptographically_valid(countersigned: bytes, tmp_path: Path) -> None:
    signatures = pdfsig(countersigned, tmp_path)
    assert [s["Signature Field Name"] for s in signatures] == ["Thu ky", "Chu toa"]
    assert [s["Signer Certificate Common Name"] for s in signatures] == [SECRETARY[1], CHAIR[1]]
    assert [s["Signature Validation"] for s in signatures] == ["Signature is Valid."] * 2
    assert [s["Signature Type"] for s in signatures] == ["ETSI.CAdES.detached"] * 2  # PAdES
    assert [s["coverage"] for s in signatures] == ["Not total document signed", "Total document signed"]
    # pdfsig trusts its own NSS store, where the test CA is not; that says nothing about the crypto.
    assert all("Certificate Validation" in s for s in signatures)


def test_a_pdf_without_signatures_gives_an_empty_invalid_report(minutes: bytes, signers: Signers) -> None:
    assert verify_pdf(minutes, signers.roots) == SignatureReport(signatures=[], valid=False)


def test_signing_an_already_signed_field_is_refused(countersigned: bytes, signers: Signers) -> None:
    assert refusal(lambda: chair_signs(countersigned, signers)) == Code.SIGNING_FIELD_TAKEN


# Changes after signing


def test_a_byte_edited_in_the_signed_range_breaks_the_signatures(
    countersigned: bytes, signers: Signers, tmp_path: Path
) -> None:
    header = countersigned.index(b"%PDF-1.")
    assert header < countersigned.index(b"/ByteRange")
    edited = bytearray(countersigned)
    edited[header + 7] = ord("3") if edited[header + 7] != ord("3") else ord("4")  # %PDF-1.x: signed by both
    report = verify_pdf(bytes(edited), signers.roots)
    assert [check.intact for check in report.signatures] == [False, False]
    assert not any(check.valid for check in report.signatures)
    assert not report.valid
    if shutil.which("pdfsig"):
        assert all(
            s["Signature Validation"] != "Signature is Valid." for s in pdfsig(bytes(edited), tmp_path)
        )


@pytest.mark.parametrize("where", ["structure", "signature value"])
def test_a_byte_edited_in_the_signature_itself_breaks_it(
    minutes: bytes, signers: Signers, where: str
) -> None:
    """The /Contents hex lies outside its own signed range: a change there must fail the check too.

    Near its start the CMS structure no longer parses; at its end (before the zero padding) lies the RSA
    signature value. Either way the one signature is reported, broken, and the file does not verify.
    """
    signed = secretary_signs(minutes, signers)
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    used = len(signed[start : signed.index(b">", start)].rstrip(b"0"))
    position = start + (40 if where == "structure" else used - 20)
    edited = bytearray(signed)
    edited[position] = ord("0") if edited[position] != ord("0") else ord("1")
    report = verify_pdf(bytes(edited), signers.roots)
    assert [(check.field_name, check.intact, check.valid) for check in report.signatures] == [
        ("Thu ky", False, False)
    ]
    assert not report.valid
    if where == "structure":
        assert "problem: the signature cannot be read" in describe(report)


def test_rewriting_the_file_after_signing_is_reported_as_modified(
    countersigned: bytes, signers: Signers
) -> None:
    document = pymupdf.open(stream=countersigned, filetype="pdf")
    rewritten = document.tobytes(garbage=3, deflate=True)  # a full save, as another PDF tool would do
    document.close()
    report = verify_pdf(rewritten, signers.roots)
    assert len(report.signatures) == 2
    assert all(check.modified for check in report.signatures)
    assert not report.valid


def add_text(writer: IncrementalPdfFileWriter, page_ref: generic.IndirectObject) -> None:
    """A line of text drawn on the signed page."""
    page = page_ref.get_object()
    addition = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 72 Td (Khong) Tj ET"))
    contents = page.raw_get("/Contents")
    existing = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    page["/Contents"] = generic.ArrayObject([*existing, addition])


def add_comment(writer: IncrementalPdfFileWriter, page_ref: generic.IndirectObject) -> None:
    """A sticky note on the signed page: for signed minutes, a change too."""
    page = page_ref.get_object()
    note = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.FloatObject(x) for x in (72, 72, 96, 96)]
            ),
            generic.NameObject("/Contents"): generic.TextStringObject("Sửa lại số liệu"),
            generic.NameObject("/P"): page_ref,
        }
    )
    page["/Annots"] = generic.ArrayObject([writer.add_object(note)])


@pytest.mark.parametrize("change", [add_text, add_comment], ids=["text", "comment"])
def test_an_incremental_change_after_signing_is_reported_as_a_change(
    countersigned: bytes, signers: Signers, change: object
) -> None:
    assert callable(change)
    writer = IncrementalPdfFileWriter(io.BytesIO(countersigned))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    change(writer, page_ref)
    writer.mark_update(page_ref)
    output = io.BytesIO()
    writer.write(output)

    report = verify_pdf(output.getvalue(), signers.roots)
    # The signed bytes are untouched (an incremental update), but what came after is not a signature.
    assert [check.intact for check in report.signatures] == [True, True]
    assert [check.modified for check in report.signatures] == [True, True]
    assert [check.changes for check in report.signatures] == ["other", "other"]
    assert not report.valid


# Refusals before signing


def test_a_wrong_password_is_refused(minutes: bytes, signers: Signers) -> None:
    wrong = Pkcs12File(data=signers.secretary.data, password="mat khau sai")
    code = refusal(lambda: sign_as(wrong, signers.roots, minutes))
    assert code == Code.SIGNING_BAD_PASSWORD


def test_a_file_that_is_not_pkcs12_is_refused(minutes: bytes, signers: Signers) -> None:
    junk = Pkcs12File(data=minutes[:4000], password=PASSWORD)
    code = refusal(lambda: sign_as(junk, signers.roots, minutes))
    assert code == Code.SIGNING_NOT_PKCS12


def test_an_expired_certificate_is_refused(minutes: bytes, signers: Signers) -> None:
    expired = pkcs12_of(
        signers.authority,
        CHAIR,
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=1),
    )
    code = refusal(lambda: sign_as(expired, signers.roots, minutes))
    assert code == Code.SIGNING_CERTIFICATE_EXPIRED


def test_a_certificate_not_yet_valid_is_refused(minutes: bytes, signers: Signers) -> None:
    early = pkcs12_of(
        signers.authority, CHAIR, not_before=NOW + dt.timedelta(days=2), not_after=NOW + dt.timedelta(days=30)
    )
    code = refusal(lambda: sign_as(early, signers.roots, minutes))
    assert code == Code.SIGNING_CERTIFICATE_NOT_YET_VALID


def test_a_certificate_from_an_unknown_ca_is_refused(minutes: bytes, signers: Signers) -> None:
    stranger = create_authority("CA lạ", now=NOW)
    foreign = pkcs12_of(stranger, CHAIR)
    code = refusal(lambda: sign_as(foreign, signers.roots, minutes))
    assert code == Code.SIGNING_CERTIFICATE_UNTRUSTED
    # Signed where that CA is trusted, the signature is intact but untrusted here.
    signed = sign_as(foreign, [as_root(stranger)], minutes)
    (check,) = verify_pdf(signed, signers.roots).signatures
    assert (check.intact, check.trusted, check.valid) == (True, False, False)
    assert verify_pdf(signed, [as_root(stranger)]).valid


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.7\n garbage without objects"])
def test_a_file_that_is_not_a_pdf_is_refused(data: bytes, signers: Signers) -> None:
    code = refusal(lambda: sign_as(signers.chair, signers.roots, data))
    assert code == Code.SIGNING_NOT_A_PDF
    assert refusal(lambda: verify_pdf(data, signers.roots)) == Code.SIGNING_NOT_A_PDF


def test_an_encrypted_pdf_is_refused(minutes: bytes, signers: Signers) -> None:
    document = pymupdf.open(stream=minutes, filetype="pdf")
    encrypted = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="chu-toa", user_pw="")
    document.close()
    assert refusal(lambda: sign_as(signers.chair, signers.roots, encrypted)) == Code.SIGNING_NOT_A_PDF


def test_the_password_is_not_in_the_credentials_repr(signers: Signers) -> None:
    assert PASSWORD not in repr(signers.chair)


# The event loop


async def test_signing_and_verifying_run_off_the_event_loop(minutes: bytes, signers: Signers) -> None:
    ticks = 0
    done = False

    async def tick() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    signed = await sign_pdf_async(
        minutes,
        signers.secretary,
        field_name="Thu ky",
        signer_name=SECRETARY[1],
        reason="r",
        location="l",
        trust_roots=signers.roots,
    )
    report = await verify_pdf_async(signed, signers.roots)
    elapsed = time.monotonic() - started
    done = True
    await ticker
    assert report.valid
    # Blocking work would have let the ticker run only once or twice; it runs throughout.
    assert ticks >= max(3, int(elapsed / 0.005 / 10))


# Trust roots and the demo CA


def test_trust_roots_come_from_the_configured_directory_and_the_demo_ca(
    tmp_path: Path, signers: Signers
) -> None:
    roots_dir = tmp_path / "roots"
    roots_dir.mkdir()
    (roots_dir / "ca.pem").write_bytes(signers.authority.certificate.public_bytes(serialization.Encoding.PEM))
    (roots_dir / "README.txt").write_text("not a certificate, not read")
    settings = Settings(data_dir=tmp_path / "data", trust_roots_dir=roots_dir)
    assert [root.sha256 for root in configured_trust_roots(settings)] == [signers.roots[0].sha256]

    demo = ensure_demo_ca(settings.data_dir / "demo-ca", [CHAIR])
    assert len(configured_trust_roots(settings, demo=True)) == 2
    assert len(configured_trust_roots(settings)) == 1  # the demo root only when asked for

    (roots_dir / "broken.der").write_bytes(b"\x30\x03junk")
    with pytest.raises(ValueError, match=r"broken\.der"):
        configured_trust_roots(settings)
    del demo


def test_settings_read_the_signing_environment() -> None:
    settings = Settings.from_env(
        {
            "MEETING_TRUST_ROOTS": "/etc/meeting/roots",
            "MEETING_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
            "MEETING_PKCS11_TOKEN": "phong-hop",
            "MEETING_PKCS11_PIN": "123456",
        }
    )
    assert settings.trust_roots_dir == Path("/etc/meeting/roots")
    assert settings.pkcs11_module == Path("/usr/lib/softhsm/libsofthsm2.so")
    assert settings.pkcs11_token == "phong-hop"
    assert "123456" not in repr(settings)
    assert TokenKey.from_settings(settings, "chair").pin == "123456"
    assert Settings.from_env({}).trust_roots_dir is None
    assert refusal(lambda: TokenKey.from_settings(Settings(), "chair")) == Code.SIGNING_TOKEN_UNAVAILABLE


def test_demo_ca_is_made_once_and_its_files_sign(tmp_path: Path, minutes: bytes) -> None:
    settings = Settings(data_dir=tmp_path)
    first = ensure_demo_ca(tmp_path / "demo-ca", [SECRETARY, CHAIR])
    contents = {name: path.read_bytes() for name, path in first.pkcs12.items()}
    root = first.root.read_bytes()
    second = ensure_demo_ca(tmp_path / "demo-ca", [SECRETARY, CHAIR])
    assert second.root.read_bytes() == root
    assert {name: path.read_bytes() for name, path in second.pkcs12.items()} == contents
    assert oct(first.pkcs12["chair"].stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "demo-ca" / "root-key.pem").stat().st_mode & 0o777) == "0o600"

    roots = configured_trust_roots(settings, demo=True)
    chair = Pkcs12File(data=contents["chair"], password=DEMO_SIGNING_PASSWORD)
    signed = sign_as(chair, roots, minutes)
    (check,) = verify_pdf(signed, roots).signatures
    assert (check.signer, check.valid) == (CHAIR[1], True)


def test_demo_ca_issues_again_what_expired(tmp_path: Path) -> None:
    old = ensure_demo_ca(tmp_path, [CHAIR], now=NOW - dt.timedelta(days=800))
    before = old.pkcs12["chair"].read_bytes()
    root = old.root.read_bytes()
    again = ensure_demo_ca(tmp_path, [CHAIR], now=NOW)
    assert again.root.read_bytes() == root  # the root lives ten years
    assert again.pkcs12["chair"].read_bytes() != before  # the user's two-year certificate did not


# A PKCS#11 token: SoftHSM2


TOKEN_LABEL = "phong-hop"
TOKEN_PIN = "246810"
MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


@dataclasses.dataclass(frozen=True)
class Token:
    module: str
    key: TokenKey


SOFTHSM_MODULE = next((path for path in MODULE_CANDIDATES if Path(path).exists()), None)
# Skipped where SoftHSM2 is missing, which CI (CI=true) turns into a failure: `make test` installs it.
needs_softhsm = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or SOFTHSM_MODULE is None,
    reason="SoftHSM2 (softhsm2-util and libsofthsm2.so) is not installed (Debian package softhsm2)",
)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, signers: Signers) -> Iterator[Token]:
    """A fresh SoftHSM2 token holding the chair's key (imported as PKCS#8) and certificate.

    SoftHSM reads SOFTHSM2_CONF when the module is initialised, so the variable is set for this module's
    tests and the module unloaded afterwards.
    """
    module = SOFTHSM_MODULE
    assert module is not None, "only tests marked needs_softhsm use the token"
    import pkcs11

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(config))
        util = ["softhsm2-util"]
        subprocess.run(
            [
                *util,
                "--init-token",
                "--free",
                "--label",
                TOKEN_LABEL,
                "--so-pin",
                "13579111",
                "--pin",
                TOKEN_PIN,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        key = new_key()
        key_file = directory / "chair.pk8.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        subprocess.run(
            [
                *util,
                "--import",
                str(key_file),
                "--token",
                TOKEN_LABEL,
                "--label",
                "chair",
                "--id",
                "01",
                "--pin",
                TOKEN_PIN,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        key_file.unlink()
        certificate = issue_certificate(
            signers.authority,
            key.public_key(),
            username=CHAIR[0],
            display_name=CHAIR[1],
            not_before=NOW - dt.timedelta(days=1),
            not_after=NOW + dt.timedelta(days=365),
        )
        library = pkcs11.lib(module)
        with library.get_token(token_label=TOKEN_LABEL).open(rw=True, user_pin=TOKEN_PIN) as session:
            session.create_object(
                {
                    pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                    pkcs11.Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                    pkcs11.Attribute.TOKEN: True,
                    pkcs11.Attribute.LABEL: "chair",
                    pkcs11.Attribute.ID: b"\x01",
                    pkcs11.Attribute.SUBJECT: certificate.subject.public_bytes(),
                    pkcs11.Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
                }
            )
        yield Token(
            module=module,
            key=TokenKey(module=module, token_label=TOKEN_LABEL, key_label="chair", pin=TOKEN_PIN),
        )
        pkcs11.unload(module)


@needs_softhsm
def test_the_chair_countersigns_with_a_key_on_the_token(
    token: Token, minutes: bytes, signers: Signers, tmp_path: Path
) -> None:
    once = secretary_signs(minutes, signers)
    twice = sign_as(token.key, signers.roots, once)
    report = verify_pdf(twice, signers.roots)
    assert [(check.signer, check.valid) for check in report.signatures] == [
        (SECRETARY[1], True),
        (CHAIR[1], True),
    ]
    assert report.valid
    if shutil.which("pdfsig"):
        assert [s["Signature Validation"] for s in pdfsig(twice, tmp_path)] == ["Signature is Valid."] * 2


@needs_softhsm
def test_a_signer_without_a_key_on_the_token_is_refused(
    token: Token, minutes: bytes, signers: Signers
) -> None:
    nobody = dataclasses.replace(token.key, key_label="delegate9")
    code = refusal(lambda: sign_as(nobody, signers.roots, minutes))
    assert code == Code.SIGNING_KEY_NOT_FOUND


@needs_softhsm
def test_a_wrong_token_pin_makes_the_token_unavailable(
    token: Token, minutes: bytes, signers: Signers
) -> None:
    wrong = dataclasses.replace(token.key, pin="000000")
    code = refusal(lambda: sign_as(wrong, signers.roots, minutes))
    assert code == Code.SIGNING_TOKEN_UNAVAILABLE


@needs_softhsm
def test_a_token_certificate_from_an_unknown_ca_is_refused(token: Token, minutes: bytes) -> None:
    other_roots = [as_root(create_authority("CA khác", now=NOW))]
    code = refusal(lambda: sign_as(token.key, other_roots, minutes))
    assert code == Code.SIGNING_CERTIFICATE_UNTRUSTED


# The command line


def run_cli(
    *args: str, data_dir: Path, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "MEETING_DATA_DIR": str(data_dir), **(environ or {})}
    return subprocess.run(
        [sys.executable, "-m", "meeting.cli", "minutes", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env=env,
    )


@pytest.fixture
def roots_dir(tmp_path: Path, signers: Signers) -> Path:
    directory = tmp_path / "roots"
    directory.mkdir()
    (directory / "ca.der").write_bytes(signers.authority.certificate.public_bytes(serialization.Encoding.DER))
    return directory


def test_cli_verify_passes_a_good_file_with_the_configured_roots(
    countersigned: bytes, tmp_path: Path, roots_dir: Path
) -> None:
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(countersigned)
    result = run_cli(str(pdf), data_dir=tmp_path / "data", environ={"MEETING_TRUST_ROOTS": str(roots_dir)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRETARY[1] in result.stdout and CHAIR[1] in result.stdout
    assert result.stdout.count("verdict: valid") == 2
    assert (
        "changed after this signature: no (only later signatures or form fields were added)" in result.stdout
    )
    assert "All signatures are valid." in result.stdout


def test_cli_verify_fails_a_tampered_file_and_an_untrusted_one(
    countersigned: bytes, tmp_path: Path, roots_dir: Path
) -> None:
    document = pymupdf.open(stream=countersigned, filetype="pdf")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(document.tobytes(garbage=3))
    document.close()
    result = run_cli(str(tampered), "--trust", str(roots_dir), data_dir=tmp_path / "data")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "changed after this signature: yes" in result.stdout
    assert "The signatures are NOT valid." in result.stdout

    good = tmp_path / "good.pdf"
    good.write_bytes(countersigned)
    untrusted = run_cli(str(good), data_dir=tmp_path / "data")
    assert untrusted.returncode == 1
    assert untrusted.stdout.count("certificate trusted: no") == 2
    assert "no trust roots configured" in untrusted.stderr


def test_cli_verify_fails_an_unsigned_file_and_a_non_pdf(
    minutes: bytes, tmp_path: Path, roots_dir: Path
) -> None:
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(minutes)
    result = run_cli(str(unsigned), "--trust", str(roots_dir), data_dir=tmp_path / "data")
    assert (result.returncode, result.stdout.strip().splitlines()[-1]) == (1, "The file has no signature.")
    text = tmp_path / "notes.txt"
    text.write_text("biên bản")
    result = run_cli(str(text), "--trust", str(roots_dir), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert "not a PDF" in result.stdout


# Through the API: the chair countersigns the approved minutes with the server's token


@pytest.fixture
def settings(settings: Settings, signers: Signers, token: Token, tmp_path: Path) -> Settings:
    """The test CA as the operator's trust root, and the SoftHSM token as the server's signing token."""
    roots = tmp_path / "trust-roots"
    roots.mkdir()
    (roots / "test-ca.pem").write_bytes(
        signers.authority.certificate.public_bytes(serialization.Encoding.PEM)
    )
    return dataclasses.replace(
        settings,
        trust_roots_dir=roots,
        pkcs11_module=Path(token.module),
        pkcs11_token=TOKEN_LABEL,
        pkcs11_pin=TOKEN_PIN,
    )


@needs_softhsm
async def test_the_chair_countersigns_the_approved_minutes_through_the_api_with_the_token(
    council: Council, signers: Signers
) -> None:
    api, url = council.api, council.url
    for status in ("scheduled", "live", "ended"):
        await api.ok("POST", f"{url}/status", "secretary", json={"status": status})
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    state = await api.ok("POST", f"{url}/minutes/approve", "chair")
    assert state["signingSources"] == ["pkcs12", "token"]
    own_file = {
        "source": "pkcs12",
        "pkcs12": base64.b64encode(signers.secretary.data).decode(),
        "password": signers.secretary.password,
    }
    await api.ok("POST", f"{url}/minutes/sign", "secretary", json=own_file)
    signed = await api.ok("POST", f"{url}/minutes/sign", "chair", json={"source": "token"})
    assert [c["signerRole"] for c in signed["copies"]] == ["", "secretary", "chair"]
    report = await api.ok("GET", f"{url}/minutes/signatures", "delegate1")
    assert report["valid"] and [s["signer"] for s in report["signatures"]] == [SECRETARY[1], CHAIR[1]]
    assert all(s["trusted"] for s in report["signatures"])  # chained to the configured root
