"""HTTPS on the LAN: `meeting tls init` and a real `meeting serve --tls` process, HTTPS and WSS."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from websockets.sync.client import connect

from meeting.app import create_app
from meeting.settings import Settings
from meeting.tls import local_addresses
from tests.support.servers import demo_server_process, free_port, serve_in_process

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MEETING = [sys.executable, "-m", "meeting.cli"]


def meeting_cli(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The `meeting` command line as an operator runs it, on this data directory."""
    env = {**os.environ, "MEETING_DATA_DIR": str(data_dir), **extra}
    return subprocess.run(
        [*MEETING, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())} if directory.exists() else {}


def _alt_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return alt.get_values_for_type(x509.DNSName), [str(a) for a in alt.get_values_for_type(x509.IPAddress)]


def test_tls_init_writes_a_ca_and_a_server_certificate_for_the_box(tmp_path: Path) -> None:
    done = meeting_cli(tmp_path, "tls", "init", "--name", "phonghop.local", "--ip", "10.1.2.3")
    assert done.returncode == 0, done.stderr
    tls = tmp_path / "tls"
    assert sorted(_files(tls)) == ["ca.crt", "ca.key", "server.crt", "server.key"]
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tls / key).stat().st_mode) == 0o600, key
    assert stat.S_IMODE(tls.stat().st_mode) == 0o700

    ca = x509.load_pem_x509_certificate((tls / "ca.crt").read_bytes())
    chain = x509.load_pem_x509_certificates((tls / "server.crt").read_bytes())
    assert chain[1] == ca  # the chain is served whole: tablets need only the CA
    chain[0].verify_directly_issued_by(ca)
    names, ips = _alt_names(chain[0])
    assert {socket.gethostname().lower(), "localhost", "phonghop.local"} <= set(names)
    assert {"127.0.0.1", "10.1.2.3", *local_addresses()} <= set(ips)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "SHA-256 fingerprint" in done.stdout and "phonghop.local" in done.stdout


def test_tls_init_refuses_to_overwrite_without_force_and_keeps_the_ca_when_asked(tmp_path: Path) -> None:
    assert meeting_cli(tmp_path, "tls", "init").returncode == 0
    tls = tmp_path / "tls"
    first = _files(tls)

    again = meeting_cli(tmp_path, "tls", "init")
    assert again.returncode == 2 and "--force" in again.stderr
    assert _files(tls) == first

    renewed = meeting_cli(tmp_path, "tls", "init", "--force", "--keep-ca")
    assert renewed.returncode == 0, renewed.stderr
    after = _files(tls)
    assert after["ca.crt"] == first["ca.crt"] and after["ca.key"] == first["ca.key"]
    assert after["server.key"] != first["server.key"]
    ca = x509.load_pem_x509_certificate(after["ca.crt"])
    x509.load_pem_x509_certificates(after["server.crt"])[0].verify_directly_issued_by(ca)

    replaced = meeting_cli(tmp_path, "tls", "init", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert _files(tls)["ca.crt"] != first["ca.crt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ip", "192.168.1.300"], "'192.168.1.300' is not an IP address"),
        (["--name", "phòng họp"], "'phòng họp' is not a host name"),
        (["--name=bad-.local"], "is not a host name"),
        (["--keep-ca", "--force"], "no CA"),
    ],
)
def test_tls_init_with_bad_arguments_says_why_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = meeting_cli(tmp_path, "tls", "init", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "tls").exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--tls"], {}, "run `meeting tls init` first"),
        ([], {"MEETING_TLS_CERT": "/nonexistent/cert.pem"}, "set both MEETING_TLS_CERT and MEETING_TLS_KEY"),
        (
            [],
            {"MEETING_TLS_CERT": "/nonexistent/cert.pem", "MEETING_TLS_KEY": "/nonexistent/key.pem"},
            "/nonexistent/cert.pem does not exist",
        ),
    ],
)
def test_serve_refuses_missing_or_half_tls_settings(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = meeting_cli(tmp_path, "serve", "--port", str(free_port()), *args, **env)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "meeting.sqlite3").exists()  # refused before anything was migrated


