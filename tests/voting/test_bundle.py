"""The archive package: made for an archived meeting, accepted offline, refused once any file is edited
(even when the editor also fixes the manifest)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import zipfile
from typing import TYPE_CHECKING

import pytest

from meeting.docs.demo_ca import DEMO_SIGNING_PASSWORD
from meeting.docs.signing import configured_trust_roots
from meeting.voting.bundle import MANIFEST, check_bundle
from tests.support.api import upload
from tests.support.files import make_pdf
from tests.support.signing import with_demo_signing

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from meeting.settings import Settings
    from tests.voting.conftest import Session


@pytest.fixture
def settings(settings: Settings, demo_ca: Path) -> Settings:
    """Demo signing on, with demo certificates for the council's secretary and chair."""
    return with_demo_signing(settings, demo_ca)


async def _archived_package(session: Session, tmp_path: Path) -> Path:
    """A whole meeting — documents, a named and a secret poll, a conclusion, roll call with an absence —
    ended, approved, signed by both, archived; its package saved to a file."""
    api, url = session.api, session.council.url
    assert (await upload(session.council, make_pdf())).status_code == 201
    assert (await upload(session.council, make_pdf("Phụ lục"), title="Phụ lục")).status_code == 201
    await session.add_delegate("delegate3")
    pid = session.council.participant_ids["delegate3"]
    absent = {"attendance": "absent", "reason": "Đi công tác"}
    await api.ok("PUT", f"{url}/participants/{pid}/attendance", "secretary", json=absent)
    for kind in ("named", "secret"):
        poll = await session.opened(kind=kind)
        await session.vote(poll["id"], "delegate1", 0)
        await session.vote(poll["id"], "delegate2", 1)
        await session.close(poll["id"])
        await session.publish(poll["id"])
    conclusion = {"text": "Hội đồng thống nhất thông qua."}
    await api.ok("PUT", f"{url}/agenda/{session.item_id}/conclusion", "secretary", json=conclusion)
    refused = await api.call("GET", f"{url}/archive", "secretary")
    assert (refused.status_code, refused.json()["code"]) == (409, "meeting.not_archived")
    await api.ok("POST", f"{url}/status", "chair", json={"status": "ended"})
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    await api.ok("POST", f"{url}/minutes/approve", "chair")
    signature = {"source": "demo", "password": DEMO_SIGNING_PASSWORD}
    for signer in ("secretary", "chair"):
        await api.ok("POST", f"{url}/minutes/sign", signer, json=signature)
    await api.ok("POST", f"{url}/status", "secretary", json={"status": "archived"})
    assert (await api.call("GET", f"{url}/archive", "delegate1")).status_code == 403
    response = await api.call("GET", f"{url}/archive", "secretary")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    path = tmp_path / "package.zip"
    path.write_bytes(response.content)
    return path


def _rewrite(
    source: Path, target: Path, change: Callable[[dict[str, bytes]], None], fix_manifest: bool
) -> Path:
    """A copy of the package with `change` applied to its files (and the manifest made to match)."""
    with zipfile.ZipFile(source) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist()}
    change(files)
    if fix_manifest:
        manifest = json.loads(files[MANIFEST])
        manifest["files"] = [
            {"path": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for n, d in sorted(files.items())
            if n != MANIFEST
        ]
        files[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return target


def _first(files: dict[str, bytes], prefix: str) -> str:
    return next(name for name in sorted(files) if name.startswith(prefix))


def _edit_document(files: dict[str, bytes]) -> None:
    name = _first(files, "documents/")
    files[name] = files[name].replace(b"12", b"13", 1)


def _edit_result(files: dict[str, bytes]) -> None:
    name = _first(files, "results/")
    result = json.loads(files[name])
    result["counts"] = list(reversed(result["counts"]))
    files[name] = json.dumps(result).encode()


def _edit_attendance(files: dict[str, bytes]) -> None:
    files["attendance.csv"] = files["attendance.csv"].replace("Đi công tác".encode(), "Có mặt".encode())


def _edit_votes(files: dict[str, bytes]) -> None:
    rows = files["named-votes.csv"].decode().split("\r\n")
    rows[1], rows[2] = rows[1].replace("Đồng ý", "Không đồng ý"), rows[2]
    files["named-votes.csv"] = "\r\n".join(rows).encode()


def _edit_conclusion(files: dict[str, bytes]) -> None:
    files[_first(files, "conclusions/")] = "Hội đồng không thông qua.".encode()


def _edit_chain(files: dict[str, bytes]) -> None:
    chain = json.loads(files["chain.json"])
    chain["entries"][3]["payload"] = chain["entries"][3]["payload"].replace('"voting":true', '"voting":false')
    files["chain.json"] = json.dumps(chain).encode()


def _edit_minutes(files: dict[str, bytes]) -> None:
    files["minutes.pdf"] = files["minutes.pdf"].replace(b"/Producer", b"/Pxoducer", 1)


def _drop_document(files: dict[str, bytes]) -> None:
    del files[_first(files, "documents/")]


EDITS = [
    ("a document", _edit_document, "documents/"),
    ("a result", _edit_result, "results/"),
    ("attendance", _edit_attendance, "attendance.csv"),
    ("a named vote", _edit_votes, "named-votes.csv"),
    ("a conclusion", _edit_conclusion, "conclusions/"),
    ("the chain", _edit_chain, "chain.json"),
    ("the minutes", _edit_minutes, "minutes.pdf"),
    ("a document removed", _drop_document, "the package lacks"),
]


async def test_the_package_is_accepted_offline_and_refused_once_any_file_is_edited(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    package = await _archived_package(session, tmp_path)
    roots = configured_trust_roots(settings, demo=True)
    verdict = await asyncio.to_thread(check_bundle, package, roots)  # pyHanko runs its own loop
    assert verdict.problem is None, verdict.problem
    assert "signed by Secretary (trusted), Chair (trusted)" in verdict.summary
    with zipfile.ZipFile(package) as bundle:
        names = set(bundle.namelist())
        attendance = bundle.read("attendance.csv").decode()
    assert {"minutes.pdf", "chain.json", "polls.csv", "named-votes.csv", "attendance.csv", MANIFEST} <= names
    assert len([n for n in names if n.startswith("documents/")]) == 2
    assert "Đi công tác" in attendance and "Delegate3" in attendance
    for case, edit, named in EDITS:
        for fix_manifest in (False, True):
            edited = _rewrite(package, tmp_path / "edited.zip", edit, fix_manifest)
            problem = (await asyncio.to_thread(check_bundle, edited, roots)).problem
            assert problem is not None, (case, fix_manifest)
            if fix_manifest:  # the manifest then holds: what catches the edit is the chain or a signature
                assert named in problem, (case, problem)
    # From the command line, offline: the same verdicts and exit codes.
    env = {**os.environ, "MEETING_DATA_DIR": str(settings.data_dir)}
    for path, code in ((package, 0), (edited, 1)):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "meeting.cli", "audit", "verify", "--bundle", str(path), "--demo",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        assert process.returncode == code, out.decode()
        assert out.decode().startswith("bundle ok" if code == 0 else "bundle REFUSED")
