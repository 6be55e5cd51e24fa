"""The database file: opened for reading or writing, checked, and what is wrong said in one line.

Several processes share one SQLite file (a scheduled crawl, an import, readers). The ways
a file can be unusable (damaged, truncated, not a database, read-only, in a read-only
folder, on a full disk) all reach the user as a ``StoreError`` whose message names the
file, the problem and what to do; the CLI prints it and exits with ``exit_status``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collector.core.errors import StoreBusy, StoreError  # noqa: F401  (raised here; defined with every error)

#: How long ``PRAGMA quick_check`` may run when a database is opened (COLLECTOR_QUICK_CHECK_SECONDS):
#: it reads every page, about 1 s per GB here; a larger file is checked in part, and damage
#: found later still gets the one-line error.
QUICK_CHECK_SECONDS = 1.0

# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB, _PERM = 5, 6, 8, 10, 11, 13, 14, 26, 3

_RESTORE = "restore it from a backup, or save what is left with: sqlite3 {path} .recover | sqlite3 recovered.db"
_ADVICE = {
    _CORRUPT: ("the database is damaged ({detail})", _RESTORE),
    _NOTADB: ("not an SQLite database ({detail})", "check the --db path, or restore the file from a backup"),
    _IOERR: ("cannot read or write the file ({detail}): a truncated or damaged file, or a failing disk",
             "check the disk, then " + _RESTORE),
    _FULL: ("the disk is full ({detail})", "free some space and run the same command again"),
    _READONLY: ("cannot write: the database or its folder is read-only ({detail})",
                "check permissions: a writer needs the file and its folder writable; read commands work on a read-only database"),
    _CANTOPEN: ("cannot open the database ({detail})", "check the path and the permissions of the file and its folder"),
    _PERM: ("permission denied ({detail})", "check the permissions of the file and its folder"),
}



def error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF
    text = str(exc).lower()  # before Python 3.11 only the message tells
    for needle, primary in (("locked", _BUSY), ("malformed", _CORRUPT), ("not a database", _NOTADB),
                            ("readonly", _READONLY), ("disk i/o", _IOERR), ("unable to open", _CANTOPEN)):
        if needle in text:
            return primary
    return None


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and error_code(exc) in (_BUSY, _LOCKED)


def _server_gone(exc: BaseException) -> bool:
    """A PostgreSQL error of the connection, the server's resources or the server itself
    (no SQLSTATE: the connection is gone; classes 08, 53, 57, 58), not one statement's."""
    if not type(exc).__module__.startswith("psycopg"):
        return False
    state = getattr(exc, "sqlstate", None)
    if state is None:  # raised by psycopg itself: only a lost connection is the server's
        return any(c.__name__ in ("OperationalError", "InterfaceError") for c in type(exc).__mro__)
    return state.startswith(("08", "53", "57", "58"))


def explain(path: str, exc: BaseException) -> StoreError | None:
    """The one-line ``StoreError`` for a problem of the database file itself, or None when
    ``exc`` is about one statement or document (a constraint, a value too big)."""
    if isinstance(exc, StoreError):
        return exc
    if _server_gone(exc):
        from .postgres.connection import redacted

        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreError(f"{redacted(path)}: PostgreSQL: {detail}; the open batch was not committed:"
                          " run the same command again when the server is back")
    if not isinstance(exc, sqlite3.Error):
        return None
    code = error_code(exc)
    if code in (_BUSY, _LOCKED):
        return StoreBusy(f"{path}: the database stayed locked by another writer ({exc}); nothing was lost: run the same command again")
    if code not in _ADVICE:
        return None
    problem, advice = _ADVICE[code]
    return StoreError(f"{path}: {problem.format(detail=exc)}: {advice.format(path=path)}")


def quick_check(conn: sqlite3.Connection, path: str, seconds: float = QUICK_CHECK_SECONDS) -> None:
    """``PRAGMA quick_check`` for at most ``seconds``: a damaged page raises ``StoreError``."""
    if seconds <= 0:
        return
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            return  # checked in part: large file, the rest is checked as it is read
        raise
    finally:
        conn.set_progress_handler(None, 0)
    if rows and rows[0][0] != "ok":
        found = " ".join(rows[0][0].replace("*** in database main ***", "").split())
        raise StoreError(f"{path}: the database is damaged (quick_check: {found}): {_RESTORE.format(path=path)}")


def check_writable(path: str) -> None:
    """A writer needs the file and, for its -wal and -shm files, the folder writable."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreError(f"{path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise StoreError(f"{path}: a folder, not a database file")
    needs_folder = not all(os.path.exists(path + suffix) for suffix in ("-wal", "-shm"))
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise StoreError(f"{path}: cannot write: the file is read-only: check permissions"
                         " (read commands work on a read-only database)")
    if (needs_folder or not os.path.exists(path)) and not os.access(folder, os.W_OK):
        raise StoreError(
            f"{path}: cannot write: its folder {folder} is read-only (SQLite creates the database's -wal and -shm files there):"
            " check permissions; read commands work on a read-only database"
        )


def open_for_reading(path: str, check_seconds: float = QUICK_CHECK_SECONDS) -> sqlite3.Connection:
    """A read-only connection (never writes, works on read-only files and folders), checked."""
    if not os.path.exists(path):
        raise StoreError(f"{path}: no such database (import or crawl something first)")
    if os.path.isdir(path):
        raise StoreError(f"{path}: a folder, not a database file")
    uri = "file:" + _quote(os.path.abspath(path)) + "?mode=ro"
    try:
        try:
            conn = _probe(sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30))
        except sqlite3.OperationalError as exc:
            if error_code(exc) not in (_READONLY, _CANTOPEN):
                raise
            # A WAL database in a read-only folder without its -shm file: nothing can write
            # there, so the file is read as it is.
            conn = _probe(sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False))
        quick_check(conn, path, check_seconds)
        return conn
    except sqlite3.Error as exc:
        raise explain(path, exc) or StoreError(f"{path}: {exc}") from exc


def _probe(conn: sqlite3.Connection) -> sqlite3.Connection:
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path)
