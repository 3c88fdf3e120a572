"""What is stored stays private: the data directory is the account's alone, and logs carry no values."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from meeting.db import create_engine

if TYPE_CHECKING:
    from pathlib import Path

    from meeting.settings import Settings


def test_the_data_directory_and_everything_in_it_is_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)  # as an older version, or an operator's mkdir, left it
    (data / "old-notes.txt").write_text("left readable")
    env = {**os.environ, "MEETING_DATA_DIR": str(data), "DATABASE_URL": ""}
    # The demo writes the database, its WAL and the sample documents (the key file is 0600 by itself).
    demo = subprocess.run(
        [sys.executable, "-m", "meeting.cli", "demo"], env=env, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    made = [path for path in data.rglob("*") if path.name != "old-notes.txt"]
    assert any(path.name == "meeting.sqlite3" for path in made)
    assert any(path.suffix == ".pdf" or "blobs" in path.parts for path in made)
    readable = [str(path) for path in made if stat.S_IMODE(path.stat().st_mode) & 0o077]
    assert readable == []


async def test_a_failed_statement_does_not_show_its_values(settings: Settings) -> None:
    engine = create_engine(settings)
    secret = "receipt-hash-that-must-not-be-logged"
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TEMPORARY TABLE t (v TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": secret})
            with pytest.raises(IntegrityError) as failed:
                await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": secret})
    finally:
        await engine.dispose()
    assert secret not in str(failed.value)
