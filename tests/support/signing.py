"""Demo signing for tests that sign through the API, as `meeting serve --demo` sets it up."""

from __future__ import annotations

import dataclasses
import shutil
from typing import TYPE_CHECKING

from meeting.docs.demo_ca import DEMO_CA_DIR, ensure_demo_ca

if TYPE_CHECKING:
    from pathlib import Path

    from meeting.settings import Settings

DEMO_SIGNERS = [("secretary", "Secretary"), ("chair", "Chair")]


def make_demo_ca(directory: Path) -> Path:
    """The demo root and the secretary's and chair's PKCS#12 files under `directory` (three RSA keys:
    about a quarter of a second each on the 2-core machine, so a run makes them once)."""
    ensure_demo_ca(directory, DEMO_SIGNERS)
    return directory


def with_demo_signing(settings: Settings, template: Path) -> Settings:
    """The settings with demo signing on, and demo certificates for the council's secretary and chair.

    The test's data directory gets its own copy of the run's demo CA (`make_demo_ca`); `ensure_demo_ca`
    then loads and checks it as `meeting serve --demo` does on a restart, and keeps what is usable.
    """
    directory = settings.data_dir / DEMO_CA_DIR
    shutil.copytree(template, directory)
    ensure_demo_ca(directory, DEMO_SIGNERS)
    return dataclasses.replace(settings, demo_signing=True)
