"""What a test over both backends (the ``db_url`` fixture) needs to look at a store from the
side: another connection, whether it could take the writer's lock now, the full-text index."""

from __future__ import annotations

import sqlite3

from collector.storage import is_postgres

try:
    import psycopg
except ImportError:  # the PostgreSQL tests are skipped then
    psycopg = None

#: What reading a database that is not (fully) created yet may raise, on either backend.
READ_ERRORS = (sqlite3.OperationalError,) + ((psycopg.Error,) if psycopg else ())


def postgres(store_or_url) -> bool:
    return is_postgres(getattr(store_or_url, "url", None) or str(getattr(store_or_url, "path", store_or_url)))


def other_connection(store):
    """A second connection to the store's database, outside any transaction."""
    if postgres(store):
        from collector.storage.postgres.connection import connect

        return connect(store.url, "test")
    return sqlite3.connect(store.path, isolation_level=None, timeout=0)


def can_write_now(other) -> bool:
    """Whether ``other`` (``other_connection``) gets the writer's lock at once; released again."""
    if isinstance(other, sqlite3.Connection):
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        other.execute("COMMIT")
        return True
    from collector.storage.postgres.store import WRITER_LOCK

    return other.execute("SELECT pg_try_advisory_lock(?)", (WRITER_LOCK,)).fetchone()[0] and \
        other.execute("SELECT pg_advisory_unlock(?)", (WRITER_LOCK,)).fetchone()[0]


def fts_ids(conn, *words: str) -> list[int]:
    """Documents whose full-text index holds any of ``words``, by id."""
    if isinstance(conn, sqlite3.Connection) or not hasattr(conn, "raw"):
        rows = conn.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", (" OR ".join(words),))
    else:
        rows = conn.execute("SELECT id FROM documents WHERE fts @@ to_tsquery('simple', ?)", (" | ".join(words),))
    return sorted(r[0] for r in rows)


def fts_count(conn) -> int:
    """Documents in the full-text index."""
    if isinstance(conn, sqlite3.Connection) or not hasattr(conn, "raw"):
        return conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0]
    return conn.execute("SELECT count(*) FROM documents WHERE fts IS NOT NULL").fetchone()[0]
