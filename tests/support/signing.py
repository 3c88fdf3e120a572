"""Demo signing for tests that sign through the API, as `meeting serve --demo` sets it up."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from meeting.docs.demo_ca import DEMO_CA_DIR, ensure_demo_ca

if TYPE_CHECKING:
    from meeting.settings import Settings


def with_demo_signing(settings: Settings) -> Settings:
    """The settings with demo signing on, and demo certificates for the council's secretary and chair."""
    ensure_demo_ca(settings.data_dir / DEMO_CA_DIR, [("secretary", "Secretary"), ("chair", "Chair")])
    return dataclasses.replace(settings, demo_signing=True)