def test_serve_refuses_a_key_of_another_certificate(tmp_path: Path) -> None:
    assert meeting_cli(tmp_path / "a", "tls", "init").returncode == 0
    assert meeting_cli(tmp_path / "b", "tls", "init").returncode == 0
    done = meeting_cli(
        tmp_path,
        "serve",
        "--port",
        str(free_port()),
        MEETING_TLS_CERT=str(tmp_path / "a" / "tls" / "server.crt"),
        MEETING_TLS_KEY=str(tmp_path / "b" / "tls" / "server.key"),
    )
    assert done.returncode == 2 and "does not belong to the certificate" in done.stderr


# ------------------------------------------------------------------------------ a real HTTPS server


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`meeting tls init`, then `meeting serve --tls --demo`; yields its https:// URL and the CA file."""
    data_dir = tmp_path_factory.mktemp("tls-server")
    assert meeting_cli(data_dir, "tls", "init").returncode == 0
    ca = data_dir / "tls" / "ca.crt"
    with demo_server_process(data_dir, "--tls", ca=ca) as base:
        yield base, ca


def test_serve_tls_answers_https_with_a_certificate_chaining_to_the_local_ca(
    https_server: tuple[str, Path],
) -> None:
    base, ca = https_server
    trusting = ssl.create_default_context(cafile=str(ca))  # verifies the chain and the name 127.0.0.1
    with httpx.Client(base_url=base, verify=trusting) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.headers["strict-transport-security"] == "max-age=15552000"
        login = client.post("/api/auth/login", json={"username": "delegate1", "password": "demo"})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
    # Without the local CA the same server is refused: the trust comes from the CA, nothing else.
    with (
        httpx.Client(base_url=base, verify=ssl.create_default_context()) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get("/health")


def test_a_room_socket_works_over_wss(https_server: tuple[str, Path]) -> None:
    base, ca = https_server
    trusting = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=base, verify=trusting) as client:
        token = client.post("/api/auth/login", json={"username": "delegate1", "password": "demo"}).json()[
            "access_token"
        ]
        meetings = client.get("/api/meetings", headers={"authorization": f"Bearer {token}"}).json()
    meeting_id = meetings[0]["id"]
    url = f"{base.replace('https://', 'wss://')}/api/meetings/{meeting_id}/socket"
    with connect(url, ssl=trusting, origin=base, open_timeout=10) as sock:  # type: ignore[arg-type]
        sock.send(json.dumps({"type": "auth", "token": token}))
        first = json.loads(sock.recv(timeout=10))
    assert first["type"] == "room.snapshot"


def test_the_ca_certificate_is_offered_and_never_a_key(https_server: tuple[str, Path]) -> None:
    base, ca = https_server
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(ca))) as client:
        answer = client.get("/tls/ca.crt")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-x509-ca-cert"
    assert answer.content == ca.read_bytes()
    assert b"PRIVATE KEY" not in answer.content
    cert = x509.load_pem_x509_certificate(answer.content)
    sha256 = cert.fingerprint(hashes.SHA256()).hex()
    assert answer.headers["x-certificate-sha256"].replace(":", "").lower() == sha256


async def test_without_a_local_ca_the_download_is_a_404_with_its_code_and_http_has_no_hsts(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 64))
    async with serve_in_process(app) as client:
        answer = await client.get("/tls/ca.crt")
        assert answer.status_code == 404
        assert answer.json()["code"] == "tls.no_ca"
        assert "strict-transport-security" not in (await client.get("/health")).headers


def test_a_backup_keeps_the_local_ca_so_a_restored_box_needs_no_new_trust(tmp_path: Path) -> None:
    box = tmp_path / "box"
    assert meeting_cli(box, "tls", "init").returncode == 0
    assert meeting_cli(box, "demo").returncode == 0
    Settings(data_dir=box).resolved_secret_key()  # as the first `meeting serve` makes it
    written = meeting_cli(box, "backup", str(tmp_path / "box.tar.gz"))
    assert written.returncode == 0, written.stderr

    restored = meeting_cli(tmp_path / "new", "restore", str(tmp_path / "box.tar.gz"))
    assert restored.returncode == 0, restored.stderr
    assert _files(tmp_path / "new" / "tls") == _files(box / "tls")
    assert stat.S_IMODE((tmp_path / "new" / "tls" / "ca.key").stat().st_mode) == 0o600
