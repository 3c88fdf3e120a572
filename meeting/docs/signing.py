"""PAdES signatures of the official minutes and resolutions, made and checked with pyHanko.

The approved minutes PDF is signed by the secretary, then countersigned by the chair: each signature is
an incremental update, so the bytes an earlier signer signed are never rewritten and every signature
stays verifiable. The level is PAdES B-B: a CMS signature with the signer's certificate and the claimed
signing time (the signature dictionary's /M, inside the signed byte range; PAdES forbids CMS's own
signing-time attribute). No time-stamp authority, OCSP responder or CRL is asked: a meeting room may
have no internet, and B-B needs none.

Credentials, one of two kinds:

* `Pkcs12File`: the signer's own PKCS#12 file (the .p12/.pfx a Vietnamese CA issues) and its password,
  for one request only. Neither is stored or logged; both dataclasses keep them out of their repr.
* `TokenKey`: a key on the PKCS#11 token configured on the server (`MEETING_PKCS11_MODULE`,
  `MEETING_PKCS11_TOKEN`, `MEETING_PKCS11_PIN`). Decision: the private key and its certificate are the
  token objects whose label is the signer's username (`TokenKey.from_settings(settings, "chair")`);
  the other certificates on the token are used as the chain.

Before anything is signed the credentials are checked, so a refusal names the problem: a file that is
not a PDF, a wrong password, a certificate expired or not yet valid, one that does not chain to a trust
root (`configured_trust_roots`: the operator's `MEETING_TRUST_ROOTS` directory, plus the demo CA in
demo mode), an unreachable token.

pyHanko is pure Python, so hostile bytes cannot corrupt memory as in PyMuPDF, but its work is CPU-bound
and its own asyncio API computes inside coroutines: the server calls `sign_pdf_async` and
`verify_pdf_async`, which run the synchronous functions in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import io
import logging
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from asn1crypto import pem, pkcs12, x509  # type: ignore[import-untyped]
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, PathBuildingError, ValidationError

from meeting.docs.demo_ca import DEMO_CA_DIR, ROOT_FILE
from meeting.errors import Code, Conflict, InvalidInput, NotFound, Unavailable
from meeting.schemas import Schema

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from pyhanko.sign.signers import Signer

    from meeting.settings import Settings

log = logging.getLogger("meeting.docs.signing")

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")
# A signer's certificate must allow non-repudiation: PDF signers and the Vietnamese CAs' signing
# certificates set it; pyHanko's validator asks the same.
KEY_USAGE = frozenset({"non_repudiation"})
# After a signature, a later revision may only add signatures (and their validation data): the minutes
# are final once signed, so even an annotation counts as a change.
ALLOWED_LATER_CHANGES = frozenset(
    {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
)
# What came after a signature, for `describe`.
CHANGES_IN_WORDS = {
    "none": "nothing was added since",
    "lta_updates": "only validation data was added since",
    "form_filling": "only later signatures or form fields were added",
    "annotations": "comments were added",
    "other": "the content was changed",
    "unknown": "cannot be determined",
}


@dataclasses.dataclass(frozen=True)
class Pkcs12File:
    """A signer's PKCS#12 file and its password, supplied for one signature and never kept."""

    data: bytes = dataclasses.field(repr=False)
    password: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class TokenKey:
    """The key and certificate labelled `key_label` on the server's PKCS#11 token."""

    module: str
    token_label: str
    key_label: str
    # None: no login (a token that asks for its PIN on its own pad).
    pin: str | None = dataclasses.field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, key_label: str) -> TokenKey:
        """The configured token's key for this signer (its username).

        Raises:
            Unavailable: the server has no token configured.
        """
        if not (settings.pkcs11_module and settings.pkcs11_token):
            raise Unavailable(
                Code.SIGNING_TOKEN_UNAVAILABLE,
                "no signing token is configured (MEETING_PKCS11_MODULE and MEETING_PKCS11_TOKEN)",
            )
        return cls(
            module=str(settings.pkcs11_module),
            token_label=settings.pkcs11_token,
            key_label=key_label,
            pin=settings.pkcs11_pin,
        )


