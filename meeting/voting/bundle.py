"""The archive package of a meeting for the records office, and its check without the database.

One ZIP per archived meeting: the signed minutes, every document version as uploaded, each closed
poll's result exactly as stored, every conclusion version, the audit chain, tables for people
(attendance, polls, named votes as CSV) and a manifest of every file's sha256.

What makes it tamper-evident offline (`meeting audit verify --bundle FILE.zip`): the minutes are
signed, and they print the chain head they were approved at. The chain up to that head is thereby
fixed; it records each document version's, result's and conclusion's hash, and the facts the CSV
tables show. So the check verifies the signatures, finds the printed head in the chain, recomputes the
chain, compares every file with the hash the chain gives it, regenerates the CSV tables from the chain
and the results, and compares the manifest: an edit of any file is found, whoever recomputes the
manifest. Entries after the printed head (the approval, the signatures, archiving) change nothing the
package shows; the signatures themselves protect the minutes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import select

from meeting.agenda.models import MeetingStatus
from meeting.audit import AuditEntry, check_chain
from meeting.docs.models import Document, DocumentVersion
from meeting.errors import Code, InvalidState
from meeting.voting.minutes import CHAIN_HEAD, MOTION_LABELS
from meeting.voting.models import Conclusion, MinutesCopy, Poll
from meeting.voting.verify import Recorded, replay

if TYPE_CHECKING:
    from collections.abc import Sequence

    from asn1crypto import x509  # type: ignore[import-untyped]
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.docs.storage import BlobStore

MANIFEST = "manifest.json"
CHAIN = "chain.json"
MINUTES = "minutes.pdf"
README = """Hồ sơ lưu trữ cuộc họp / Meeting archive package

minutes.pdf        Biên bản đã ký số / the signed minutes
documents/         Tài liệu họp, từng phiên bản, nguyên bản / every document version as uploaded
results/           Kết quả biểu quyết như đã lưu / each poll's result as stored
conclusions/       Kết luận, từng phiên bản / every conclusion version
attendance.csv     Điểm danh / attendance
polls.csv          Các cuộc biểu quyết / polls
named-votes.csv    Phiếu biểu quyết công khai / named votes
chain.json         Nhật ký hồ sơ (chuỗi băm) / the audit chain
manifest.json      SHA-256 của từng tệp / every file's SHA-256

