"""Shared fixtures: a fresh database and config folder per test, and the real CLI."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_dbf7eac3a2e765a4.txt"
CORPUS = SHARED / "corpus"


def needs_shared(path: Path = SHARED):
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is absent: the shared corpus is not beside the repo")


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A copy of the repo's configs/ plus the example sites, extendable per test."""
    target = tmp_path / "configs"
    shutil.copytree(REPO / "configs", target)
    for yaml in (REPO / "examples" / "configs" / "sites").glob("*.yaml"):
        shutil.copy(yaml, target / "sites" / yaml.name)
    return target


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture
def context(db_path, config_dir):
    from collector.context import Context

    ctx = Context({"COLLECTOR_DB": str(db_path), "COLLECTOR_CONFIG": str(config_dir)})
    yield ctx
    ctx.close()


def run_cli(*args, db=None, config=None, check=True, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real ``collector`` command in a subprocess."""
    cmd = [sys.executable, "-m", "collector"]
    if db is not None:
        cmd += ["--db", str(db)]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += [str(a) for a in args]
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=full_env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()
