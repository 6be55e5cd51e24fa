"""Damaged, truncated, foreign, read-only databases and read-only folders: every command
says so in one line naming the file, exits with status 2, writes nothing into a damaged
file, and read commands work on a read-only database.

Root ignores file permissions, so the read-only cases run the command without the
capabilities that let it (``setpriv``), as any other user would be.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, invoke_cli
from sites_server import site_config
from textgen import article

DAMAGE = ["garbage", "truncated", "text"]
READ_ONLY = ["file", "folder"]
_SETPRIV = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def as_unprivileged() -> list[str]:
    """The command prefix under which file permissions apply (none for a normal user)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
    return _SETPRIV


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(a database of 12 documents, the folder imported, a config with a crawlable site)."""
    root = tmp_path_factory.mktemp("good")
    inputs = root / "in"
    inputs.mkdir()
    for i in range(12):
        title, paragraphs = article(800 + i, paragraphs=3)
        (inputs / f"d{i:02d}.txt").write_text("\n".join([title, *paragraphs]) + "\n", encoding="utf-8")
    config = root / "configs"
    site_config(config, "nowhere", name="Nowhere News", domains=["127.0.0.1:9"], sitemaps=["http://127.0.0.1:9/sitemap.xml"],
                schedule="* * * * *")
    db = root / "good.db"
    _cli(db, config, "import", "--workers", "1", inputs, check=True)
    return db, inputs, config


#: Commands that may block or need a process of their own (a crawl's reactor, a scheduler, a server).
_OWN_PROCESS = {"crawl", "schedule", "serve"}


def _cli(db, config, *args, prefix=(), check=False, timeout=60) -> subprocess.CompletedProcess:
    """The command in this process, or in a subprocess for another user (``prefix``) or one of ``_OWN_PROCESS``."""
    if not prefix and args[0] not in _OWN_PROCESS:
        result = invoke_cli(*args, db=db, config=config, check=False)
        assert not check or result.returncode == 0, result.stderr
        return result
    cmd = [*prefix, sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=timeout)
    assert not check or result.returncode == 0, result.stderr
    return result


def _damage(good_db: Path, kind: str, target: Path) -> Path:
    shutil.copy(good_db, target)
    size = target.stat().st_size
    with open(target, "r+b") as f:
        if kind == "garbage":  # a page in the middle overwritten
            f.seek((size // 4096 // 2) * 4096)
            f.write(bytes(range(256)) * 16)
        elif kind == "truncated":
            f.truncate(size // 2)
        else:  # the --db path names a text file
            f.truncate(0)
            f.write(b"meeting notes, not a database\n" * 50)
    return target


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(result: subprocess.CompletedProcess, db: Path, *words: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert str(db) in lines[0] and all(w in lines[0] for w in words), lines[0]
    return lines[0]


WRITERS = [("import", "--workers", "1", "{inputs}"), ("crawl",), ("schedule",)]
READERS = [("stats",), ("lineage", "1"), ("serve", "--port", "0")]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_database_is_one_line_for_every_command(good, tmp_path, kind):
    good_db, inputs, config = good
    db = _damage(good_db, kind, tmp_path / f"{kind}.db")
    before = _digest(db)
    advice = "backup"
    for command in WRITERS + READERS:
        args = [a.format(inputs=inputs) for a in command]
        result = _cli(db, config, *args, timeout=30)
        _one_line(result, db, advice)
        assert _digest(db) == before, f"{command[0]} wrote into the damaged file"
        assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def _read_only(good_db: Path, tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "ro.db"
    shutil.copy(good_db, db)
    db.chmod(0o444)
    if kind == "folder":
        folder.chmod(0o555)
    return db


@pytest.mark.parametrize("kind", READ_ONLY)
def test_a_read_only_database_reads_and_refuses_writes_in_one_line(good, tmp_path, kind):
    good_db, inputs, config = good
    prefix = as_unprivileged()
    db = _read_only(good_db, tmp_path, kind)
    try:
        for command in WRITERS:
            args = [a.format(inputs=inputs) for a in command]
            _one_line(_cli(db, config, *args, prefix=prefix, timeout=30), db, "read-only", "permissions")
        stats = _cli(db, config, "stats", "--json", prefix=prefix)
        assert stats.returncode == 0, stats.stderr
        assert '"documents": 12' in stats.stdout
        lineage = _cli(db, config, "lineage", "1", prefix=prefix)
        assert lineage.returncode == 0 and "ORIGIN" in lineage.stdout, lineage.stderr
        _serve_answers(db, config, prefix)
    finally:
        db.parent.chmod(0o755)


def _serve_answers(db, config, prefix) -> None:
    cmd = [*prefix, sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "serve", "--port", "0"]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "serving" in line, line
        base = line.split(" at ", 1)[1].split()[0]
        for path in ("", f"{Path(db).stem}/documents/1", "-/lineage/1"):
            with urllib.request.urlopen(base + path, timeout=10) as answer:
                assert answer.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_a_missing_folder_and_a_folder_as_database_are_one_line(good, tmp_path):
    _, inputs, config = good
    _one_line(_cli(tmp_path / "no" / "such" / "x.db", config, "import", "--workers", "1", inputs), tmp_path / "no")
    _one_line(_cli(tmp_path, config, "stats"), tmp_path, "folder")
