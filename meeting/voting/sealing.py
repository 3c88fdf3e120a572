"""Sealed secret ballots: a secret choice is stored encrypted until its poll closes.

While a poll is open, whoever copies the database can pair a voter's `poll_voted` row with the row of
their ballot (same transaction, same WAL frame, neighbouring page cells, PostgreSQL `xmin`). So what
that ballot row holds must be unreadable without the server's secret key: the choice is padded to one
fixed length (an election's longer list must not show in the size) and sealed with AES-GCM under a key
derived for this poll alone. At the close the server unseals every ballot, counts, and writes the
choices and the receipt hashes to two separate tables in one transaction, in an order unrelated to
the order of voting; the sealed rows are then deleted (see `service.close_poll`).
"""

from __future__ import annotations

import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Every sealed ballot has exactly this many plaintext bytes: a JSON list of indexes, space-padded.
PLAINTEXT_BYTES = 400
NONCE_BYTES = 12


class UnreadableBallot(Exception):
    """A sealed ballot that this server's key cannot open (another key, or altered bytes)."""


def poll_key(secret_key: str, poll_id: int) -> bytes:
    """The AES-256 key of one poll's sealed ballots, derived from the server's secret key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"meeting.sealed-ballots:{poll_id}".encode()
    ).derive(secret_key.encode())


def seal(key: bytes, poll_id: int, choice: tuple[int, ...]) -> bytes:
    """The choice, padded and encrypted; the poll id is bound in, so a ballot cannot move to another poll."""
    plain = json.dumps(list(choice)).encode()
    if len(plain) > PLAINTEXT_BYTES:
        raise ValueError(f"a choice of {len(plain)} bytes does not fit a sealed ballot")
    nonce = secrets.token_bytes(NONCE_BYTES)
    padded = plain.ljust(PLAINTEXT_BYTES, b" ")
    return nonce + AESGCM(key).encrypt(nonce, padded, str(poll_id).encode())


def unseal(key: bytes, poll_id: int, sealed: bytes) -> tuple[int, ...]:
    """The choice inside a sealed ballot."""
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        padded = AESGCM(key).decrypt(nonce, body, str(poll_id).encode())
    except InvalidTag as exc:
        raise UnreadableBallot(f"a sealed ballot of poll {poll_id} does not open with this key") from exc
    return tuple(int(i) for i in json.loads(padded.decode()))


class Sealer:
    """Seals and opens one server's secret ballots; the poll keys are derived once each."""

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key
        self._keys: dict[int, bytes] = {}

    def _key(self, poll_id: int) -> bytes:
        key = self._keys.get(poll_id)
        if key is None:
            key = self._keys[poll_id] = poll_key(self._secret_key, poll_id)
        return key

    def seal(self, poll_id: int, choice: tuple[int, ...]) -> bytes:
        """A choice sealed for this poll."""
        return seal(self._key(poll_id), poll_id, choice)

    def unseal(self, poll_id: int, sealed: bytes) -> tuple[int, ...]:
        """The choice in a ballot sealed for this poll; UnreadableBallot if it does not open."""
        return unseal(self._key(poll_id), poll_id, sealed)