Kiểm tra / check:  meeting audit verify --bundle <this file>.zip
"""


def _safe(name: str) -> str:
    # A file name inside the ZIP: no folders, nothing a records system would trip on.
    return re.sub(r"[^\w.\-]+", "_", Path(name).name, flags=re.UNICODE)[:120] or "file"


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()  # with a BOM, so spreadsheets read the Vietnamese


def tables(recorded: Recorded, results: dict[int, dict[str, Any]]) -> dict[str, bytes]:
    """The CSV tables, made from the chain and the stored results alone (the check makes them again)."""
    attendance: list[list[object]] = [["participant", "name", "role", "voting", "attendance", "reason"]]
    for pid, facts in sorted(recorded.participants.items()):
        if facts is not None:
            where, reason = recorded.attendance.get(pid, ("expected", ""))
            name = recorded.names.get(pid, "")
            attendance.append([pid, name, facts["role"], facts["voting"], where, reason])
    polls: list[list[object]] = [
        [
            "poll",
            "item",
            "question",
            "kind",
            "method",
            "rule",
            "members",
            "eligible",
            "ballots",
            "votes",
            "passed",
        ]
    ]
    votes: list[list[object]] = [["poll", "participant", "name", "choice"]]
    for poll_id, result in sorted(results.items()):
        rules = recorded.polls[poll_id].rules or {}
        labels = [MOTION_LABELS.get(label, label) for label in rules.get("options", [])]
        counted = "; ".join(f"{label}: {n}" for label, n in zip(labels, result["counts"], strict=False))
        polls.append(
            [
                poll_id,
                rules.get("item"),
                rules.get("question"),
                rules.get("kind"),
                rules.get("method"),
                rules.get("rule"),
                result["members"],
                result["eligible"],
                result["ballots"],
                counted,
                result["passed"],
            ]
        )
        for voter in result.get("voters") or []:
            chosen = ", ".join(labels[i] for i in voter["choice"] if i < len(labels))
            votes.append([poll_id, voter["participantId"], voter["displayName"], chosen])
    return {"attendance.csv": _csv(attendance), "polls.csv": _csv(polls), "named-votes.csv": _csv(votes)}


def _chain_json(meeting_id: int, entries: Sequence[AuditEntry]) -> bytes:
    links = [
        {
            "seq": e.seq,
            "action": e.action,
            "payload": e.payload,
            "at": e.at,
            "prevHash": e.prev_hash,
            "hash": e.hash,
        }
        for e in entries
    ]
    return json.dumps({"meeting": meeting_id, "entries": links}, ensure_ascii=False, indent=1).encode()


def _bound(entries: Sequence[AuditEntry]) -> int:
    """The position of the head the approved minutes print: the entry before their approval."""
    approval = next((e for e in entries if e.action == "minutes.approve"), None)
    return approval.seq - 1 if approval is not None else 0


async def write_bundle(session: AsyncSession, store: BlobStore, access: MeetingAccess) -> Path:
    """The archived meeting's package, as a temporary ZIP file the caller sends and deletes."""
    access.require_manager()
    meeting = access.meeting
    if meeting.status != MeetingStatus.archived:
        raise InvalidState(
            Code.MEETING_NOT_ARCHIVED,
            f"meeting {meeting.id} is {meeting.status}; it is packaged once archived",
        )
    entries = list(
        await session.scalars(
            select(AuditEntry).where(AuditEntry.meeting_id == meeting.id).order_by(AuditEntry.seq)
        )
    )
    copies = list(
        await session.scalars(
            select(MinutesCopy).where(MinutesCopy.meeting_id == meeting.id).order_by(MinutesCopy.number)
        )
    )
    files: dict[str, bytes | Path] = {
        "README.txt": README.encode(),
        MINUTES: store.blob_path(copies[-1].sha256),
    }
    versions = await session.execute(
        select(DocumentVersion, Document)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.meeting_id == meeting.id)
    )
    for version, document in versions.all():
        files[f"documents/{document.id}-{version.id}-{_safe(version.file_name)}"] = store.blob_path(
            version.sha256
        )
    results: dict[int, dict[str, Any]] = {}
    for poll in await session.scalars(
        select(Poll).where(Poll.meeting_id == meeting.id, Poll.result.is_not(None))
    ):
        assert poll.result is not None
        files[f"results/poll-{poll.id}.json"] = poll.result.encode()
        results[poll.id] = json.loads(poll.result)
    for conclusion in await session.scalars(select(Conclusion).where(Conclusion.meeting_id == meeting.id)):
        files[f"conclusions/item-{conclusion.item_id}-v{conclusion.version}.md"] = conclusion.text.encode()
    files.update(tables(replay(entries[: _bound(entries)]), results))
    files[CHAIN] = _chain_json(meeting.id, entries)
    target = store.temporary(".zip")
    await anyio.to_thread.run_sync(_write_zip, target, meeting.id, meeting.title, files)
    return target


def _write_zip(target: Path, meeting_id: int, title: str, files: dict[str, bytes | Path]) -> None:
    listed = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in sorted(files.items()):
            data = content.read_bytes() if isinstance(content, Path) else content
            bundle.writestr(name, data)
            listed.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        manifest = {"meeting": meeting_id, "title": title, "files": listed}
        bundle.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))


# --------------------------------------------------------------------------------------------- check


@dataclass(frozen=True)
class BundleCheck:
    """The verdict on a package: the first problem found, or None; and what was checked."""

    problem: str | None
    summary: str


class _Refused(Exception):
    """A problem with the package; its message says what."""


def check_bundle(path: Path, trust_roots: Sequence[x509.Certificate]) -> BundleCheck:
    """Check an archive package offline (no database): see the module's docstring for how."""
    try:
        return BundleCheck(None, _check(path, trust_roots))
    except _Refused as refused:
        return BundleCheck(str(refused), "")
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        return BundleCheck(f"the package is damaged or not an archive package: {exc}", "")


