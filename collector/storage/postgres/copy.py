"""Moving a SQLite store into PostgreSQL (``collector migrate-store FROM TO``).

Every table's rows are copied by ``COPY`` with their ids, in one transaction of the target's
writer (under its lock): a kill leaves the target as it was, and the same command again
does the whole copy. The LSH rows are copied as they are (the same band keys), the
full-text column and ``chrome_counts`` fill themselves as documents arrive (the generated
column, the trigger), and the identity sequences continue after the highest ids copied.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from collector.core.errors import StoreError

from ..dbfile import open_for_reading
from .connection import redacted
from .store import PgStore

#: In an order that keeps every foreign key satisfied.
TABLES = ("sites", "documents", "claims", "links", "url_aliases", "rule_sets", "raw_inputs", "chrome_lines",
          "line_sightings", "lsh_buckets", "lsh_recent", "source_validators", "runs", "reprocess_queue")
_IDENTITIES = ("documents", "claims", "runs")
_ROWS_PER_READ = 5000


def _columns(conn, table: str) -> list[str]:
    """The target table's columns that are written (not generated)."""
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND is_generated = 'NEVER'"
        " ORDER BY ordinal_position", (table,))]


def copy_sqlite_to_postgres(source: str, target: str, progress: Callable[[str, int], None] | None = None) -> dict:
    """Copy the SQLite store at ``source`` into the PostgreSQL database ``target`` (new, or
    holding no documents); returns rows copied per table."""
    reader = open_for_reading(source)
    store = PgStore(target)
    try:
        _check(reader, store, source, target)
        store.begin()
        copied = {table: _copy_table(reader, store, table, progress) for table in TABLES}
        for table in _IDENTITIES:
            store.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false)"
                               f" FROM {table}")
        store.commit()
        return copied
    except BaseException:
        store.rollback()
        raise
    finally:
        store.close()
        reader.close()


def _check(reader: sqlite3.Connection, store: PgStore, source: str, target: str) -> None:
    if store.conn.execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0]:
        raise StoreError(f"{redacted(target)}: already holds documents: migrate-store copies into a new database only")
    theirs = dict(reader.execute("SELECT key, value FROM fingerprint_params"))
    ours = dict(store.conn.execute("SELECT key, value FROM fingerprint_params").fetchall())
    if theirs != ours:
        raise StoreError(f"{source}: signatures were made with {theirs}, this version makes {ours}:"
                         " run `collector refingerprint` on it first")


def _copy_table(reader: sqlite3.Connection, store: PgStore, table: str, progress) -> int:
    present = {r[1] for r in reader.execute(f"PRAGMA table_info({table})")}
    columns = [c for c in _columns(store.conn, table) if c in present]
    if not columns:
        return 0  # a database from before this table
    cursor = reader.execute(f"SELECT {', '.join(columns)} FROM {table}")
    count = 0
    with store.conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while rows := cursor.fetchmany(_ROWS_PER_READ):
            for row in rows:
                copy.write_row(row)
            count += len(rows)
            if progress:
                progress(table, count)
    return count