Credentials = Pkcs12File | TokenKey


class SignatureCheck(Schema):
    """The verdicts on one signature of a PDF."""

    field_name: str
    # Common name of the signer's certificate (for the Vietnamese CAs: the person's name).
    signer: str
    # As claimed by the signer (B-B has no time stamp); None when the signature gives none.
    signed_at: dt.datetime | None
    # The signer's certificate chains to a configured trust root and is valid now.
    trusted: bool
    # The signed bytes are unchanged and the signature over them is correct.
    intact: bool
    # Something other than further signatures was changed after this signature.
    modified: bool
    # pyHanko's modification level of what came after ("none", "form_filling", "other" …).
    changes: str
    # Intact, trusted and not changed after signing.
    valid: bool
    # Why a signature could not be checked at all (malformed signature data), in plain words.
    problem: str | None = None


class SignatureReport(Schema):
    """Every signature of a PDF, oldest first; `valid` when there is at least one and all are valid."""

    signatures: list[SignatureCheck]
    valid: bool


def load_certificates(directory: Path) -> list[x509.Certificate]:
    """The certificates in a directory's .pem/.crt/.cer/.der files (PEM files may hold several).

    Raises:
        ValueError: the directory is missing or a file is not a certificate (an operator's mistake).
    """
    if not directory.is_dir():
        raise ValueError(f"trust roots directory {directory} does not exist")
    return [
        certificate
        for path in sorted(directory.iterdir())
        if path.is_file() and path.suffix.lower() in CERTIFICATE_SUFFIXES
        for certificate in load_certificate_file(path)
    ]


