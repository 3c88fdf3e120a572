"""Start LibreOffice behind a wall: `python -I office_sandbox.py --dir D --memory B --cpu S -- soffice …`.

A script of its own, started fresh by the server for each conversion (never imported by the server,
and importing nothing of the project): it sets the kernel's limits, gives up root for `nobody`, shuts
itself off with Landlock from every path but the system's read-only files and the conversion's own
directory, and from TCP, then replaces itself with LibreOffice, which inherits all of it.
"""

from __future__ import annotations

import argparse
import os
import pwd
import resource
import sys
from typing import Any

# The system's files LibreOffice reads (its program, libraries, fonts, locale data); nothing else of
# the machine's is readable, and only the conversion's directory is writable.
SYSTEM_READ = (
    *("/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/opt"),
    *("/var/cache/fontconfig", "/var/lib/libreoffice", "/var/spool/libreoffice", "/proc", "/sys"),
)
SYSTEM_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
WORKER_ACCOUNT = "nobody"
OPEN_FILES = 1024
FILE_BYTES = 1024 * 1024 * 1024


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no copy of a confidential file


def _unprivileged() -> None:
    if os.geteuid() != 0:
        return
    account = pwd.getpwnam(WORKER_ACCOUNT)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)


def _wall(directory: str) -> Any:
    """The Landlock ruleset, built while the script still runs as the server's account (the library
    is loaded from the server's environment); None when the kernel has none."""
    try:
        from py_landlock import AccessFs, Landlock, LandlockError
    except ImportError:
        return None
    try:
        wall = Landlock(strict=False)
        if not wall.abi_version:
            return None
    except LandlockError:
        return None
    # From here on a failure stops the conversion: a kernel with Landlock never converts unwalled.
    wall.allow_read(*(path for path in SYSTEM_READ if os.path.exists(path)))
    wall.allow_execute(*(path for path in ("/usr", "/bin", "/lib", "/lib64") if os.path.exists(path)))
    wall.allow_read_write(directory)
    # LibreOffice's single-instance pipe is a Unix socket it creates (and removes) in /tmp, wherever
    # TMPDIR points; nothing else may be made or removed there.
    wall.add_path_rule("/tmp", access=AccessFs.MAKE_SOCK | AccessFs.REMOVE_FILE)
    # Devices are files: a rule on one may grant only file rights.
    devices = [path for path in SYSTEM_DEVICES if os.path.exists(path)]
    wall.add_path_rule(*devices, access=AccessFs.READ_FILE | AccessFs.WRITE_FILE)
    return wall


def main(argv: list[str]) -> None:
    """Limit, drop privileges, wall off, then exec the command after `--`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--memory", type=int, default=0)
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    _limit(args.memory, args.cpu)
    wall = _wall(args.dir)
    _unprivileged()
    if wall is None:
        print("office sandbox: no Landlock on this kernel", file=sys.stderr)
    else:
        wall.apply()  # TCP: no rule allows a port, so neither connect nor bind is possible
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
