"""Reading either backend with one query: what a read command needs beyond ``execute``.

The read commands' SQL is written once, with SQLite's placeholders; on PostgreSQL it runs
through ``collector.storage.postgres.reading.Reader``, which takes the same statements. A
read connection here is a ``sqlite3.Connection`` (read-only) or such a ``Reader``; the few
things whose words differ (a table's columns, a cursor that streams, one snapshot for
several queries) are these functions, so no query is written twice.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager, nullcontext


def is_reader(conn) -> bool:
    """A PostgreSQL ``Reader`` (else a ``sqlite3.Connection``)."""
    return getattr(conn, "postgres", False)


def columns(conn, table: str) -> list[tuple[str, str]]:
    """(name, declared type, upper case) of a table's or view's columns, in order."""
    if is_reader(conn):
        return conn.columns(table)
    return [(r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({table})")]


@contextmanager
def stream(conn, sql: str, params=()):
    """A cursor over ``sql`` whose rows are fetched as they are read (``fetchmany``)."""
    if is_reader(conn):
        with conn.stream(sql, params) as cur:
            yield cur
        return
    yield conn.execute(sql, params)


def snapshot(conn):
    """Several queries that must see one state of the database (SQLite: one read transaction)."""
    if is_reader(conn):
        return conn.snapshot()
    return _sqlite_snapshot(conn) if isinstance(conn, sqlite3.Connection) else nullcontext(conn)


@contextmanager
def _sqlite_snapshot(conn: sqlite3.Connection):
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
