"""X.509 pieces shared by the two local authorities: the demo signing CA (`docs/demo_ca.py`) and the
room's HTTPS CA (`tls.py`). Both build with cryptography's `CertificateBuilder`; what they have in common
is said once here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

# Clocks of tablets and boxes drift; a certificate made now is valid from an hour ago.
CLOCK_SKEW = dt.timedelta(hours=1)


def key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    """A KeyUsage extension naming only the uses given (encipherment and key agreement never apply)."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def root_certificate(
    key: CertificateIssuerPrivateKeyTypes,
    name: x509.Name,
    *,
    now: dt.datetime,
    valid_for: dt.timedelta,
    digital_signature: bool = False,
) -> x509.Certificate:
    """A self-signed CA that issues end certificates only (path length 0), valid from `now` less the skew."""
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            key_usage(digital_signature=digital_signature, key_cert_sign=True, crl_sign=True), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
