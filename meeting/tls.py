"""HTTPS on a room's LAN without the internet: a local certificate authority and the box's certificate.

`meeting tls init` makes a CA that lives only in the data directory and signs one server certificate for
the names and addresses tablets use to reach the box. Tablets trust the CA once (its certificate is
served at /tls/ca.crt, with instructions in the client); the server certificate can then be renewed
with the same CA without touching a tablet again (`meeting tls init --force --keep-ca`).
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import socket
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meeting.certificates import CLOCK_SKEW, key_usage, root_certificate

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from meeting.settings import Settings

TLS_DIR = "tls"
CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY = "ca.crt", "ca.key", "server.crt", "server.key"
CA_DAYS = 10 * 365  # the CA outlives the box's service: re-trusting every tablet is the costly part
# Browsers refuse server certificates valid for more than 398 days, even from a CA a user installed
# (Safari on iPadOS does); renew with `meeting tls init --force --keep-ca`.
SERVER_DAYS = 397


class TlsError(Exception):
    """A TLS command or setting that cannot be carried out; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Issued:
    """What `init` wrote: the files and what the server certificate names."""

    directory: Path
    names: tuple[str, ...]
    addresses: tuple[str, ...]
    ca_fingerprint: str
    kept_ca: bool


def tls_dir(settings: Settings) -> Path:
    """Where `meeting tls init` keeps the CA and the server certificate."""
    return settings.data_dir / TLS_DIR


def ca_cert_path(settings: Settings) -> Path:
    """The CA certificate tablets download: MEETING_TLS_CA, else the one `meeting tls init` made."""
    return settings.tls_ca or tls_dir(settings) / CA_CERT


def server_files(settings: Settings) -> tuple[Path, Path]:
    """(certificate, key) `meeting serve --tls` uses: MEETING_TLS_CERT/KEY, else `meeting tls init`'s."""
    directory = tls_dir(settings)
    return settings.tls_cert or directory / SERVER_CERT, settings.tls_key or directory / SERVER_KEY


def serving_problem(settings: Settings, tls: bool) -> str | None:
    """Why the server cannot serve HTTPS as configured (None when it can, or when TLS is off)."""
    if (settings.tls_cert is None) != (settings.tls_key is None):
        return "set both MEETING_TLS_CERT and MEETING_TLS_KEY, or neither"
    if not tls and settings.tls_cert is None:
        return None
    cert, key = server_files(settings)
    for path in (cert, key):
        if not path.is_file():
            hint = "" if settings.tls_cert else "; run `meeting tls init` first"
            return f"cannot serve HTTPS: {path} does not exist{hint}"
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return f"cannot serve HTTPS: {cert} or {key} is not a PEM certificate and unencrypted key ({exc})"
    if _public_der(loaded.public_key()) != _public_der(private.public_key()):
        return f"cannot serve HTTPS: the key {key} does not belong to the certificate {cert}"
    return None


def tls_enabled(settings: Settings, flag: bool) -> bool:
    """Whether `meeting serve` serves HTTPS: `--tls`, or MEETING_TLS_CERT/KEY set."""
    return flag or settings.tls_cert is not None


def local_addresses() -> list[str]:
    """The box's non-loopback IPv4 addresses, as tablets on the LAN reach it."""
    found: set[str] = set()
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found.update(str(info[4][0]) for info in infos)
    except OSError:
        pass
    # The address of the interface that would route outwards (no packet is sent on a UDP connect).
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                found.add(udp.getsockname()[0])
        except OSError:
            continue
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback and a != "0.0.0.0")


def parse_addresses(values: Iterable[str]) -> list[str]:
    """Validated IP addresses given with --ip.

    Raises:
        TlsError: naming the value that is not an address.
    """
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(value.strip())))
        except ValueError:
            raise TlsError(f"--ip {value!r} is not an IP address (e.g. 192.168.1.20)") from None
    return out