def load_certificate_file(path: Path) -> list[x509.Certificate]:
    """The certificates of one PEM or DER file.

    Raises:
        ValueError: the file is not a certificate.
    """
    data = path.read_bytes()
    try:
        if pem.detect(data):
            ders = [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        else:
            ders = [data]
        certificates = [x509.Certificate.load(der, strict=True) for der in ders]
        for certificate in certificates:
            certificate.native  # noqa: B018 -- parses the whole structure now, not at first use
    except ValueError as exc:
        raise ValueError(f"{path} is not a PEM or DER certificate: {exc}") from exc
    return certificates


def configured_trust_roots(
    settings: Settings, *, demo: bool = False, extra: Iterable[Path] = ()
) -> list[x509.Certificate]:
    """The roots signatures must chain to: MEETING_TRUST_ROOTS, the demo CA when `demo`, and `extra` dirs.

    The demo root is trusted only when asked for: its private key lies beside it in the data directory.

    Raises:
        ValueError: a directory is missing or holds a file that is not a certificate.
    """
    directories = [settings.trust_roots_dir] if settings.trust_roots_dir else []
    directories.extend(extra)
    roots = [certificate for directory in directories for certificate in load_certificates(directory)]
    demo_root = settings.data_dir / DEMO_CA_DIR / ROOT_FILE
    if demo and demo_root.exists():
        roots.extend(load_certificate_file(demo_root))
    return roots


def sign_pdf(
    pdf: bytes,
    credentials: Credentials,
    *,
    field_name: str,
    signer_name: str,
    reason: str,
    location: str,
    trust_roots: Sequence[x509.Certificate],
) -> bytes:
    """The PDF with one more PAdES B-B signature in a new field, appended as an incremental update.

    Synchronous and CPU-bound: from the server, call `sign_pdf_async`. The certificate must be valid
    and trusted now, the moment the signature claims.

    Raises:
        InvalidInput: not a PDF, not a PKCS#12 file, wrong password, certificate expired, not yet valid
            or not chaining to `trust_roots`.
        Conflict: the field is already signed.
        Unavailable: the PKCS#11 token cannot be used (module, token, PIN).
        NotFound: the token has no key or certificate with the signer's label.
    """
    reader, signatures = _open_pdf(pdf)
    if field_name in {signature.field_name for signature in signatures}:
        raise Conflict(Code.SIGNING_FIELD_TAKEN, f"signature field {field_name!r} is already signed")
    moment = dt.datetime.now(dt.UTC)
    metadata = PdfSignatureMetadata(
        field_name=field_name,
        name=signer_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    if isinstance(credentials, Pkcs12File):
        signer = _pkcs12_signer(credentials)
        asyncio.run(_check_certificate(signer, trust_roots, moment))
        return _sign(reader, signer, metadata)
    return _sign_with_token(reader, credentials, metadata, trust_roots, moment)


def verify_pdf(pdf: bytes, trust_roots: Sequence[x509.Certificate]) -> SignatureReport:
    """Check every signature of a PDF: signer, claimed time, trust, integrity, later changes.

    Raises:
        InvalidInput: the bytes are not a PDF.
    """
    _, signatures = _open_pdf(pdf, strict=False)
    checks = asyncio.run(_check_signatures(signatures, trust_roots))
    return SignatureReport(signatures=checks, valid=bool(checks) and all(check.valid for check in checks))


async def sign_pdf_async(
    pdf: bytes,
    credentials: Credentials,
    *,
    field_name: str,
    signer_name: str,
    reason: str,
    location: str,
    trust_roots: Sequence[x509.Certificate],
) -> bytes:
    """`sign_pdf` in a worker thread, so the event loop keeps serving the room."""
    work = functools.partial(
        sign_pdf,
        pdf,
        credentials,
        field_name=field_name,
        signer_name=signer_name,
        reason=reason,
        location=location,
        trust_roots=trust_roots,
    )
    return await anyio.to_thread.run_sync(work)


async def verify_pdf_async(pdf: bytes, trust_roots: Sequence[x509.Certificate]) -> SignatureReport:
    """`verify_pdf` in a worker thread, so the event loop keeps serving the room."""
    return await anyio.to_thread.run_sync(verify_pdf, pdf, trust_roots)


def describe(report: SignatureReport) -> str:
    """The report in plain words, one paragraph per signature and a last line with the verdict."""
    if not report.signatures:
        return "The file has no signature."
    lines: list[str] = []
    for number, check in enumerate(report.signatures, start=1):
        when = f"{check.signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" if check.signed_at else "unknown"
        lines.append(f"Signature {number}, field {check.field_name!r}: {check.signer}, signed at {when}")
        lines.append(f"  intact (signed bytes unchanged): {_yes(check.intact)}")
        lines.append(f"  certificate trusted: {_yes(check.trusted)}")
        lines.append(
            f"  changed after this signature: {_yes(check.modified)} "
            f"({CHANGES_IN_WORDS.get(check.changes, check.changes)})"
        )
        if check.problem:
            lines.append(f"  problem: {check.problem}")
        lines.append(f"  verdict: {'valid' if check.valid else 'NOT VALID'}")
    lines.append("All signatures are valid." if report.valid else "The signatures are NOT valid.")
    return "\n".join(lines)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _open_pdf(
    pdf: bytes, *, strict: bool = True
) -> tuple[PdfFileReader, list[EmbeddedPdfSignature | _Unreadable]]:
    """The parsed PDF and its signatures; signing reads strictly, so that what it appends is sound."""
    # A PDF's header may follow some junk, but within its first kilobyte (ISO 32000-1, 7.5.2 note).
    if b"%PDF-" not in pdf[:1024]:
        raise InvalidInput(Code.SIGNING_NOT_A_PDF, "the file is not a PDF (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=strict)
        if reader.encrypted:
            raise InvalidInput(Code.SIGNING_NOT_A_PDF, "the PDF is encrypted; sign it before encrypting")
        # Reads the catalogue and the signature fields now, so that a broken file fails here.
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    # Hostile bytes break a parser in many ways; each means "not a PDF we can read".
    except (PdfError, ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
        raise InvalidInput(Code.SIGNING_NOT_A_PDF, f"the file is not a readable PDF: {exc}") from exc
    return reader, _signatures(reader, fields)


@dataclasses.dataclass(frozen=True)
class _Unreadable:
    """A filled signature field whose signature cannot even be parsed."""

    field_name: str
    problem: str


def _signatures(
    reader: PdfFileReader, fields: Iterable[tuple[str, Any, Any]]
) -> list[EmbeddedPdfSignature | _Unreadable]:
    """The signatures oldest first, then those too broken to place (pyHanko's own list would fail whole).

    Document time stamps (/DocTimeStamp) are left out: they sign no one's approval.
    """
    readable: list[EmbeddedPdfSignature] = []
    unreadable: list[_Unreadable] = []
    for name, _, field in fields:
        try:
            signature = EmbeddedPdfSignature(reader, field, name)
            signature.signed_revision  # noqa: B018 -- reads the byte range now
        except Exception as exc:  # hostile or damaged signature data: a finding, not a crash
            unreadable.append(_Unreadable(str(name), f"{type(exc).__name__}: {exc}"))
            continue
        if signature.sig_object_type != "/DocTimeStamp":
            readable.append(signature)
    readable.sort(key=lambda signature: signature.signed_revision)
    return [*readable, *unreadable]


def _pkcs12_signer(credentials: Pkcs12File) -> SimpleSigner:
    # cryptography says "invalid password or PKCS12 data" for both; the outer structure is readable
    # without the password, so a file that parses and does not open had the wrong password.
    try:
        pkcs12.Pfx.load(credentials.data, strict=True).native  # noqa: B018 -- parse it all now
    except ValueError as exc:
        raise InvalidInput(
            Code.SIGNING_NOT_PKCS12, "the key file is not a PKCS#12 file (.p12, .pfx)"
        ) from exc
    try:
        signer = SimpleSigner.load_pkcs12_data(credentials.data, [], passphrase=credentials.password.encode())
    except ValueError as exc:
        raise InvalidInput(Code.SIGNING_BAD_PASSWORD, "the password of the key file is wrong") from exc
    if not isinstance(signer, SimpleSigner) or signer.signing_cert is None:
        raise InvalidInput(Code.SIGNING_NOT_PKCS12, "the key file holds no certificate")
    return signer


def _sign_with_token(
    reader: PdfFileReader,
    key: TokenKey,
    metadata: PdfSignatureMetadata,
    trust_roots: Sequence[x509.Certificate],
    moment: dt.datetime,
) -> bytes:
    # Imported here: python-pkcs11 loads C code that only token signing needs.
    from pkcs11 import PKCS11Error
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(
            key.module, token_criteria=TokenCriteria(label=key.token_label), user_pin=key.pin
        )
    except (PKCS11Error, OSError, RuntimeError) as exc:
        log.warning("signing token %r unavailable: %s", key.token_label, type(exc).__name__)
        raise Unavailable(
            Code.SIGNING_TOKEN_UNAVAILABLE,
            f"the signing token {key.token_label!r} cannot be used: {type(exc).__name__} {exc}".strip(),
        ) from exc
    try:
        # other_certs_to_pull=None: every certificate on the token, so the CA chain may be stored there.
        signer = PKCS11Signer(
            session, cert_label=key.key_label, key_label=key.key_label, other_certs_to_pull=None
        )
        try:
            signer.signing_cert  # noqa: B018 -- loads the key and certificate: fails now when missing
        except (PKCS11Error, SigningError) as exc:
            raise NotFound(
                Code.SIGNING_KEY_NOT_FOUND,
                f"the signing token has no key and certificate labelled {key.key_label!r}",
            ) from exc
        asyncio.run(_check_certificate(signer, trust_roots, moment))
        return _sign(reader, signer, metadata)
    finally:
        session.close()


async def _check_certificate(
    signer: Signer, trust_roots: Sequence[x509.Certificate], moment: dt.datetime
) -> None:
    certificate = signer.signing_cert
    if certificate is None:
        raise InvalidInput(Code.SIGNING_NOT_PKCS12, "the credentials hold no certificate")
    name = _common_name(certificate)
    if moment < certificate.not_valid_before:
        raise InvalidInput(
            Code.SIGNING_CERTIFICATE_NOT_YET_VALID,
            f"the certificate of {name} is valid only from {certificate.not_valid_before:%Y-%m-%d}",
        )
    if moment > certificate.not_valid_after:
        raise InvalidInput(
            Code.SIGNING_CERTIFICATE_EXPIRED,
            f"the certificate of {name} expired on {certificate.not_valid_after:%Y-%m-%d}",
        )
    context = ValidationContext(
        trust_roots=list(trust_roots),
        other_certs=list(signer.cert_registry),
        moment=moment,
        allow_fetching=False,  # offline by design: no OCSP, no CRL, no AIA fetching
        revocation_mode="soft-fail",
    )
    try:
        validator = CertificateValidator(certificate, validation_context=context)
        await validator.async_validate_usage(set(KEY_USAGE))  # type: ignore[no-untyped-call]  # untyped upstream
    except (ExpiredError, NotYetValidError) as exc:
        raise InvalidInput(
            Code.SIGNING_CERTIFICATE_EXPIRED, f"a certificate in the chain of {name} is not valid now: {exc}"
        ) from exc
    except PathBuildingError as exc:
        raise InvalidInput(
            Code.SIGNING_CERTIFICATE_UNTRUSTED,
            f"the certificate of {name} was not issued by a trusted authority",
        ) from exc
    except ValidationError as exc:
        raise InvalidInput(
            Code.SIGNING_CERTIFICATE_UNTRUSTED, f"the certificate of {name} cannot be used to sign: {exc}"
        ) from exc


def _sign(reader: PdfFileReader, signer: Signer, metadata: PdfSignatureMetadata) -> bytes:
    # Incremental: the new revision is appended, the bytes earlier signers signed stay as they are.
    output = PdfSigner(metadata, signer).sign_pdf(IncrementalPdfFileWriter.from_reader(reader))
    data: bytes = output.getvalue()
    return data


async def _check_signatures(
    signatures: Iterable[EmbeddedPdfSignature | _Unreadable], trust_roots: Sequence[x509.Certificate]
) -> list[SignatureCheck]:
    return [await _check_signature(signature, trust_roots) for signature in signatures]


def _broken(field_name: str, signer: str, problem: str) -> SignatureCheck:
    return SignatureCheck(
        field_name=field_name,
        signer=signer,
        signed_at=None,
        trusted=False,
        intact=False,
        modified=True,
        changes="unknown",
        valid=False,
        problem=problem,
    )


async def _check_signature(
    signature: EmbeddedPdfSignature | _Unreadable, trust_roots: Sequence[x509.Certificate]
) -> SignatureCheck:
    if isinstance(signature, _Unreadable):
        return _broken(signature.field_name, "unknown", f"the signature cannot be read: {signature.problem}")
    field_name = str(signature.field_name)
    try:
        signer = _common_name(signature.signer_cert)
    except (ValueError, KeyError, TypeError):
        signer = "unknown"
    # One context per signature: a context caches what it has validated.
    context = ValidationContext(
        trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = await async_validate_pdf_signature(signature, signer_validation_context=context)
    except Exception as exc:  # any failure to check a signature means a broken signature
        return _broken(field_name, signer, f"the signature cannot be checked: {type(exc).__name__}: {exc}")
    level = status.modification_level
    modified = not (
        status.coverage in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION)
        and level in ALLOWED_LATER_CHANGES
        and status.docmdp_ok is not False
    )
    trusted, intact = bool(status.trusted), bool(status.intact and status.valid)
    return SignatureCheck(
        field_name=field_name,
        signer=signer,
        signed_at=status.signer_reported_dt,
        trusted=trusted,
        intact=intact,
        modified=modified,
        changes=level.name.lower() if level is not None else "unknown",
        valid=intact and trusted and not modified,
    )


def _common_name(certificate: Any) -> str:
    subject = certificate.subject.native
    return str(subject.get("common_name") or certificate.subject.human_friendly)