def _check(path: Path, trust_roots: Sequence[x509.Certificate]) -> str:
    from meeting.docs.signing import verify_pdf

    with zipfile.ZipFile(path) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist() if not name.endswith("/")}
    manifest = json.loads(files.pop(MANIFEST))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    if set(listed) != set(files):
        raise _Refused(f"the files differ from the manifest: {sorted(set(listed) ^ set(files))}")
    for name, data in sorted(files.items()):
        if hashlib.sha256(data).hexdigest() != listed[name]:
            raise _Refused(f"{name} does not match its sha256 in the manifest")

    meeting_id = int(manifest["meeting"])
    chain = json.loads(files[CHAIN])
    entries = [
        AuditEntry(
            meeting_id=meeting_id,
            seq=link["seq"],
            action=link["action"],
            payload=link["payload"],
            at=link["at"],
            prev_hash=link["prevHash"],
            hash=link["hash"],
        )
        for link in chain["entries"]
    ]
    broken = check_chain(meeting_id, entries, None)
    if chain["meeting"] != meeting_id or broken is not None:
        raise _Refused(f"{CHAIN} does not hold: {broken.reason if broken else 'another meeting'}")

    report = verify_pdf(files[MINUTES], trust_roots)
    if not report.signatures:
        raise _Refused(f"{MINUTES} carries no signature")
    for signature in report.signatures:
        if not signature.intact or signature.modified:
            raise _Refused(
                f"{MINUTES}: the signature of {signature.signer} does not hold ({signature.changes})"
            )
    printed = CHAIN_HEAD.search(_text(files[MINUTES]))
    if printed is None:
        raise _Refused(f"{MINUTES} prints no chain head")
    seq, digest = int(printed[1]), printed[2]
    if seq != _bound(entries) or entries[seq - 1].hash != digest:
        raise _Refused(
            f"the chain head printed in {MINUTES} (entry {seq}) is not the chain's at the approval"
        )

    recorded = replay(entries[:seq])
    expected: dict[str, str] = {}
    for version_id, (document_id, sha256) in recorded.versions.items():
        expected[f"documents/{document_id}-{version_id}-"] = sha256
    for poll_id, facts in recorded.polls.items():
        if facts.result_hash is not None:
            expected[f"results/poll-{poll_id}.json"] = facts.result_hash
    for (item, version), sha256 in recorded.conclusions.items():
        expected[f"conclusions/item-{item}-v{version}.md"] = sha256
    recorded_files = [n for n in files if n.startswith(("documents/", "results/", "conclusions/"))]
    for name in recorded_files:
        key = name if not name.startswith("documents/") else re.sub(r"^(documents/\d+-\d+-).*", r"\1", name)
        if expected.pop(key, None) != hashlib.sha256(files[name]).hexdigest():
            raise _Refused(f"{name} is not what the chain records")
    if expected:
        raise _Refused(f"the package lacks what the chain records: {sorted(expected)}")
    results = {
        int(n[len("results/poll-") : -len(".json")]): json.loads(files[n])
        for n in files
        if n.startswith("results/")
    }
    for name, data in tables(recorded, results).items():
        if files.get(name) != data:
            raise _Refused(f"{name} is not what the chain and the results give")
    signers = ", ".join(
        f"{s.signer} ({'trusted' if s.trusted else 'not chained to a configured root'})"
        for s in report.signatures
    )
    return (
        f"bundle ok: meeting {meeting_id}, {len(files)} files, chain of {len(entries)} entries bound at "
        f"entry {seq} by the minutes signed by {signers}"
    )


def _text(pdf: bytes) -> str:
    # In this process: the check runs from the command line, on a package the operator chose, never
    # inside the server (whose PDF work stays in its guarded workers).
    import pymupdf  # type: ignore[import-untyped]

    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        text = " ".join(page.get_text() for page in document)
    return " ".join(text.split())