def parse_names(values: Iterable[str]) -> list[str]:
    """Validated DNS names given with --name (letters, digits, hyphens, dots; `*.` allowed in front).

    Raises:
        TlsError: naming the value that is not a host name.
    """
    out = []
    for value in values:
        name = value.strip().rstrip(".").lower()
        labels = name.removeprefix("*.").split(".")
        if not name or len(name) > 253 or not all(_is_label(label) for label in labels):
            raise TlsError(f"--name {value!r} is not a host name (e.g. phonghop.local)")
        out.append(name)
    return out


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    )


def init(
    settings: Settings,
    names: Sequence[str] = (),
    ips: Sequence[str] = (),
    *,
    force: bool = False,
    keep_ca: bool = False,
    now: datetime.datetime | None = None,
) -> Issued:
    """Write a CA (unless kept) and a server certificate for the box's names and addresses.

    Raises:
        TlsError: the arguments are wrong, or files exist and `force` is not given; nothing is written.
    """
    extra_names, extra_ips = parse_names(names), parse_addresses(ips)
    directory = tls_dir(settings)
    paths = {n: directory / n for n in (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY)}
    existing = [p for p in paths.values() if p.exists()]
    if existing and not force:
        raise TlsError(
            f"{directory} already holds {', '.join(p.name for p in existing)}; tablets that trust this CA "
            "would have to trust a new one: add --force (and --keep-ca to keep the CA they trust)"
        )
    if keep_ca and not (paths[CA_CERT].is_file() and paths[CA_KEY].is_file()):
        raise TlsError(f"--keep-ca: there is no CA in {directory} to keep; leave --keep-ca out")
    now = now or datetime.datetime.now(datetime.UTC)
    hostname = socket.gethostname().lower()
    all_names = _unique([hostname, *([f"{hostname}.local"] if "." not in hostname else []), "localhost"])
    all_names = _unique([*all_names, *extra_names])
    all_ips = _unique(["127.0.0.1", "::1", *local_addresses(), *extra_ips])

    if keep_ca:
        ca_cert = x509.load_pem_x509_certificate(paths[CA_CERT].read_bytes())
        loaded = serialization.load_pem_private_key(paths[CA_KEY].read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise TlsError(f"{paths[CA_KEY]} is not the EC key `meeting tls init` writes")
        ca_key = loaded
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, hostname, now)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, ca_cert, ca_key, all_names, all_ips, now)

    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    written = {
        SERVER_KEY: _key_pem(server_key),
        SERVER_CERT: server_cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM),  # the chain, so clients need only the CA
    }
    if not keep_ca:
        written[CA_KEY] = _key_pem(ca_key)
        written[CA_CERT] = ca_cert.public_bytes(serialization.Encoding.PEM)
    for name, data in written.items():
        _write(paths[name], data, private=name.endswith(".key"))
    return Issued(
        directory=directory,
        names=tuple(all_names),
        addresses=tuple(all_ips),
        ca_fingerprint=fingerprint(ca_cert),
        kept_ca=keep_ca,
    )


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as tablets' settings show it (colon-separated hex)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def ca_fingerprint(pem: bytes) -> str:
    """The fingerprint of the first certificate in a PEM file.

    Raises:
        ValueError: it holds no PEM certificate.
    """
    return fingerprint(x509.load_pem_x509_certificate(pem))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _public_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write through a new file and rename, so a reader never sees half a key; keys are 0600 from birth."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    partial.replace(path)


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey, hostname: str, now: datetime.datetime
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Phòng họp không giấy"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Phòng họp không giấy — CA nội bộ ({hostname})"),
        ]
    )
    return root_certificate(
        key, name, now=now, valid_for=datetime.timedelta(days=CA_DAYS), digital_signature=True
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: Sequence[str],
    ips: Sequence[str],
    now: datetime.datetime,
) -> x509.Certificate:
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
