"""A local certificate authority, so the signing of the minutes can be tried without a real CA.

`meeting serve --demo` is to call `ensure_demo_ca(data_dir / DEMO_CA_DIR, users)`: a root certificate
and, for each (username, display name), a PKCS#12 file protected by `DEMO_SIGNING_PASSWORD`. The same
functions build the test authorities (an expired certificate, an unknown CA). Nothing here is for
production: the root's private key lies next to its certificate, so the demo root is trusted only when
asked for (`signing.configured_trust_roots(settings, demo=True)`).

Keys are RSA-2048, what the Vietnamese public CAs issue to signers today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from meeting.certificates import key_usage, root_certificate

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

DEMO_SIGNING_PASSWORD = "demo"
# Under the data directory.
DEMO_CA_DIR = "demo-ca"
DEMO_ROOT_NAME = "Phòng họp không giấy — CA thử nghiệm"
ORGANIZATION = "Phòng họp không giấy (demo)"
ROOT_FILE = "root.pem"
ROOT_KEY_FILE = "root-key.pem"


@dataclasses.dataclass(frozen=True)
class Authority:
    """A CA: its certificate and the private key that issues with it."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclasses.dataclass(frozen=True)
class DemoCA:
    """Where `ensure_demo_ca` put things: the root certificate (PEM) and one PKCS#12 file per user."""

    root: Path
    pkcs12: dict[str, Path]
    password: str = DEMO_SIGNING_PASSWORD


def new_key() -> rsa.RSAPrivateKey:
    """A fresh signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def create_authority(
    common_name: str, *, now: dt.datetime, valid_for: dt.timedelta = dt.timedelta(days=3650)
) -> Authority:
    """A self-signed root CA valid from `now` (less an hour of clock skew) for `valid_for`."""
    key = new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    certificate = root_certificate(key, name, now=now, valid_for=valid_for)
    return Authority(certificate=certificate, key=key)


def issue_certificate(
    authority: Authority,
    public_key: CertificatePublicKeyTypes,
    *,
    username: str,
    display_name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A signer's certificate: CN the display name, UID the username, for signatures and non-repudiation."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, display_name),
            x509.NameAttribute(NameOID.USER_ID, username),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(authority.key, hashes.SHA256())
    )


def issue_pkcs12(
    authority: Authority,
    *,
    username: str,
    display_name: str,
    password: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> bytes:
    """A PKCS#12 file holding a new key, its certificate and the issuing CA's, under `password`."""
    key = new_key()
    certificate = issue_certificate(
        authority,
        key.public_key(),
        username=username,
        display_name=display_name,
        not_before=not_before,
        not_after=not_after,
    )
    return pkcs12.serialize_key_and_certificates(
        username.encode(),
        key,
        certificate,
        [authority.certificate],
        serialization.BestAvailableEncryption(password.encode()),
    )


def ensure_demo_ca(
    directory: Path, users: Iterable[tuple[str, str]], *, now: dt.datetime | None = None
) -> DemoCA:
    """Create (or reuse) the demo root under `directory` and a PKCS#12 file for each (username, name).

    Idempotent: what exists and is still usable is kept, so a demo signer's certificate stays the same
    across restarts; a missing, expired or foreign user file is issued again.
    """
    now = now or dt.datetime.now(dt.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    authority = _load_or_create_root(directory, now)
    files: dict[str, Path] = {}
    for username, display_name in users:
        path = directory / f"{username}.p12"
        if not _usable(path, authority, now):
            data = issue_pkcs12(
                authority,
                username=username,
                display_name=display_name,
                password=DEMO_SIGNING_PASSWORD,
                not_before=now - dt.timedelta(hours=1),
                not_after=now + dt.timedelta(days=730),
            )
            _write_private(path, data)
        files[username] = path
    return DemoCA(root=directory / ROOT_FILE, pkcs12=files)


def _load_or_create_root(directory: Path, now: dt.datetime) -> Authority:
    certificate_path, key_path = directory / ROOT_FILE, directory / ROOT_KEY_FILE
    if certificate_path.exists() and key_path.exists():
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey) and certificate.not_valid_after_utc > now:
            return Authority(certificate=certificate, key=key)
    authority = create_authority(DEMO_ROOT_NAME, now=now)
    _write_private(
        key_path,
        authority.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    certificate_path.write_bytes(authority.certificate.public_bytes(serialization.Encoding.PEM))
    return authority


def _usable(path: Path, authority: Authority, now: dt.datetime) -> bool:
    """Whether a user's PKCS#12 file opens with the demo password, is current and comes from this root."""
    if not path.exists():
        return False
    try:
        _, certificate, _ = pkcs12.load_key_and_certificates(
            path.read_bytes(), DEMO_SIGNING_PASSWORD.encode()
        )
        if certificate is None:
            return False
        # The root may have been made anew under the same name: its key must have issued this file.
        certificate.verify_directly_issued_by(authority.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only this account may read (private keys, PKCS#12 files)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
