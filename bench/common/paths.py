"""Where things are: the repository, its bench/ and tests/ folders, the reports' folder, and
the shared corpus beside the repository (``$COLLECTOR_SHARED`` names another parent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
TESTS = REPO / "tests"
CONFIGS = REPO / "configs"
OUT = BENCH / "out"


def shared() -> Path:
    """``../shared`` (read each time, so a test can point ``COLLECTOR_SHARED`` elsewhere)."""
    return Path(os.environ.get("COLLECTOR_SHARED") or REPO.parent / "shared")


def importable() -> None:
    """Put the repository (``collector``, ``pipelines``, ``bench``) and ``tests/`` on the path."""
    for folder in (TESTS, REPO):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


importable()
