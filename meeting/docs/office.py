"""Office files (Word, Excel, PowerPoint, OpenDocument) become PDF through LibreOffice headless.

LibreOffice is a large C++ program parsing hostile files, and it can run macros and follow links.
Each conversion therefore gets a fresh directory of its own (outside the data directory), holding a
copy of the file, a new LibreOffice profile whose settings turn macros off, and the output; it runs
through `office_sandbox.py` (the kernel's limits on memory, CPU time, file size and open files, no core
dumps, `nobody` instead of root, Landlock: only the system's files readable, only its own directory
writable, no TCP) in a process group of its own, with no variable of the server's environment but
`PATH`, and is killed with its whole group when its time is up. The PDF it writes is then checked by
the PDF workers like any upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import pwd
import shutil
import signal
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from meeting.docs.worker import LANDLOCK_ABI

log = logging.getLogger("meeting.docs.office")
_warned: list[bool] = []

SANDBOX = Path(__file__).resolve().parent / "office_sandbox.py"
# The file name extensions LibreOffice converts here, with the media type an original is sent as.
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
ACCEPTED = "DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT"
_OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_ODF_TYPES = {
    f"application/vnd.oasis.opendocument.{kind}": ext
    for kind, ext in (("text", "odt"), ("spreadsheet", "ods"), ("presentation", "odp"))
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LEGACY = {"doc", "xls", "ppt"}
WORKER_ACCOUNT = "nobody"

# The profile's settings: no macro runs, whatever the document asks (the highest security level, and
# macro execution switched off), and no link to an untrusted place is followed.
_SCRIPTING = "/org.openoffice.Office.Common/Security/Scripting"
REGISTRY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
    + "".join(
        f'<item oor:path="{_SCRIPTING}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>\n"
        for name, value in (
            ("MacroSecurityLevel", "3"),
            ("DisableMacrosExecution", "true"),
            ("BlockUntrustedRefererLinks", "true"),
        )
    )
    + "</oor:items>\n"
)


class ConversionFailed(Exception):
    """LibreOffice did not make a PDF of the file (it failed, crashed, or ran out of time)."""


def soffice(program: str) -> str | None:
    """The LibreOffice program (`soffice`, or a path), or None where it is not installed."""
    return shutil.which(program)


def available(program: str) -> bool:
    """Whether Office files can be converted on this machine."""
    return soffice(program) is not None


def office_kind(path: Path, file_name: str) -> str | None:
    """The Office format of a file, from its content ("docx" … "ppt"), or None.

    OOXML and OpenDocument files are ZIP archives named by what they hold; the legacy formats share one
    container (OLE2), told apart by the file's extension.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    # Read only its start: the archive is the uploader's, and a member may be a bomb.
                    with archive.open("mimetype") as member:
                        mimetype = member.read(100).decode("ascii", "replace").strip()
                    return _ODF_TYPES.get(mimetype)
                if "[Content_Types].xml" in names:
                    for prefix, kind in _OOXML_PARTS.items():
                        if any(name.startswith(prefix) for name in names):
                            return kind
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        return None
    if head == _OLE:
        suffix = PurePosixPath(file_name.lower()).suffix.lstrip(".")
        return suffix if suffix in _LEGACY else "doc"
    return None


def _environment(home: Path) -> dict[str, str]:
    # Nothing of the server's environment (DATABASE_URL, MEETING_SECRET_KEY …) but PATH.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
    }


def _pipe(profile_url: str) -> Path:
    """Where LibreOffice puts the single-instance socket of a profile: /tmp, named by the converting
    account and the MD5 of the profile's URL in UTF-16 (each byte in hex, unpadded, as LibreOffice
    writes it). A conversion that is killed leaves it behind, so it is removed afterwards."""
    uid = pwd.getpwnam(WORKER_ACCOUNT).pw_uid if os.geteuid() == 0 else os.getuid()
    digest = hashlib.md5(profile_url.encode("utf-16-le"), usedforsecurity=False).digest()
    return Path("/tmp") / f"OSL_PIPE_{uid}_SingleOfficeIPC_{''.join(f'{byte:x}' for byte in digest)}"


def _hand_over(directory: Path) -> None:
    """Give the conversion's directory to `nobody` when the server runs as root (it converts as nobody)."""
    if os.geteuid() != 0:
        return
    account = pwd.getpwnam(WORKER_ACCOUNT)
    for root, folders, files in os.walk(directory):
        for name in [root, *(os.path.join(root, entry) for entry in folders + files)]:
            os.chown(name, account.pw_uid, account.pw_gid)


def _prepare(source: Path, kind: str) -> tuple[Path, Path]:
    directory = Path(tempfile.mkdtemp(prefix="meeting-office-"))
    for folder in ("profile/user", "in", "out", "tmp"):
        (directory / folder).mkdir(parents=True)
    (directory / "profile" / "user" / "registrymodifications.xcu").write_text(REGISTRY)
    document = directory / "in" / f"document.{kind}"
    shutil.copyfile(source, document)
    _hand_over(directory)
    return directory, document


async def convert(
    program: str, source: Path, kind: str, out: Path, *, timeout: float, memory_bytes: int
) -> None:
    """Convert an Office file to PDF at `out`.

    Raises:
        ConversionFailed: LibreOffice is missing, failed, crashed, or took longer than `timeout`.
    """
    found = soffice(program)
    if found is None:
        raise ConversionFailed("LibreOffice is not installed on the server")
    if not LANDLOCK_ABI and os.geteuid() != 0 and not _warned:
        _warned.append(True)
        log.warning(
            "this kernel has no Landlock and the server does not run as root: LibreOffice can read the "
            "files of the server's account (see docs/security.md)"
        )
    directory, document = await asyncio.to_thread(_prepare, source, kind)
    profile = (directory / "profile").as_uri()
    try:
        command = [
            sys.executable, "-I", str(SANDBOX), "--dir", str(directory), "--memory", str(memory_bytes),
            "--cpu", str(int(timeout) + 1), "--",
            found, f"-env:UserInstallation={profile}",
            "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
            "--convert-to", "pdf", "--outdir", str(directory / "out"), str(document),
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_environment(directory),
            cwd=directory,
            start_new_session=True,  # its own process group: killed whole, helpers included
        )
        try:
            _, errors = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            raise ConversionFailed(f"the conversion took longer than {timeout:g} s and was stopped") from None
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        result = directory / "out" / "document.pdf"
        if process.returncode != 0 or not result.exists() or result.stat().st_size == 0:
            reason = errors.decode("utf-8", "replace").strip().splitlines()[-1:] if errors else []
            raise ConversionFailed(
                "LibreOffice could not convert it" + (f" ({reason[0][:200]})" if reason else "")
            )
        await asyncio.to_thread(shutil.copyfile, result, out)
    finally:
        await asyncio.to_thread(shutil.rmtree, directory, True)
        with contextlib.suppress(OSError):
            _pipe(profile).unlink(missing_ok=True)
